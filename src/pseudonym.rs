//! Keyed pseudonyms: the one place where identities become HMAC tokens.
//!
//! Every component that must name a person without revealing them (audit
//! subjects, PII `pseudonymise` operator, identities handed to internal
//! systems) derives its token here, from the `pseudonym.key` secret. An
//! unkeyed hash of a phone number is no protection (a national number range is
//! enumerable in minutes), so the key never leaves the gateway.

mod identity;
mod vault;

use std::fmt;

use ring::hmac;

pub use identity::{IdKind, Mapping};
pub use vault::{Vault, VaultError};

/// Secret key for all pseudonyms; loaded from the `pseudonym.key` secret.
#[derive(Clone)]
pub struct PseudonymKey {
    key: hmac::Key,
}

/// A stable, keyed pseudonym of one data subject (a phone number in E.164,
/// or a business-scoped user id). Safe to store and log.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjectId(String);

// === impl PseudonymKey ===

impl PseudonymKey {
    /// Builds the key from secret bytes (at least 32 bytes are expected; the
    /// config layer enforces that).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// The pseudonym of a data subject, `sub_` + 32 hex characters
    /// (128 bits of HMAC-SHA-256 over a domain-separated input).
    pub fn subject(&self, identity: &str) -> SubjectId {
        SubjectId(format!("sub_{}", self.hex_tag("subject", identity, 16)))
    }

    /// A stable keyed token for any value in a named domain (for example
    /// `"IBAN_CODE"` or `"wamid"`): the same value in the same domain always
    /// gives the same token, different domains never collide.
    pub fn token(&self, domain: &str, value: &str) -> String {
        self.hex_tag(domain, value, 16)
    }

    /// The pseudonym of an identifier of `kind` (see [`IdKind`]).
    pub fn identity(&self, kind: IdKind, value: &str) -> String {
        format!("{}{}", kind.prefix(), self.token(kind.domain(), value))
    }

    /// Full 32-byte keyed digest of arbitrary bytes in a domain (used for
    /// content digests in audit records).
    pub fn digest(&self, domain: &str, value: &[u8]) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(&(domain.len() as u64).to_be_bytes());
        ctx.update(domain.as_bytes());
        ctx.update(value);
        let tag = ctx.sign();
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    fn hex_tag(&self, domain: &str, value: &str, bytes: usize) -> String {
        let digest = self.digest(domain, value.as_bytes());
        hex(&digest[..bytes])
    }
}

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PseudonymKey(<redacted>)")
    }
}

// === impl SubjectId ===

impl SubjectId {
    /// Wraps a pseudonym read back from storage that this gateway wrote
    /// earlier (for example the consent ledger's audit outbox). It does not
    /// derive anything; callers must only pass stored `sub_…` tokens.
    pub fn from_stored(token: String) -> Self {
        Self(token)
    }

    /// The pseudonym as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_identity_gives_same_subject_and_keys_separate_them() {
        let a = PseudonymKey::new(&[7u8; 32]);
        let b = PseudonymKey::new(&[8u8; 32]);
        assert_eq!(a.subject("+4915100000000"), a.subject("+4915100000000"));
        assert_ne!(a.subject("+4915100000000"), b.subject("+4915100000000"));
        assert!(a.subject("+4915100000000").as_str().starts_with("sub_"));
        assert_eq!(a.subject("+4915100000000").as_str().len(), 36);
    }

    #[test]
    fn domains_do_not_collide() {
        let k = PseudonymKey::new(&[1u8; 32]);
        assert_ne!(k.token("IBAN_CODE", "x"), k.token("EMAIL_ADDRESS", "x"));
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
    }
}
