//! Start-up and shutdown: turns a validated [`Config`] into running
//! listeners, and stops them in order.

mod inbound;

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::audit::{AuditError, AuditLog, AuditSettings, Kind, Record};
use crate::config::Config;
use crate::consent::{ConsentError, SendRecorder, SharedLedger};
use crate::egress::{EgressError, Upstream};
use crate::ingress::{BodyLimits, Clients, Listener, TlsError, server_config};
use crate::observability::{Metrics, serve_admin};
use crate::pii::{Engine, PiiError, PiiKeys};
use crate::pipeline::{Gateway, GatewayParts};
use crate::policy::{Policy, PolicyCell, PolicyError, SystemClock};
use crate::pseudonym::{PseudonymKey, Vault, VaultError};
use crate::sandbox::{Sandbox, run_status_emitter};
use crate::webhook::InboxError;

/// How long open connections may finish their requests at shutdown.
const DRAIN: Duration = Duration::from_secs(10);

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The policy file is missing or invalid.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// TLS files are missing or invalid.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The upstream could not be set up.
    #[error(transparent)]
    Upstream(#[from] EgressError),
    /// The audit log could not be opened or written.
    #[error("audit log")]
    Audit(#[from] AuditError),
    /// The consent ledger could not be opened.
    #[error(transparent)]
    Consent(#[from] ConsentError),
    /// Pending consent changes could not be audited.
    #[error("recording pending consent changes in the audit log: {0}")]
    ConsentAudit(String),
    /// The PII engine could not be built.
    #[error(transparent)]
    Pii(#[from] PiiError),
    /// The identity vault could not be opened.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The webhook inbox could not be opened.
    #[error("webhook inbox")]
    Inbox(#[from] InboxError),
    /// The storage folder could not be created.
    #[error("cannot create storage folder {path}")]
    Storage {
        /// The folder.
        path: std::path::PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// A listener could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The IO error.
        source: std::io::Error,
    },
}

/// A started gateway.
pub struct RunningGateway {
    /// Bound public addresses (resolved when port 0 was configured).
    pub addrs: Vec<SocketAddr>,
    /// Bound admin address.
    pub admin_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
    audit: AuditLog,
    policy: Arc<PolicyCell>,
    policy_file: std::path::PathBuf,
    processor: inbound::ProcessorHandle,
}

// === impl RunningGateway ===

impl RunningGateway {
    /// Stops accepting, lets open requests finish, and returns.
    /// The final audit entry and checkpoint are written after the last
    /// request finished.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
        self.processor.stop().await;
        let stopped = Record::new(Kind::GatewayStopped, SYSTEM_ACTOR);
        if let Err(e) = self.audit.append(stopped).await {
            tracing::error!(error = %e, "could not record the shutdown in the audit log");
        }
        if let Err(e) = self.audit.shutdown().await {
            tracing::error!(error = %e, "could not write the final audit checkpoint");
        }
    }

    /// Reloads the policy file. A valid file is recorded in the audit log
    /// and then put in force; an invalid one is refused and the policy in
    /// force stays.
    pub async fn reload_policy(&self) -> Result<(), StartError> {
        let policy = Policy::load(&self.policy_file)?;
        let loaded = Record::new(Kind::PolicyLoaded, SYSTEM_ACTOR)
            .with_policy(&policy.sha256, &policy.version);
        self.audit.append(loaded).await?;
        tracing::info!(version = %policy.version, sha256 = %policy.sha256, "policy reloaded");
        self.policy.replace(policy);
        Ok(())
    }

    /// The audit log (for tests and operator tools).
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }
}

/// Actor name of entries the gateway writes on its own behalf.
const SYSTEM_ACTOR: &str = "system:gateway";

/// Audit log settings derived from the config.
pub fn audit_settings(config: &Config) -> AuditSettings {
    AuditSettings {
        db_path: config.audit_db_path(),
        signing_seed: config.secrets.audit_signing_seed,
        pseudonym_key: PseudonymKey::new(&config.secrets.pseudonym_key),
        origin: config.audit.origin.clone(),
        checkpoint_every_entries: config.audit.checkpoint_every_entries,
        checkpoint_every: config.audit.checkpoint_every,
        queue_capacity: config.audit.queue_capacity,
    }
}

/// Services shared by the send path and the inbound side.
pub(crate) struct Core {
    pub(crate) ledger: SharedLedger,
    pub(crate) policy: Arc<PolicyCell>,
    pub(crate) audit: AuditLog,
    pub(crate) pseudonyms: PseudonymKey,
    pub(crate) vault: Arc<Vault>,
    pub(crate) pii: Arc<Engine>,
}

/// Builds the pipeline and starts the public and admin listeners.
pub async fn start(config: &Config) -> Result<RunningGateway, StartError> {
    let core = open_core(config).await?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let (webhook, processor) = inbound::start(config, &core, &mut tasks, &shutdown_rx)?;
    let metrics = Arc::new(Metrics::default());
    let upstream = Upstream::from_config(&config.upstream, &config.secrets.meta_access_token)?;
    let sandbox = match &upstream {
        Upstream::Sandbox(s) => Some(s.clone()),
        Upstream::Http(_) => None,
    };
    let gateway = Arc::new(Gateway::new(GatewayParts {
        clients: Clients::new(&config.clients),
        policy: Arc::clone(&core.policy),
        upstream,
        metrics: Arc::clone(&metrics),
        limits: BodyLimits {
            max_bytes: config.server.max_body_bytes,
            read_timeout: config.server.body_read_timeout,
        },
        audit: core.audit.clone(),
        pseudonyms: core.pseudonyms.clone(),
        vault: Arc::clone(&core.vault),
        webhook,
        pii: Arc::clone(&core.pii),
        pii_keys: PiiKeys::from_secret(&config.secrets.pseudonym_key),
        ledger: core.ledger.clone(),
        sends: SendRecorder::start(core.ledger.clone(), 8192).map_err(|source| {
            StartError::Storage {
                path: config.consent_db_path(),
                source,
            }
        })?,
        clock: Arc::new(SystemClock),
    }));
    let addrs = bind_public(config, &gateway, &mut tasks, &shutdown_rx).await?;
    if let (Some(sandbox), Some(addr)) = (sandbox, addrs.first()) {
        start_sandbox_statuses(config, &sandbox, *addr, &mut tasks, &shutdown_rx);
    }
    let admin = config.admin.listen;
    let admin_listener = TcpListener::bind(admin)
        .await
        .map_err(|source| StartError::Bind {
            addr: admin,
            source,
        })?;
    let admin_addr = admin_listener
        .local_addr()
        .map_err(|source| StartError::Bind {
            addr: admin,
            source,
        })?;
    tasks.spawn(serve_admin(
        admin_listener,
        metrics,
        gateway.upstream_kind(),
        shutdown_rx,
    ));
    tracing::info!(upstream = gateway.upstream_kind(), "gateway started");
    Ok(RunningGateway {
        addrs,
        admin_addr,
        shutdown,
        tasks,
        audit: core.audit,
        policy: core.policy,
        policy_file: config.policy_file.clone(),
        processor,
    })
}

/// The sandbox reports on what it accepted through the gateway's own
/// callback, like Meta would (plain HTTP listeners only).
fn start_sandbox_statuses(
    config: &Config,
    sandbox: &Sandbox,
    addr: SocketAddr,
    tasks: &mut JoinSet<()>,
    shutdown: &watch::Receiver<bool>,
) {
    if config.server.tls.is_some() {
        tracing::info!("sandbox status webhooks are off: the listener uses TLS");
        return;
    }
    let Ok(callback) = format!("http://{addr}{}", config.webhook.path).parse() else {
        return;
    };
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    sandbox.emit_statuses(tx);
    let secret = config.secrets.meta_app_secret.clone();
    tasks.spawn(run_status_emitter(rx, callback, secret, shutdown.clone()));
}

/// Policy, audit log, keys, vault and PII engine, in that order.
async fn open_core(config: &Config) -> Result<Core, StartError> {
    let policy = Policy::load(&config.policy_file)?;
    let audit = open_audit(config, &policy).await?;
    let ledger = SharedLedger::open(&config.consent_db_path())?;
    // Consent changes made by `schleuse consent …` while we were down.
    let drained = ledger
        .drain_unaudited(&audit)
        .await
        .map_err(StartError::ConsentAudit)?;
    if drained > 0 {
        tracing::info!(
            entries = drained,
            "recorded pending consent changes in the audit log"
        );
    }
    // Loads the phone-number metadata now rather than in the first request.
    let _ = crate::phone::E164::parse("+4930123456");
    Ok(Core {
        ledger,
        policy: Arc::new(PolicyCell::new(policy)),
        audit,
        pseudonyms: PseudonymKey::new(&config.secrets.pseudonym_key),
        vault: Arc::new(Vault::open(
            &config.vault_db_path(),
            &config.secrets.pseudonym_key,
        )?),
        pii: Arc::new(Engine::new()?),
    })
}

/// Binds every public listener and starts serving.
async fn bind_public(
    config: &Config,
    gateway: &Arc<Gateway>,
    tasks: &mut JoinSet<()>,
    shutdown: &watch::Receiver<bool>,
) -> Result<Vec<SocketAddr>, StartError> {
    let tls = match &config.server.tls {
        Some(t) => Some(TlsAcceptor::from(server_config(t)?)),
        None => None,
    };
    let mut addrs = Vec::new();
    for addr in &config.server.listen {
        let bind_error = |source| StartError::Bind {
            addr: *addr,
            source,
        };
        let listener = Listener::bind(*addr, &config.server, tls.clone())
            .await
            .map_err(bind_error)?;
        addrs.push(listener.local_addr().map_err(bind_error)?);
        tasks.spawn(listener.run(Arc::clone(gateway), shutdown.clone(), DRAIN));
    }
    Ok(addrs)
}

/// Opens the audit log and records the start and the loaded policy.
async fn open_audit(config: &Config, policy: &Policy) -> Result<AuditLog, StartError> {
    create_private_dir(&config.storage_dir)?;
    let audit = AuditLog::open(audit_settings(config))?;
    audit
        .append(Record::new(Kind::GatewayStarted, SYSTEM_ACTOR))
        .await?;
    let loaded =
        Record::new(Kind::PolicyLoaded, SYSTEM_ACTOR).with_policy(&policy.sha256, &policy.version);
    audit.append(loaded).await?;
    Ok(audit)
}

fn create_private_dir(path: &std::path::Path) -> Result<(), StartError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path).map_err(|source| StartError::Storage {
        path: path.to_owned(),
        source,
    })
}

