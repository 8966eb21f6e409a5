//! Learning from Meta's webhooks: the consent ledger's side of the webhook
//! processor. An inbound message opens or refreshes the 24-hour window and
//! may carry an opt-out, opt-in or confirm keyword (text or button);
//! `user_preferences: stop` and a failed status with 131050 are marketing
//! opt-outs; a failed status with 131026 marks the number undeliverable until
//! the person writes again. Every consent change is appended to the ledger
//! and then to the audit log (the ledger's outbox marks it audited). Every
//! inbound message and every delivery status also gets an audit entry
//! (`message_received`, `delivery_status`; the pseudonymised wamid links a
//! status to the send's `upstream_result`), written together at the end of
//! each batch, before its deliveries are queued.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use super::{
    ConsentError, Event as ConsentEvent, Ledger, Method, SqliteLedger, inbound_events,
    marketing_stop,
};
use crate::audit::{AuditLog, Direction, Kind, Record};
use crate::phone::E164;
use crate::policy::{PolicyCell, RULE_UNDELIVERABLE};
use crate::pseudonym::{PseudonymKey, SubjectId};
use crate::webhook::{Event, Learn, Person};

/// Meta's code for "the user stopped marketing messages".
const CODE_MARKETING_STOPPED: u32 = 131050;
/// Meta's code for "message undeliverable" (not on WhatsApp, old client …).
const CODE_UNDELIVERABLE: u32 = 131026;
/// Audit actor of what Meta reported.
const META_ACTOR: &str = "meta:webhook";

/// The ledger shared by the send path and the webhook processor: one
/// connection for writes, one for the decision's reads, so a read never
/// waits behind a write's fsync (SQLite WAL readers see the last commit).
#[derive(Clone)]
pub struct SharedLedger {
    writer: Arc<Mutex<SqliteLedger>>,
    reader: Arc<Mutex<SqliteLedger>>,
}

/// Feeds inbound events to the ledger (see the module docs).
pub struct ConsentLearner {
    ledger: SharedLedger,
    policy: Arc<PolicyCell>,
    key: PseudonymKey,
    audit: AuditLog,
    runtime: tokio::runtime::Handle,
    /// Audit entries of the current batch, appended by `flush`.
    entries: Vec<Record>,
}

// === impl SharedLedger ===

impl SharedLedger {
    /// Opens the ledger database.
    pub fn open(path: &std::path::Path) -> Result<Self, ConsentError> {
        Ok(Self {
            writer: Arc::new(Mutex::new(SqliteLedger::open(path)?)),
            reader: Arc::new(Mutex::new(SqliteLedger::open(path)?)),
        })
    }

    /// Runs `f` with the writing connection locked.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&SqliteLedger) -> Result<T, ConsentError>,
    ) -> Result<T, ConsentError> {
        let ledger = self.writer.lock().map_err(|_| ConsentError::Poisoned)?;
        f(&ledger)
    }

    /// Runs a read-only `f` on the reading connection.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&SqliteLedger) -> Result<T, ConsentError>,
    ) -> Result<T, ConsentError> {
        let ledger = self.reader.lock().map_err(|_| ConsentError::Poisoned)?;
        f(&ledger)
    }

    /// Appends the audit entries of ledger events not yet audited (changes
    /// made by `schleuse consent …` while the gateway was not running).
    pub async fn drain_unaudited(&self, audit: &AuditLog) -> Result<usize, String> {
        let mut done = 0;
        loop {
            let pending = self.with(|l| l.unaudited(100)).map_err(|e| e.to_string())?;
            if pending.is_empty() {
                return Ok(done);
            }
            for stored in pending {
                audit
                    .append(stored.event.audit_record(Some(stored.id)))
                    .await
                    .map_err(|e| e.to_string())?;
                self.with(|l| l.mark_audited(stored.id))
                    .map_err(|e| e.to_string())?;
                done += 1;
            }
        }
    }
}

impl std::fmt::Debug for SharedLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedLedger")
    }
}

/// The subject an inbound person is: the phone number in E.164 when Meta
/// sent one (the same pseudonym the send path computes), else the
/// business-scoped user id.
pub fn inbound_subject(key: &PseudonymKey, person: &Person) -> Option<SubjectId> {
    if let Some(number) = person
        .wa_id
        .as_deref()
        .and_then(|w| E164::parse(&format!("+{w}")).ok())
    {
        return Some(key.subject(number.as_str()));
    }
    person.user_id.as_deref().map(|u| key.subject(u))
}

// === impl ConsentLearner ===

impl ConsentLearner {
    /// A learner writing to `ledger`, auditing through `audit` on `runtime`.
    pub fn new(
        ledger: SharedLedger,
        policy: Arc<PolicyCell>,
        key: PseudonymKey,
        audit: AuditLog,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Self {
            ledger,
            policy,
            key,
            audit,
            runtime,
            entries: Vec::new(),
        }
    }

