//! What inbound traffic changes in the ledger (pure; the caller stores the
//! events and appends their audit records).

use jiff::Timestamp;

use super::{Change, Event, Method, Purpose};
use crate::policy::{KeywordAction, Policy};
use crate::pseudonym::SubjectId;

/// Actor of events the gateway records on the subject's behalf.
pub const GATEWAY_ACTOR: &str = "system:gateway";

/// The consent events an inbound message causes, with the keyword it
/// matched. `text` is the message text or button label; `method` is
/// [`Method::Keyword`] for typed text or [`Method::ButtonPayload`] for a
/// quick-reply button; `message` is the keyed token of the inbound wamid
/// (the confirming evidence).
///
/// * opt-out keyword → `opted_out` (all purposes but `service` revoked;
///   contact ends per `keywords.opt_out_scope`)
/// * opt-in keyword → `requested` marketing (pending, first step of the
///   double opt-in)
/// * confirm keyword → `confirmed` (every pending purpose becomes granted)
/// * help or no keyword → nothing
pub fn inbound_events(
    policy: &Policy,
    subject: &SubjectId,
    at: Timestamp,
    text: &str,
    method: Method,
    message: Option<&str>,
) -> (Option<KeywordAction>, Vec<Event>) {
    let action = policy.classify_inbound(text);
    let change = match action {
        Some(KeywordAction::OptOut) => Some((Change::OptedOut, None)),
        Some(KeywordAction::OptIn) => Some((Change::Requested, Some(Purpose::marketing()))),
        Some(KeywordAction::Confirm) => Some((Change::Confirmed, None)),
        Some(KeywordAction::Help) | None => None,
    };
    let events = change
        .map(|(change, purpose)| {
            let event = Event::new(subject.clone(), at, change, purpose, method, GATEWAY_ACTOR);
            match message {
                Some(token) => event.with_message(token),
                None => event,
            }
        })
        .into_iter()
        .collect();
    (action, events)
}

/// Meta reported that the person stopped marketing messages (a
/// `user_preferences` webhook with `stop`, or a `failed` status with code
/// 131050): marketing consent is revoked, and only a new double opt-in
/// restores it. A `resume` is not consent and records nothing.
pub fn marketing_stop(subject: &SubjectId, at: Timestamp, method: Method) -> Event {
    Event::new(
        subject.clone(),
        at,
        Change::Revoked,
        Some(Purpose::marketing()),
        method,
        GATEWAY_ACTOR,
    )
}
