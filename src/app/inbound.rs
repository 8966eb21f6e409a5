//! Start-up of the inbound side: the webhook endpoint, the processor
//! thread and one deliverer task per internal client with a webhook target.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::StartError;
use crate::audit::AuditLog;
use crate::config::Config;
use crate::ingress::BodyLimits;
use crate::pseudonym::{PseudonymKey, Vault};
use crate::webhook::{Deliverer, Inbox, Processor, WebhookEndpoint, WebhookSecrets, WebhookSinks};

/// The running processor thread.
pub(super) struct ProcessorHandle {
    stop: Arc<AtomicBool>,
    wake: SyncSender<()>,
    thread: Option<JoinHandle<()>>,
}

/// Builds the endpoint, starts the processor and the deliverers.
pub(super) fn start(
    config: &Config,
    audit: AuditLog,
    pseudonyms: PseudonymKey,
    vault: Arc<Vault>,
    tasks: &mut JoinSet<()>,
    shutdown: &watch::Receiver<bool>,
) -> Result<(WebhookEndpoint, ProcessorHandle), StartError> {
    let db = config.webhook_db_path();
    let key = config.secrets.pseudonym_key;
    let inbox = Inbox::open(&db, &key, 4096)?;
    let clients: Vec<_> = config
        .clients
        .iter()
        .filter(|c| c.webhook.is_some())
        .cloned()
        .map(Arc::new)
        .collect();
    let deliver = Arc::new(Notify::new());
    let processor = Processor::new(
        db.clone(),
        key,
        vault,
        clients.clone(),
        Arc::clone(&deliver),
    )
    .map_err(|e| StartError::Storage {
        path: db.clone(),
        source: std::io::Error::other(e),
    })?;
    let (wake, wake_rx) = sync_channel(1);
    let stop = Arc::new(AtomicBool::new(false));
    let thread_stop = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("webhook-processor".into())
        .spawn(move || processor.run(wake_rx, thread_stop))
        .map_err(|source| StartError::Storage {
            path: db.clone(),
            source,
        })?;
    for client in clients {
        let deliverer =
            Deliverer::new(db.clone(), key, client, Arc::clone(&deliver)).map_err(|e| {
                StartError::Storage {
                    path: db.clone(),
                    source: std::io::Error::other(e),
                }
            })?;
        tasks.spawn(deliverer.run(shutdown.clone()));
    }
    let secrets = WebhookSecrets {
        app_secret: config.secrets.meta_app_secret.clone(),
        verify_token: config.secrets.meta_verify_token.clone(),
    };
    let sinks = WebhookSinks {
        inbox,
        audit,
        processor: wake.clone(),
    };
    let limits = BodyLimits {
        max_bytes: config.webhook.max_body_bytes,
        read_timeout: config.server.body_read_timeout,
    };
    let endpoint = WebhookEndpoint::new(
        config.webhook.path.clone(),
        secrets,
        sinks,
        pseudonyms,
        limits,
    );
    Ok((
        endpoint,
        ProcessorHandle {
            stop,
            wake,
            thread: Some(thread),
        },
    ))
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