    fn received(&mut self, person: &Person, wamid: &str, texts: &[String]) {
        let mut record = Record::new(Kind::MessageReceived, META_ACTOR)
            .with_direction(Direction::Inbound)
            .with_upstream(&self.key, None, Some(wamid));
        if !texts.is_empty() {
            record = record.with_content(&self.key, texts.join("\n").as_bytes());
        }
        if let Some(subject) = inbound_subject(&self.key, person) {
            record = record.with_subject(subject);
        }
        self.entries.push(record);
    }

    fn status(
        &mut self,
        recipient: &Person,
        wamid: &str,
        status: &str,
        at: Timestamp,
        error_codes: &[u32],
    ) -> Result<(), String> {
        let subject = inbound_subject(&self.key, recipient);
        let mut rules = vec![format!("status.{status}")];
        rules.extend(error_codes.iter().map(|c| format!("meta.error.{c}")));
        if let (Some(s), true) = (&subject, error_codes.contains(&CODE_UNDELIVERABLE)) {
            self.ledger
                .with(|l| l.record_undeliverable(s, at))
                .map_err(|e| e.to_string())?;
            rules.push(RULE_UNDELIVERABLE.to_owned());
        }
        let mut record = Record::new(Kind::DeliveryStatus, META_ACTOR)
            .with_direction(Direction::Outbound)
            .with_rule_ids(rules)
            .with_upstream(&self.key, None, Some(wamid));
        if let Some(subject) = subject {
            record = record.with_subject(subject);
        }
        self.entries.push(record);
        Ok(())
    }

    fn message(
        &self,
        person: &Person,
        wamid: &str,
        at: Timestamp,
        kind: &str,
        texts: &[String],
    ) -> Result<(), String> {
        let Some(subject) = inbound_subject(&self.key, person) else {
            return Ok(());
        };
        let token = self.key.token("wamid", wamid);
        self.ledger
            .with(|l| l.record_inbound(&subject, at, Some(&token)))
            .map_err(|e| e.to_string())?;
        let method = if kind == "text" {
            Method::Keyword
        } else {
            Method::ButtonPayload
        };
        let policy = self.policy.current();
        for text in texts {
            let (_, events) = inbound_events(&policy, &subject, at, text, method, Some(&token));
            if !events.is_empty() {
                return self.append_audited(&events);
            }
        }
        Ok(())
    }

    fn append_audited(&self, events: &[ConsentEvent]) -> Result<(), String> {
        for event in events {
            let id = self
                .ledger
                .with(|l| l.append(event))
                .map_err(|e| e.to_string())?;
            // Not yet audited rows are drained at the next start.
            self.runtime
                .block_on(self.audit.append(event.audit_record(Some(id))))
                .map_err(|e| e.to_string())?;
            self.ledger
                .with(|l| l.mark_audited(id))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn stop(&self, person: &Person, at: Timestamp, method: Method) -> Result<(), String> {
        match inbound_subject(&self.key, person) {
            Some(subject) => self.append_audited(&[marketing_stop(&subject, at, method)]),
            None => Ok(()),
        }
    }
}

impl Learn for ConsentLearner {
    fn learn(&mut self, event: &Event) -> Result<(), String> {
        match event {
            Event::Message {
                from,
                wamid,
                timestamp,
                keyword_text,
                kind,
                ..
            } => {
                self.received(from, wamid, keyword_text);
                self.message(from, wamid, at(*timestamp), kind, keyword_text)
            }
            Event::Status {
                recipient,
                wamid,
                status,
                timestamp,
                error_codes,
                ..
            } => {
                let when = at(*timestamp);
                self.status(recipient, wamid, status, when, error_codes)?;
                if status == "failed" && error_codes.contains(&CODE_MARKETING_STOPPED) {
                    self.stop(recipient, when, Method::MetaMarketingFailure)?;
                }
                Ok(())
            }
            Event::Preference {
                who,
                value,
                timestamp,
                ..
            } if value == "stop" => self.stop(who, at(*timestamp), Method::MetaUserPreferences),
            Event::Preference { .. } => Ok(()),
        }
    }

    fn flush(&mut self) -> Result<(), String> {
        let appends: Vec<_> = self
            .entries
            .drain(..)
            .map(|record| {
                let audit = self.audit.clone();
                self.runtime
                    .spawn(async move { audit.append(record).await })
            })
            .collect();
        // Spawned together, the entries share the audit writer's commits.
        self.runtime.block_on(async {
            let mut first_error = None;
            for append in appends {
                let failed = match append.await {
                    Ok(Ok(_)) => None,
                    Ok(Err(e)) => Some(e.to_string()),
                    Err(e) => Some(e.to_string()),
                };
                first_error = first_error.or(failed);
            }
            first_error.map_or(Ok(()), Err)
        })
    }
}

/// Meta's timestamp (when the customer acted), or now if it is missing.
fn at(unix: i64) -> Timestamp {
    Timestamp::from_second(unix)
        .ok()
        .filter(|_| unix > 0)
        .unwrap_or_else(Timestamp::now)
}
