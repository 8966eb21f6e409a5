//! The sandbox as its own HTTP server: a loopback stand-in for
//! graph.facebook.com (used by `schleuse sandbox` and the load benchmark).

use std::convert::Infallible;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

use super::Sandbox;
use crate::egress::UpstreamRequest;
use crate::ingress::parse_send_path;

/// Serves the sandbox on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, sandbox: Sandbox) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let sandbox = sandbox.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let sandbox = sandbox.clone();
                async move { Ok::<_, Infallible>(answer(req, &sandbox).await) }
            });
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder.http1().timer(TokioTimer::new());
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(req: Request<Incoming>, sandbox: &Sandbox) -> Response<Full<Bytes>> {
    let Some(route) = parse_send_path(req.uri().path()) else {
        return plain(StatusCode::NOT_FOUND);
    };
    let bearer = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let Ok(body) = Limited::new(req.into_body(), 1 << 20).collect().await else {
        return plain(StatusCode::PAYLOAD_TOO_LARGE);
    };
    let upstream_request = UpstreamRequest {
        version: route.version,
        phone_number_id: route.phone_number_id,
        endpoint: route.endpoint,
        body: body.to_bytes(),
    };
    let answer = sandbox.handle(&upstream_request, bearer.as_deref());
    let mut response = Response::new(Full::new(answer.body));
    *response.status_mut() = answer.status;
    if let Some(ct) = answer.content_type {
        response.headers_mut().insert(CONTENT_TYPE, ct);
    }
    response
}

fn plain(status: StatusCode) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = status;
    r
}
