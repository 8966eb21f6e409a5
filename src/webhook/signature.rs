//! `X-Hub-Signature-256`: HMAC-SHA-256 over the exact body bytes.

use ring::hmac;

use crate::pseudonym::hex;

/// Why a signature was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-Hub-Signature-256` header.
    #[error("the X-Hub-Signature-256 header is missing")]
    Missing,
    /// Not `sha256=` followed by 64 hex characters.
    #[error("the X-Hub-Signature-256 header is malformed")]
    Malformed,
    /// The HMAC does not match.
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Verifies a `sha256=<hex>` header value over `body` in constant time.
pub fn verify(secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_part = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let tag = decode_hex32(hex_part).ok_or(SignatureError::Malformed)?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::verify(&key, body, &tag).map_err(|_| SignatureError::Mismatch)
}

/// The header value for `body`: `sha256=` + lowercase hex.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    format!("sha256={}", hex(hmac::sign(&key, body).as_ref()))
}

fn decode_hex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in text.as_bytes().chunks(2).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_case_2_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn verify_accepts_own_signature_and_rejects_forgeries() {
        let body = br#"{"object":"whatsapp_business_account"}"#;
        let sig = sign(b"app-secret", body);
        assert_eq!(verify(b"app-secret", body, Some(&sig)), Ok(()));
        assert_eq!(
            verify(
                b"app-secret",
                body,
                Some(&sig.to_uppercase().replace("SHA256=", "sha256="))
            ),
            Ok(())
        );
        assert_eq!(
            verify(b"old-secret", body, Some(&sig)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"app-secret", b"{}", Some(&sig)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"app-secret", body, None),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(b"app-secret", body, Some("sha1=abc")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(b"app-secret", body, Some("sha256=zz")),
            Err(SignatureError::Malformed)
        );
    }
}
