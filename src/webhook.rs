//! Webhooks from Meta and to internal systems: signatures, the verification
//! handshake, and the exact byte form that is signed.
//!
//! Meta signs `X-Hub-Signature-256: sha256=<lowercase hex HMAC-SHA-256>` over
//! the raw body with the app secret; schleuse verifies those raw bytes in
//! constant time before parsing anything. Toward internal systems schleuse
//! re-serialises with every non-ASCII character escaped as `\uXXXX`
//! (lowercase hex, surrogate pairs), the form Meta signs, and signs exactly
//! those bytes with the client's own secret, so stock Cloud API libraries
//! verify it whichever way they hash (cloud-api.md §2.2).

mod ascii_json;
mod delivery;
mod endpoint;
mod events;
mod inbox;
mod outbox;
mod processor;
mod pseudonymise;
mod signature;

pub use ascii_json::to_ascii_json;
pub use delivery::Deliverer;
pub use endpoint::{WebhookEndpoint, WebhookReply, WebhookSecrets, WebhookSinks};
pub use events::{Event, Person, changes, events};
pub use inbox::{Inbox, InboxError, StoredBatch, read_batches};
pub use outbox::{QueueStatus, queue_status};
pub use processor::{Learn, Processor, TextTransform};
pub use pseudonymise::Pseudonymiser;
pub use signature::{SignatureError, sign, verify};

/// Meta's verification handshake: `hub.mode=subscribe`, a matching
/// `hub.verify_token` and a `hub.challenge` to echo. Returns the challenge to
/// answer with, or `None` (answer 403).
pub fn handshake_challenge(query: &str, verify_token: &str) -> Option<String> {
    let mut mode = None;
    let mut token = None;
    let mut challenge = None;
    for pair in query.split('&') {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        match key {
            "hub.mode" => mode = Some(value),
            "hub.verify_token" => token = Some(value),
            "hub.challenge" => challenge = Some(value),
            _ => {}
        }
    }
    let token_ok = token.is_some_and(|t| {
        crate::ingress::sha256(t.as_bytes()) == crate::ingress::sha256(verify_token.as_bytes())
    });
    let challenge = challenge.filter(|c| {
        !c.is_empty()
            && c.len() <= 256
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    })?;
    (mode == Some("subscribe") && token_ok).then(|| challenge.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_echoes_the_challenge_only_for_the_right_token() {
        let q = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=secret";
        assert_eq!(
            handshake_challenge(q, "secret").as_deref(),
            Some("1158201444")
        );
        assert_eq!(handshake_challenge(q, "other"), None);
        assert_eq!(
            handshake_challenge(
                "hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=secret",
                "secret"
            ),
            None
        );
        assert_eq!(
            handshake_challenge("hub.mode=subscribe&hub.verify_token=secret", "secret"),
            None
        );
        assert_eq!(
            handshake_challenge(
                "hub.mode=subscribe&hub.challenge=<script>&hub.verify_token=secret",
                "secret"
            ),
            None
        );
    }
}