/// Runs until SIGINT or SIGTERM, then shuts down gracefully; SIGHUP
/// reloads the policy. Signal handlers are installed before the listeners
/// are announced, so no signal can hit the default action meanwhile.
pub async fn run_until_signal(config: &Config) -> Result<(), StartError> {
    let signals = Signals::install();
    let gateway = start(config).await?;
    // A closed stdout (nobody reading) must not stop the gateway, so write
    // errors are ignored rather than panicking as println! would.
    let scheme = if config.server.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let mut out = std::io::stdout().lock();
    for addr in &gateway.addrs {
        let _ = writeln!(out, "listening on {scheme}://{addr}");
    }
    let _ = writeln!(out, "admin on http://{}", gateway.admin_addr);
    let _ = out.flush();
    drop(out);
    signals.serve(&gateway).await;
    tracing::info!("shutting down");
    gateway.shutdown().await;
    Ok(())
}

/// The process signals the gateway reacts to (schleuse runs on Linux).
struct Signals {
    term: Option<Signal>,
    hup: Option<Signal>,
}

impl Signals {
    fn install() -> Self {
        Self {
            term: signal(SignalKind::terminate()).ok(),
            hup: signal(SignalKind::hangup()).ok(),
        }
    }

    /// Waits for SIGINT/SIGTERM; reloads the policy on each SIGHUP.
    async fn serve(mut self, gateway: &RunningGateway) {
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return,
                _ = recv(self.term.as_mut()) => return,
                _ = recv(self.hup.as_mut()) => {
                    if let Err(e) = gateway.reload_policy().await {
                        tracing::error!(error = %e, "policy reload refused; the previous policy stays in force");
                    }
                }
            }
        }
    }
}

/// Receives from a signal stream, or waits forever if it is not installed.
async fn recv(signal: Option<&mut Signal>) {
    match signal {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}
