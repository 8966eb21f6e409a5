//! Signed checkpoints: C2SP `tlog-checkpoint` bodies in C2SP `signed-note`
//! envelopes, signed with Ed25519 (ring).
//!
//! The key name is the log origin; the key ID is
//! `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::digest::{SHA256, digest};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

use super::merkle::Hash;
use crate::pseudonym::hex;

/// Private signing key for checkpoints.
pub struct Signer {
    name: String,
    pair: Ed25519KeyPair,
    key_id: [u8; 4],
}

/// Public key a verifier needs: name, key ID and Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_id: [u8; 4],
    public: [u8; 32],
}

/// A parsed checkpoint whose signature has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Log origin (first body line).
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root hash at that size.
    pub root: Hash,
}

/// Why a note or key was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The text is not a well-formed note or checkpoint.
    #[error("malformed: {0}")]
    Malformed(&'static str),
    /// No signature from the known key is present.
    #[error("no signature by key {0}")]
    NoSignature(String),
    /// A signature by the known key does not verify.
    #[error("signature by key {0} does not verify")]
    BadSignature(String),
    /// The checkpoint origin is not the key's log.
    #[error("origin {0:?} does not match the key")]
    WrongOrigin(String),
}

/// The checkpoint body (three lines, each ending in a newline).
pub fn checkpoint_body(origin: &str, size: u64, root: &Hash) -> String {
    format!("{origin}\n{size}\n{}\n", B64.encode(root))
}

// === impl Signer ===

impl Signer {
    /// Builds the signer from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, NoteError> {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|_| NoteError::Malformed("ed25519 seed"))?;
        let key_id = key_id(name, pair.public_key().as_ref());
        Ok(Self {
            name: name.to_owned(),
            pair,
            key_id,
        })
    }

    /// Signs a checkpoint and returns the full signed note text.
    pub fn sign_checkpoint(&self, size: u64, root: &Hash) -> String {
        let body = checkpoint_body(&self.name, size, root);
        let sig = self.pair.sign(body.as_bytes());
        let mut blob = self.key_id.to_vec();
        blob.extend_from_slice(sig.as_ref());
        format!("{body}\n\u{2014} {} {}\n", self.name, B64.encode(blob))
    }

    /// The matching verifier key.
    pub fn verifier_key(&self) -> VerifierKey {
        let mut public = [0u8; 32];
        public.copy_from_slice(self.pair.public_key().as_ref());
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            public,
        }
    }
}

// === impl VerifierKey ===

impl VerifierKey {
    /// Parses `<name>+<keyid hex>+<base64(0x01 ‖ pubkey)>`.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let mut parts = text.trim().rsplitn(3, '+');
        let (Some(key), Some(id), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::Malformed("verifier key needs name+id+key"));
        };
        let raw = B64
            .decode(key)
            .map_err(|_| NoteError::Malformed("verifier key base64"))?;
        let Some((&0x01, pk)) = raw.split_first() else {
            return Err(NoteError::Malformed("verifier key type must be Ed25519"));
        };
        let public: [u8; 32] = pk
            .try_into()
            .map_err(|_| NoteError::Malformed("ed25519 key length"))?;
        let key_id = key_id(name, &public);
        if hex(&key_id) != id {
            return Err(NoteError::Malformed("verifier key id does not match"));
        }
        Ok(Self {
            name: name.to_owned(),
            key_id,
            public,
        })
    }

    /// The key in C2SP vkey form.
    pub fn to_note_line(&self) -> String {
        let mut raw = vec![0x01];
        raw.extend_from_slice(&self.public);
        format!("{}+{}+{}", self.name, hex(&self.key_id), B64.encode(raw))
    }

    /// Checks the note's signature by this key and parses the checkpoint.
    /// Signatures by other keys are ignored, as signed-note requires.
    pub fn verify_checkpoint(&self, note: &str) -> Result<Checkpoint, NoteError> {
        let (body, sigs) = split_note(note)?;
        let mut found = false;
        for line in sigs.lines() {
            let Some(rest) = line.strip_prefix("\u{2014} ") else {
                return Err(NoteError::Malformed("signature line"));
            };
            let Some((name, b64)) = rest.split_once(' ') else {
                return Err(NoteError::Malformed("signature line"));
            };
            let blob = B64
                .decode(b64)
                .map_err(|_| NoteError::Malformed("signature base64"))?;
            if name != self.name || blob.len() < 4 || blob[..4] != self.key_id {
                continue;
            }
            found = true;
            UnparsedPublicKey::new(&ED25519, &self.public)
                .verify(body.as_bytes(), &blob[4..])
                .map_err(|_| NoteError::BadSignature(self.name.clone()))?;
        }
        if !found {
            return Err(NoteError::NoSignature(self.name.clone()));
        }
        let cp = parse_body(body)?;
        if cp.origin != self.name {
            return Err(NoteError::WrongOrigin(cp.origin));
        }
        Ok(cp)
    }
}

fn split_note(note: &str) -> Result<(&str, &str), NoteError> {
    let Some(pos) = note.find("\n\n") else {
        return Err(NoteError::Malformed("no blank line before signatures"));
    };
    Ok((&note[..pos + 1], &note[pos + 2..]))
}

fn parse_body(body: &str) -> Result<Checkpoint, NoteError> {
    let mut lines = body.lines();
    let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
        return Err(NoteError::Malformed("checkpoint needs three lines"));
    };
    if size.len() > 1 && size.starts_with('0') {
        return Err(NoteError::Malformed("tree size has leading zeros"));
    }
    let size = size
        .parse()
        .map_err(|_| NoteError::Malformed("tree size"))?;
    let root = B64
        .decode(root)
        .map_err(|_| NoteError::Malformed("root base64"))?
        .try_into()
        .map_err(|_| NoteError::Malformed("root length"))?;
    Ok(Checkpoint {
        origin: origin.to_owned(),
        size,
        root,
    })
}

fn key_id(name: &str, public: &[u8]) -> [u8; 4] {
    let mut buf = name.as_bytes().to_vec();
    buf.extend_from_slice(&[0x0a, 0x01]);
    buf.extend_from_slice(public);
    let d = digest(&SHA256, &buf);
    let mut id = [0u8; 4];
    id.copy_from_slice(&d.as_ref()[..4]);
    id
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn signer() -> Signer {
        Signer::from_seed("schleuse.example/audit", &[9u8; 32]).unwrap()
    }

    #[test]
    fn signed_checkpoint_round_trips_through_the_printed_key() {
        let s = signer();
        let note = s.sign_checkpoint(42, &[3u8; 32]);
        assert!(note.starts_with("schleuse.example/audit\n42\n"));
        let key = VerifierKey::parse(&s.verifier_key().to_note_line()).unwrap();
        let cp = key.verify_checkpoint(&note).unwrap();
        assert_eq!((cp.size, cp.root), (42, [3u8; 32]));
    }

    #[test]
    fn changed_body_or_other_key_is_rejected() {
        let s = signer();
        let note = s
            .sign_checkpoint(42, &[3u8; 32])
            .replace("\n42\n", "\n43\n");
        let key = s.verifier_key();
        assert!(matches!(
            key.verify_checkpoint(&note),
            Err(NoteError::BadSignature(_))
        ));
        let other = Signer::from_seed("schleuse.example/audit", &[1u8; 32]).unwrap();
        let note = other.sign_checkpoint(42, &[3u8; 32]);
        assert!(matches!(
            key.verify_checkpoint(&note),
            Err(NoteError::NoSignature(_))
        ));
    }
}
