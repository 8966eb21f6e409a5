//! Identify: which internal system is calling, and may it use this number?
//!
//! Clients present their schleuse token as `Authorization: Bearer …` or as
//! the `access_token` query parameter (Graph API style). Only the token's
//! SHA-256 is configured; lookup is by hash, so no stored value can be
//! replayed and comparison time reveals nothing useful.

use std::collections::HashMap;
use std::sync::Arc;

use http::HeaderMap;
use http::header::AUTHORIZATION;
use ring::digest;

use crate::config::ClientConfig;
use crate::error::ApiError;

/// The configured internal clients, indexed by token hash.
#[derive(Debug, Default)]
pub struct Clients {
    by_token_hash: HashMap<[u8; 32], Arc<ClientConfig>>,
}

/// Transport facts about the connection a request came on.
#[derive(Clone, Debug, Default)]
pub struct PeerInfo {
    /// SHA-256 of the client's TLS certificate, when one was presented.
    pub client_cert_sha256: Option<[u8; 32]>,
}

// === impl Clients ===

impl Clients {
    /// Indexes the configured clients.
    pub fn new(clients: &[ClientConfig]) -> Self {
        let by_token_hash = clients
            .iter()
            .map(|c| (c.token_sha256, Arc::new(c.clone())))
            .collect();
        Self { by_token_hash }
    }

    /// Identifies the caller and checks it may use `phone_number_id`.
    pub fn authorise(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
        peer: &PeerInfo,
        phone_number_id: &str,
    ) -> Result<Arc<ClientConfig>, ApiError> {
        let token = presented_token(headers, query)?;
        let hash = sha256(token.as_bytes());
        let client = self.by_token_hash.get(&hash).ok_or_else(|| {
            ApiError::unauthenticated(
                "ingress.auth.token_unknown",
                "the access token is not valid for this gateway",
            )
        })?;
        if !client.client_cert_sha256.is_empty() {
            let bound = peer
                .client_cert_sha256
                .is_some_and(|c| client.client_cert_sha256.contains(&c));
            if !bound {
                return Err(ApiError::unauthenticated(
                    "ingress.auth.client_certificate",
                    "this token must be used with its registered TLS client certificate",
                ));
            }
        }
        if !client.phone_number_ids.contains(phone_number_id) {
            return Err(ApiError::forbidden(
                "ingress.auth.phone_number_not_allowed",
                format!("client `{}` may not use this phone-number id", client.name),
            ));
        }
        Ok(Arc::clone(client))
    }
}

/// SHA-256 of bytes.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

fn presented_token(headers: &HeaderMap, query: Option<&str>) -> Result<String, ApiError> {
    let header = match headers.get(AUTHORIZATION) {
        None => None,
        Some(v) => {
            let v = v.to_str().ok().and_then(|s| {
                let (scheme, token) = s.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| token.trim().to_owned())
            });
            Some(v.ok_or_else(|| {
                ApiError::unauthenticated(
                    "ingress.auth.malformed",
                    "the Authorization header must be `Bearer <token>`",
                )
            })?)
        }
    };
    let from_query = query.and_then(access_token_param);
    match (header, from_query) {
        (Some(h), Some(q)) if h != q => Err(ApiError::unauthenticated(
            "ingress.auth.conflicting_tokens",
            "the Authorization header and access_token parameter differ",
        )),
        (Some(token), _) | (None, Some(token)) if !token.is_empty() => Ok(token),
        _ => Err(ApiError::unauthenticated(
            "ingress.auth.token_missing",
            "an access token is required (Authorization: Bearer <token>)",
        )),
    }
}

/// The `access_token` query parameter, percent-decoded.
fn access_token_param(query: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == "access_token").then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .filter(|pair| pair.iter().all(u8::is_ascii_hexdigit))
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, b) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeSet;

    use super::*;
    use crate::config::IdentityMode;

    fn clients() -> Clients {
        Clients::new(&[ClientConfig {
            name: "crm".into(),
            token_sha256: sha256(b"secret-token"),
            phone_number_ids: BTreeSet::from(["100".to_string()]),
            identity_mode: IdentityMode::Pseudonym,
            client_cert_sha256: vec![],
            webhook: None,
        }])
    }

    fn bearer(t: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, format!("Bearer {t}").parse().unwrap());
        h
    }

    #[test]
    fn bearer_and_query_tokens_identify_the_client() {
        let peer = PeerInfo::default();
        assert_eq!(
            clients()
                .authorise(&bearer("secret-token"), None, &peer, "100")
                .unwrap()
                .name,
            "crm"
        );
        let c = clients().authorise(
            &HeaderMap::new(),
            Some("a=1&access_token=secret%2Dtoken"),
            &peer,
            "100",
        );
        assert_eq!(c.unwrap().name, "crm");
    }

    #[test]
    fn missing_wrong_and_conflicting_tokens_are_401() {
        let peer = PeerInfo::default();
        let c = clients();
        assert_eq!(
            c.authorise(&HeaderMap::new(), None, &peer, "100")
                .unwrap_err()
                .rule,
            "ingress.auth.token_missing"
        );
        assert_eq!(
            c.authorise(&bearer("nope"), None, &peer, "100")
                .unwrap_err()
                .rule,
            "ingress.auth.token_unknown"
        );
        let err = c
            .authorise(
                &bearer("secret-token"),
                Some("access_token=other"),
                &peer,
                "100",
            )
            .unwrap_err();
        assert_eq!(err.status, http::StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn other_phone_number_ids_are_403() {
        let err = clients()
            .authorise(&bearer("secret-token"), None, &PeerInfo::default(), "200")
            .unwrap_err();
        assert_eq!(err.status, http::StatusCode::FORBIDDEN);
        assert_eq!(err.code, 10);
    }
}
