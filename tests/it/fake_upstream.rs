//! A fake Cloud API on loopback that records what it receives and can be
//! told to answer slowly or with server errors.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// How the fake answers.
#[derive(Clone)]
pub enum Behaviour {
    Accept,
    Delay(Duration),
    Fail(StatusCode, &'static str),
    /// Answers 500 to the first N requests, then accepts.
    FailFirst(usize),
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub path_and_query: String,
    pub authorization: Option<String>,
    pub signature: Option<String>,
    pub body: Vec<u8>,
}

pub struct FakeUpstream {
    pub base_url: String,
    pub received: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeUpstream {
    pub async fn start(behaviour: Behaviour, tls: Option<TlsAcceptor>) -> Self {
        Self::start_on("127.0.0.1:0", behaviour, tls).await
    }

    pub async fn start_on(addr: &str, behaviour: Behaviour, tls: Option<TlsAcceptor>) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base_url = format!("{scheme}://{addr}");
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let behaviour = behaviour.clone();
                let log = Arc::clone(&log);
                let tls = tls.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let behaviour = behaviour.clone();
                        let log = Arc::clone(&log);
                        async move { Ok::<_, Infallible>(answer(req, behaviour, log).await) }
                    });
                    let builder = auto::Builder::new(TokioExecutor::new());
                    match tls {
                        Some(acceptor) => {
                            if let Ok(s) = acceptor.accept(stream).await {
                                let _ = builder.serve_connection(TokioIo::new(s), service).await;
                            }
                        }
                        None => {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                });
            }
        });
        Self {
            base_url,
            received,
            task,
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.received.lock().expect("lock").clone()
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    req: Request<Incoming>,
    behaviour: Behaviour,
    log: Arc<Mutex<Vec<Recorded>>>,
) -> Response<Full<Bytes>> {
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let authorization = header("authorization");
    let signature = header("x-hub-signature-256");
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    log.lock().expect("lock").push(Recorded {
        path_and_query,
        authorization,
        signature,
        body,
    });
    let (status, body) = match behaviour {
        Behaviour::Accept => (
            StatusCode::OK,
            r#"{"messaging_product":"whatsapp","contacts":[{"input":"+4915112345678","wa_id":"4915112345678"}],"messages":[{"id":"wamid.FAKE"}]}"#,
        ),
        Behaviour::Delay(d) => {
            tokio::time::sleep(d).await;
            (
                StatusCode::OK,
                r#"{"messaging_product":"whatsapp","messages":[{"id":"wamid.LATE"}]}"#,
            )
        }
        Behaviour::Fail(status, body) => (status, body),
        Behaviour::FailFirst(n) => {
            if log.lock().expect("lock").len() <= n {
                (StatusCode::INTERNAL_SERVER_ERROR, "{}")
            } else {
                (StatusCode::OK, "{}")
            }
        }
    };
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut()
        .insert("content-type", "application/json".parse().expect("ct"));
    r
}
