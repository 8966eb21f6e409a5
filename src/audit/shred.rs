//! Crypto-shredding: per-subject AES-256-GCM keys.
//!
//! Content that must be kept is sealed under a random key per data subject.
//! Keys live in the mutable `subject_keys` table, wrapped under a key derived
//! from the pseudonym key, so the database file alone reveals nothing.
//! Erasure deletes the key; the ciphertext in the log stays (proofs still
//! verify) but can no longer be opened.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use crate::pseudonym::{PseudonymKey, SubjectId};

/// Ciphertext of content sealed under a subject key:
/// `base64(nonce ‖ ciphertext ‖ tag)`, with the subject id as associated data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedContent(String);

/// A subject's data key (plaintext, in memory only).
#[derive(Clone)]
pub(crate) struct SubjectKey([u8; 32]);

/// Failure of an AEAD operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("encryption or decryption failed")]
pub struct CryptoError;

// === impl SealedContent ===

impl SealedContent {
    /// Wraps text as stored in a record.
    pub fn from_string(text: String) -> Self {
        Self(text)
    }

    /// The stored text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stored text, by value.
    pub fn into_string(self) -> String {
        self.0
    }
}

// === impl SubjectKey ===

impl SubjectKey {
    /// A fresh random key.
    pub(crate) fn generate() -> Result<Self, CryptoError> {
        let mut k = [0u8; 32];
        SystemRandom::new().fill(&mut k).map_err(|_| CryptoError)?;
        Ok(Self(k))
    }

    /// Seals `plaintext` for `subject`.
    pub(crate) fn seal(
        &self,
        subject: &SubjectId,
        plaintext: &[u8],
    ) -> Result<SealedContent, CryptoError> {
        let sealed = seal_raw(&self.0, subject.as_str().as_bytes(), plaintext)?;
        Ok(SealedContent(B64.encode(sealed)))
    }

    /// Opens content sealed for `subject`.
    pub(crate) fn open(
        &self,
        subject: &SubjectId,
        sealed: &SealedContent,
    ) -> Result<Vec<u8>, CryptoError> {
        let raw = B64.decode(sealed.as_str()).map_err(|_| CryptoError)?;
        open_raw(&self.0, subject.as_str().as_bytes(), raw)
    }

    /// The key wrapped for storage.
    pub(crate) fn wrap(
        &self,
        kek: &PseudonymKey,
        subject: &SubjectId,
    ) -> Result<Vec<u8>, CryptoError> {
        seal_raw(&wrapping_key(kek), subject.as_str().as_bytes(), &self.0)
    }

    /// Unwraps a stored key.
    pub(crate) fn unwrap_from(
        kek: &PseudonymKey,
        subject: &SubjectId,
        wrapped: &[u8],
    ) -> Result<Self, CryptoError> {
        let raw = open_raw(
            &wrapping_key(kek),
            subject.as_str().as_bytes(),
            wrapped.to_vec(),
        )?;
        raw.try_into().map(Self).map_err(|_| CryptoError)
    }
}

fn wrapping_key(kek: &PseudonymKey) -> [u8; 32] {
    kek.digest("schleuse/audit/subject-kek/v1", b"")
}

fn seal_raw(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| CryptoError)?);
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| CryptoError)?;
    let mut buf = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut buf,
    )
    .map_err(|_| CryptoError)?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&buf);
    Ok(out)
}

fn open_raw(key: &[u8; 32], aad: &[u8], mut raw: Vec<u8>) -> Result<Vec<u8>, CryptoError> {
    if raw.len() < NONCE_LEN {
        return Err(CryptoError);
    }
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| CryptoError)?);
    let mut ct = raw.split_off(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(&raw).map_err(|_| CryptoError)?;
    let plain = key
        .open_in_place(nonce, Aad::from(aad), &mut ct)
        .map_err(|_| CryptoError)?;
    Ok(plain.to_vec())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sealed_content_opens_only_for_its_subject_and_key() {
        let pk = PseudonymKey::new(&[2u8; 32]);
        let (a, b) = (pk.subject("+4915100000001"), pk.subject("+4915100000002"));
        let key = SubjectKey::generate().unwrap();
        let sealed = key.seal(&a, b"hello").unwrap();
        assert_eq!(key.open(&a, &sealed).unwrap(), b"hello");
        assert!(key.open(&b, &sealed).is_err());
        assert!(SubjectKey::generate().unwrap().open(&a, &sealed).is_err());
        let wrapped = key.wrap(&pk, &a).unwrap();
        let back = SubjectKey::unwrap_from(&pk, &a, &wrapped).unwrap();
        assert_eq!(back.open(&a, &sealed).unwrap(), b"hello");
    }
}
