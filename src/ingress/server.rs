//! The accept loop: bounded connections, graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::conn;
use crate::config::ServerConfig;
use crate::pipeline::Gateway;

/// Per-connection limits.
#[derive(Clone, Copy, Debug)]
pub struct ConnLimits {
    /// Time to receive request headers.
    pub header_read_timeout: Duration,
    /// Keep-alive idle time before closing.
    pub idle_timeout: Duration,
    /// Time for the TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// HTTP/2 streams per connection.
    pub max_concurrent_streams: u32,
}

/// A bound public listener.
pub struct Listener {
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    limits: ConnLimits,
    max_connections: usize,
}

// === impl Listener ===

impl Listener {
    /// Binds `addr` with the server settings.
    pub async fn bind(
        addr: SocketAddr,
        cfg: &ServerConfig,
        tls: Option<TlsAcceptor>,
    ) -> std::io::Result<Self> {
        Ok(Self {
            listener: TcpListener::bind(addr).await?,
            tls,
            limits: ConnLimits {
                header_read_timeout: cfg.header_read_timeout,
                idle_timeout: cfg.idle_timeout,
                tls_handshake_timeout: cfg.tls_handshake_timeout,
                max_concurrent_streams: cfg.max_concurrent_streams,
            },
            max_connections: cfg.max_connections,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts until `shutdown` turns true, then lets open connections finish
    /// their requests (up to `drain`).
    pub async fn run(
        self,
        gateway: Arc<Gateway>,
        mut shutdown: watch::Receiver<bool>,
        drain: Duration,
    ) {
        let slots = Arc::new(Semaphore::new(self.max_connections));
        let mut connections = JoinSet::new();
        loop {
            let permit = tokio::select! {
                p = Arc::clone(&slots).acquire_owned() => match p { Ok(p) => p, Err(_) => break },
                _ = shutdown.changed() => break,
            };
            let accepted = tokio::select! {
                a = self.listener.accept() => a,
                _ = shutdown.changed() => break,
            };
            let stream = match accepted {
                Ok((stream, _addr)) => stream,
                Err(e) => {
                    // Out of file descriptors and similar: back off, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let metrics = Arc::clone(gateway.metrics());
            metrics.connection_event("accepted");
            metrics.connection_opened();
            let task = conn::serve(
                stream,
                self.tls.clone(),
                Arc::clone(&gateway),
                self.limits,
                shutdown.clone(),
            );
            connections.spawn(async move {
                task.await;
                metrics.connection_closed();
                drop(permit);
            });
            while connections.try_join_next().is_some() {}
        }
        let _ = tokio::time::timeout(drain, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
    }
}
