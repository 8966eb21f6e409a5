//! Processing stored batches: de-duplicate (Meta retries for days), learn
//! (consent, window, statuses — through a [`Learn`] hook), and queue one
//! delivery per internal client, pseudonymised for clients in pseudonym
//! mode and serialised as ASCII-escaped JSON. Each batch's outbox rows,
//! `seen` keys and progress mark commit together, so a crash re-processes a
//! batch at most as a whole and never delivers an event twice.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use rusqlite::{Connection, Transaction};
use serde_json::Value;
use tokio::sync::Notify;

use super::events::{Event, events};
use super::outbox::{self, OUTBOX_PURPOSE};
use super::{Pseudonymiser, StoredBatch, read_batches, to_ascii_json};
use crate::config::{ClientConfig, IdentityMode};
use crate::pseudonym::{PseudonymKey, Vault};
use crate::store::{Sealer, open_durable};

/// What the gateway learns from inbound events (the consent ledger).
pub trait Learn: Send {
    /// Called once per event, in batch order, before delivery is queued.
    fn learn(&mut self, event: &Event) -> Result<(), String>;
    /// Called after the batch's last event, before its deliveries are
    /// queued (write what was collected, e.g. audit entries).
    fn flush(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// Transforms inbound free text (the PII engine under the inbound policy).
pub type TextTransform = Box<dyn FnMut(&mut String) + Send>;

/// The processing stage; runs on its own thread.
pub struct Processor {
    conn: Connection,
    db_path: PathBuf,
    key_bytes: [u8; 32],
    key: PseudonymKey,
    outbox: Sealer,
    vault: Arc<Vault>,
    clients: Vec<Arc<ClientConfig>>,
    learner: Option<Box<dyn Learn>>,
    text: TextTransform,
    deliverers: Arc<Notify>,
}

// === impl Processor ===

impl Processor {
    /// Prepares processing of `db_path` (the inbox database).
    pub fn new(
        db_path: PathBuf,
        key_bytes: [u8; 32],
        vault: Arc<Vault>,
        clients: Vec<Arc<ClientConfig>>,
        deliverers: Arc<Notify>,
    ) -> rusqlite::Result<Self> {
        let conn = open_durable(&db_path)?;
        conn.execute_batch(outbox::SCHEMA)?;
        Ok(Self {
            conn,
            db_path,
            key_bytes,
            key: PseudonymKey::new(&key_bytes),
            outbox: Sealer::derive(&key_bytes, OUTBOX_PURPOSE),
            vault,
            clients,
            learner: None,
            text: Box::new(|_| {}),
            deliverers,
        })
    }

    /// Sets what learns from inbound events.
    pub fn with_learner(mut self, learner: Box<dyn Learn>) -> Self {
        self.learner = Some(learner);
        self
    }

    /// Sets the free-text transform applied in pseudonym mode.
    pub fn with_text_transform(mut self, text: TextTransform) -> Self {
        self.text = text;
        self
    }

    /// Runs until `stop` is set (or `wake` is disconnected); processes on
    /// every wake-up and at least once a second.
    pub fn run(mut self, wake: Receiver<()>, stop: Arc<AtomicBool>) {
        while !stop.load(Ordering::Relaxed) {
            if let Err(e) = self.process_pending() {
                tracing::error!(error = %e, "webhook processing failed; will retry");
            }
            match wake.recv_timeout(Duration::from_secs(1)) {
                Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        let _ = self.process_pending();
    }

    /// Processes every stored batch not yet processed; returns how many.
    pub fn process_pending(&mut self) -> Result<usize, String> {
        let last = outbox::progress(&self.conn).map_err(|e| e.to_string())?;
        let batches =
            read_batches(&self.db_path, &self.key_bytes, last).map_err(|e| e.to_string())?;
        for batch in &batches {
            self.process(batch).map_err(|e| e.to_string())?;
        }
        if !batches.is_empty() {
            self.deliverers.notify_waiters();
        }
        Ok(batches.len())
    }

    fn process(&mut self, batch: &StoredBatch) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        match serde_json::from_slice::<Value>(&batch.body) {
            Ok(mut value) => {
                let fresh = drop_seen(&tx, &self.key, &mut value)?;
                if !fresh.is_empty() {
                    learn(self.learner.as_deref_mut(), &fresh);
                    let targets = Targets {
                        key: &self.key,
                        outbox: &self.outbox,
                        vault: &self.vault,
                        clients: &self.clients,
                    };
                    targets.queue_deliveries(&tx, &value, &mut *self.text)?;
                }
            }
            Err(_) => tracing::warn!(
                batch = batch.id,
                "signed webhook batch is not JSON; not delivered"
            ),
        }
        outbox::set_progress(&tx, batch.id)?;
        tx.commit()
    }
}

/// What queuing a delivery needs.
struct Targets<'a> {
    key: &'a PseudonymKey,
    outbox: &'a Sealer,
    vault: &'a Vault,
    clients: &'a [Arc<ClientConfig>],
}

impl Targets<'_> {
    fn queue_deliveries(
        &self,
        tx: &Transaction<'_>,
        value: &Value,
        text: &mut dyn FnMut(&mut String),
    ) -> rusqlite::Result<()> {
        let now = now_ms();
        for client in self.clients {
            let Some(mut payload) = for_client(value, client) else {
                continue;
            };
            if client.identity_mode == IdentityMode::Pseudonym {
                let mut p = Pseudonymiser::new(self.key);
                for change in changes_mut(&mut payload) {
                    if let Some(v) = change.get_mut("value") {
                        p.change_value(v, text);
                    }
                }
                self.vault
                    .remember(&p.mappings)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            }
            let bytes = to_ascii_json(&payload)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            outbox::enqueue(tx, self.outbox, &client.name, &bytes, now)?;
        }
        Ok(())
    }
}

fn learn(learner: Option<&mut (dyn Learn + '_)>, fresh: &[Event]) {
    let Some(learner) = learner else { return };
    for event in fresh {
        if let Err(e) = learner.learn(event) {
            tracing::error!(error = %e, "learning from an inbound event failed");
        }
    }
    if let Err(e) = learner.flush() {
        tracing::error!(error = %e, "audit entries of inbound events could not be written");
    }
}

/// Removes messages, statuses and preference updates processed before;
/// returns the events that are new.
fn drop_seen(
    tx: &Transaction<'_>,
    key: &PseudonymKey,
    value: &mut Value,
) -> rusqlite::Result<Vec<Event>> {
    let mut fresh = Vec::new();
    for change in changes_mut(value) {
        let Some(v) = change.get_mut("value") else {
            continue;
        };
        for (array, prefix) in [
            ("messages", "m"),
            ("statuses", "s"),
            ("user_preferences", "p"),
        ] {
            let Some(items) = v.get_mut(array).and_then(Value::as_array_mut) else {
                continue;
            };
            let mut keep = Vec::with_capacity(items.len());
            for item in items.drain(..) {
                let id = event_id(prefix, &item);
                if outbox::first_sighting(tx, &key.token("webhook-event", &id))? {
                    keep.push(item);
                }
            }
            *items = keep;
        }
    }
    let wrapper = value.clone();
    fresh.extend(events(&wrapper));
    Ok(fresh)
}

fn event_id(prefix: &str, item: &Value) -> String {
    let s = |k: &str| item.get(k).map(|v| v.to_string()).unwrap_or_default();
    match prefix {
        "m" => format!("m:{}", s("id")),
        "s" => format!("s:{}:{}", s("id"), s("status")),
        _ => format!(
            "p:{}:{}:{}:{}",
            s("wa_id"),
            s("user_id"),
            s("value"),
            s("timestamp")
        ),
    }
}

/// The part of a batch a client may see: changes for its phone-number ids.
fn for_client(batch: &Value, client: &ClientConfig) -> Option<Value> {
    let mut out = batch.clone();
    let entries = out.get_mut("entry")?.as_array_mut()?;
    for entry in entries.iter_mut() {
        if let Some(changes) = entry.get_mut("changes").and_then(Value::as_array_mut) {
            changes.retain(|c| {
                c.pointer("/value/metadata/phone_number_id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| client.phone_number_ids.contains(id))
                    && !is_empty_change(c)
            });
        }
    }
    entries.retain(|e| e["changes"].as_array().is_some_and(|c| !c.is_empty()));
    (!entries.is_empty()).then_some(out)
}

/// A `messages` change whose events were all duplicates.
fn is_empty_change(change: &Value) -> bool {
    let v = &change["value"];
    let empty = |k: &str| {
        v.get(k)
            .is_none_or(|a| a.as_array().is_some_and(Vec::is_empty))
    };
    empty("messages")
        && empty("statuses")
        && empty("user_preferences")
        && v.get("errors").is_none()
        && change["field"] != "group_lifecycle_update"
        && change["field"] != "group_participants_update"
        && matches!(
            change["field"].as_str(),
            Some("messages" | "user_preferences")
        )
}

fn changes_mut(batch: &mut Value) -> impl Iterator<Item = &mut Value> {
    batch
        .get_mut("entry")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .flat_map(|e| {
            e.get_mut("changes")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
        })
}

pub(super) fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}
