//! Start-up of the inbound side: the webhook endpoint, the processor
//! thread and one deliverer task per internal client with a webhook target.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::{Core, StartError};
use crate::config::Config;
use crate::consent::ConsentLearner;
use crate::ingress::BodyLimits;
use crate::pii::{PiiKeys, guarded, transform};
use crate::webhook::{
    Deliverer, Inbox, Processor, TextTransform, WebhookEndpoint, WebhookSecrets, WebhookSinks,
};

/// The running processor thread.
pub(super) struct ProcessorHandle {
    stop: Arc<AtomicBool>,
    wake: SyncSender<()>,
    thread: Option<JoinHandle<()>>,
}

/// Builds the endpoint, starts the processor and the deliverers.
pub(super) fn start(
    config: &Config,
    core: &Core,
    tasks: &mut JoinSet<()>,
    shutdown: &watch::Receiver<bool>,
) -> Result<(WebhookEndpoint, ProcessorHandle), StartError> {
    let db = config.webhook_db_path();
    let key = config.secrets.pseudonym_key;
    let storage = |e: String| StartError::Storage {
        path: db.clone(),
        source: std::io::Error::other(e),
    };
    let inbox = Inbox::open(&db, &key, 4096)?;
    let clients: Vec<_> = config
        .clients
        .iter()
        .filter(|c| c.webhook.is_some())
        .cloned()
        .map(Arc::new)
        .collect();
    let deliver = Arc::new(Notify::new());
    let vault = Arc::clone(&core.vault);
    let processor = Processor::new(
        db.clone(),
        key,
        vault,
        clients.clone(),
        Arc::clone(&deliver),
    )
    .map_err(|e| storage(e.to_string()))?
    .with_text_transform(inbound_text(core, &key))
    .with_learner(Box::new(ConsentLearner::new(
        core.ledger.clone(),
        Arc::clone(&core.policy),
        core.pseudonyms.clone(),
        core.audit.clone(),
        tokio::runtime::Handle::current(),
    )));
    let (wake, wake_rx) = sync_channel(1);
    let stop = Arc::new(AtomicBool::new(false));
    let thread_stop = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("webhook-processor".into())
        .spawn(move || processor.run(wake_rx, thread_stop))
        .map_err(|e| storage(e.to_string()))?;
    for client in clients {
        let deliverer = Deliverer::new(db.clone(), key, client, Arc::clone(&deliver))
            .map_err(|e| storage(e.to_string()))?;
        tasks.spawn(deliverer.run(shutdown.clone()));
    }
    let endpoint = endpoint(config, core, inbox, wake.clone());
    let handle = ProcessorHandle {
        stop,
        wake,
        thread: Some(thread),
    };
    Ok((endpoint, handle))
}

fn endpoint(config: &Config, core: &Core, inbox: Inbox, wake: SyncSender<()>) -> WebhookEndpoint {
    let secrets = WebhookSecrets {
        app_secret: config.secrets.meta_app_secret.clone(),
        verify_token: config.secrets.meta_verify_token.clone(),
    };
    let sinks = WebhookSinks {
        inbox,
        audit: core.audit.clone(),
        processor: wake,
    };
    let limits = BodyLimits {
        max_bytes: config.webhook.max_body_bytes,
        read_timeout: config.server.body_read_timeout,
    };
    WebhookEndpoint::new(
        config.webhook.path.clone(),
        secrets,
        sinks,
        core.pseudonyms.clone(),
        limits,
    )
}

/// Inbound free text for clients in pseudonym mode: the PII engine under
/// the `[pii.inbound]` rules of the policy in force. A category the policy
/// blocks withholds the whole text.
fn inbound_text(core: &Core, key: &[u8; 32]) -> TextTransform {
    let engine = Arc::clone(&core.pii);
    let policy = Arc::clone(&core.policy);
    let keys = PiiKeys::from_secret(key);
    Box::new(move |text: &mut String| {
        let result = guarded(|| {
            let findings = engine.detect(text);
            if findings.is_empty() {
                return Ok(None);
            }
            transform(text, &findings, policy.current().pii_inbound(), &keys).map(Some)
        });
        match result {
            Some(Ok(None)) => {}
            Some(Ok(Some(done))) => *text = done.text,
            Some(Err(blocked)) => *text = format!("[{} withheld]", blocked.label),
            // The engine failed (a bug): nothing of the text goes on.
            None => *text = String::from("[text withheld: the check for personal data failed]"),
        }
    })
}

// === impl ProcessorHandle ===

impl ProcessorHandle {
    /// Lets the processor finish what is stored and stops it.
    pub(super) async fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.wake.try_send(());
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}
