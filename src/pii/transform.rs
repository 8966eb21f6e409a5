//! Applies operators to findings: redact, replace, mask, pseudonymise,
//! encrypt, block. The output counts what was done per label and operator,
//! never values.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};

use super::{Finding, Label, Operator, Rules};
use crate::pseudonym::PseudonymKey;

/// Keys for the `pseudonymise` and `encrypt` operators.
pub struct PiiKeys {
    pseudonym: PseudonymKey,
    aead: LessSafeKey,
    rng: SystemRandom,
}

/// The transformed text and what was done (counts only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transformed {
    /// The text with every finding transformed.
    pub text: String,
    /// How many findings of each label got which operator.
    pub actions: Vec<ActionCount>,
}

/// One line of the action summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActionCount {
    /// The category.
    pub label: Label,
    /// What was done.
    pub operator: Operator,
    /// How many findings.
    pub count: usize,
}

/// The message was refused by a `block` rule. Names the category only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("message blocked: it contains {label} data")]
pub struct Blocked {
    /// The category that caused the block.
    pub label: Label,
}

/// An `[ENC:…]` token could not be decrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RevealError {
    /// Not of the form `[ENC:base64url]`.
    #[error("not an [ENC:…] token")]
    TokenMalformed,
    /// Wrong key or tampered token.
    #[error("token does not decrypt with this key")]
    TokenRejected,
}

// === impl PiiKeys ===

impl PiiKeys {
    /// Derives both keys from the `pseudonym.key` secret: the pseudonym key
    /// directly, the AES-256-GCM key via HKDF-SHA-256 with its own info
    /// string, so the two never share key material.
    pub fn from_secret(secret: &[u8]) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"schleuse").extract(secret);
        let mut aes = [0u8; 32];
        let okm = prk.expand(&[HKDF_INFO], &AES_256_GCM);
        // Infallible: the requested length (32) is the algorithm's key length.
        let filled = okm.and_then(|o| o.fill(&mut aes)).is_ok();
        debug_assert!(filled);
        let aead = match UnboundKey::new(&AES_256_GCM, &aes) {
            Ok(k) => LessSafeKey::new(k),
            Err(_) => unreachable!("AES-256 key is 32 bytes"),
        };
        Self {
            pseudonym: PseudonymKey::new(secret),
            aead,
            rng: SystemRandom::new(),
        }
    }

    fn encrypt(&self, value: &str) -> Option<String> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).ok()?;
        let mut buf = value.as_bytes().to_vec();
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(AAD),
                &mut buf,
            )
            .ok()?;
        let mut token = nonce.to_vec();
        token.extend_from_slice(&buf);
        Some(format!("[ENC:{}]", URL_SAFE_NO_PAD.encode(token)))
    }
}

impl fmt::Debug for PiiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PiiKeys(<redacted>)")
    }
}

/// Applies `rules` to `findings` (from [`super::Engine::detect`] on the same
/// `text`). Findings whose byte range does not fit `text` are skipped.
pub fn transform(
    text: &str,
    findings: &[Finding],
    rules: &Rules,
    keys: &PiiKeys,
) -> Result<Transformed, Blocked> {
    if let Some(f) = findings
        .iter()
        .find(|f| rules.operator(f.label) == Operator::Block)
    {
        return Err(Blocked { label: f.label });
    }
    let mut out = String::with_capacity(text.len());
    let mut actions: Vec<ActionCount> = Vec::new();
    let mut pos = 0;
    for f in findings {
        let r = f.bytes();
        let Some(value) = text.get(r.clone()).filter(|_| r.start >= pos) else {
            continue;
        };
        out.push_str(&text[pos..r.start]);
        let op = rules.operator(f.label);
        apply(&mut out, f.label, op, value, keys);
        count(&mut actions, f.label, op);
        pos = r.end;
    }
    out.push_str(&text[pos..]);
    Ok(Transformed { text: out, actions })
}

/// Decrypts an `[ENC:…]` token made by the `encrypt` operator.
pub fn reveal(token: &str, keys: &PiiKeys) -> Result<String, RevealError> {
    let b64 = token
        .trim()
        .strip_prefix("[ENC:")
        .and_then(|t| t.strip_suffix(']'))
        .ok_or(RevealError::TokenMalformed)?;
    let raw = URL_SAFE_NO_PAD
        .decode(b64)
        .map_err(|_| RevealError::TokenMalformed)?;
    if raw.len() < NONCE_LEN {
        return Err(RevealError::TokenMalformed);
    }
    let (nonce, sealed) = raw.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| RevealError::TokenMalformed)?;
    let mut buf = sealed.to_vec();
    let plain = keys
        .aead
        .open_in_place(nonce, Aad::from(AAD), &mut buf)
        .map_err(|_| RevealError::TokenRejected)?;
    String::from_utf8(plain.to_vec()).map_err(|_| RevealError::TokenRejected)
}

fn apply(out: &mut String, label: Label, op: Operator, value: &str, keys: &PiiKeys) {
    match op {
        Operator::Redact | Operator::Block => {}
        Operator::Keep => out.push_str(value),
        Operator::Replace => {
            out.push('[');
            out.push_str(label.as_str());
            out.push(']');
        }
        Operator::Mask { keep_last } => {
            let n = value.chars().count();
            let keep = keep_last.min(n / 2);
            out.extend(std::iter::repeat_n('*', n - keep));
            out.extend(value.chars().skip(n - keep));
        }
        Operator::Pseudonymise => {
            let token = keys.pseudonym.token(label.as_str(), value);
            out.push_str(&format!("[{label}:{token}]"));
        }
        Operator::Encrypt => match keys.encrypt(value) {
            Some(t) => out.push_str(&t),
            // Fail closed: without a token the value is replaced, not leaked.
            None => out.push_str(&format!("[{label}]")),
        },
    }
}

fn count(actions: &mut Vec<ActionCount>, label: Label, operator: Operator) {
    match actions
        .iter_mut()
        .find(|a| a.label == label && a.operator == operator)
    {
        Some(a) => a.count += 1,
        None => actions.push(ActionCount {
            label,
            operator,
            count: 1,
        }),
    }
}

const HKDF_INFO: &[u8] = b"schleuse pii encrypt v1";
const AAD: &[u8] = b"schleuse-pii-v1";
