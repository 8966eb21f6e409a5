//! One connection: TLS handshake, hyper serving, idle timeout, graceful close.

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use super::server::ConnLimits;
use super::{PeerInfo, sha256};
use crate::error::ApiError;
use crate::pipeline::Gateway;

/// The answer when handling a request panicked (never expected).
fn internal_error() -> hyper::Response<http_body_util::Full<bytes::Bytes>> {
    ApiError::internal(
        http::StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the request could not be handled",
    )
    .to_response("-")
}

/// Serves one accepted TCP connection to completion.
pub(super) async fn serve(
    stream: TcpStream,
    tls: Option<TlsAcceptor>,
    gateway: Arc<Gateway>,
    limits: ConnLimits,
    shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let metrics = Arc::clone(gateway.metrics());
    let Some(acceptor) = tls else {
        return serve_http(stream, PeerInfo::default(), gateway, limits, shutdown).await;
    };
    match tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(stream)).await {
        Ok(Ok(tls_stream)) => {
            let peer = PeerInfo {
                client_cert_sha256: tls_stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .map(|c| sha256(c.as_ref())),
            };
            serve_http(tls_stream, peer, gateway, limits, shutdown).await;
        }
        Ok(Err(_)) => metrics.connection_event("tls_failed"),
        Err(_) => metrics.connection_event("tls_timeout"),
    }
}

async fn serve_http<IO>(
    io: IO,
    peer: PeerInfo,
    gateway: Arc<Gateway>,
    limits: ConnLimits,
    mut shutdown: watch::Receiver<bool>,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked {
        inner: io,
        activity: Arc::clone(&activity),
    });
    let service = {
        let activity = Arc::clone(&activity);
        service_fn(move |req| {
            let gateway = Arc::clone(&gateway);
            let peer = peer.clone();
            let activity = Arc::clone(&activity);
            async move {
                let _busy = activity.busy();
                // Handled on its own task: a client that hangs up does not
                // cancel the request half-way (after forwarding, the audit
                // entry, the ledger's send record and the vault still land).
                let handled = tokio::spawn(async move { gateway.handle(req, &peer).await });
                Ok::<_, Infallible>(handled.await.unwrap_or_else(|_| internal_error()))
            }
        })
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true)
        .max_buf_size(256 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_concurrent_streams)
        .max_header_list_size(64 * 1024)
        .keep_alive_interval(Some(limits.idle_timeout / 2))
        .keep_alive_timeout(limits.header_read_timeout);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        let idle_deadline = activity.idle_deadline(limits.idle_timeout);
        tokio::select! {
            _ = conn.as_mut() => break,
            _ = tokio::time::sleep_until(idle_deadline.into()), if !closing => {
                if activity.is_idle(limits.idle_timeout) {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
            _ = shutdown.changed(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}

/// When the connection last moved bytes, and how many requests are running.
struct Activity {
    epoch: Instant,
    last_ms: AtomicU64,
    in_flight: AtomicU64,
}

/// Decrements the in-flight count when a request finishes.
struct Busy<'a>(&'a Activity);

// === impl Activity ===

impl Activity {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(now, Ordering::Relaxed);
    }

    fn busy(&self) -> Busy<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        Busy(self)
    }

    fn idle_deadline(&self, idle: std::time::Duration) -> Instant {
        self.epoch + std::time::Duration::from_millis(self.last_ms.load(Ordering::Relaxed)) + idle
    }

    fn is_idle(&self, idle: std::time::Duration) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0 && Instant::now() >= self.idle_deadline(idle)
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// An IO wrapper that records activity on every read and write.
struct Tracked<IO> {
    inner: IO,
    activity: Arc<Activity>,
}

impl<IO: AsyncRead + Unpin> AsyncRead for Tracked<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        result
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Tracked<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
