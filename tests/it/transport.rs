//! Transport: size limits, timeouts, TLS, HTTP/2, client certificates, admin listener.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::*;
use crate::pki::TestPki;

/// Writes raw bytes (ignoring a server that closes early) and reads the reply.
async fn raw_exchange(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn declared_oversized_body_is_413_before_reading_it() {
    let gw = TestGateway::spawn().await;
    let head = format!(
        "POST /v24.0/{PHONE_NUMBER_ID}/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {CLIENT_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\nConnection: close\r\n\r\n"
    );
    let reply = raw_exchange(gw.addr, &head, b"{").await;
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(reply.contains("ingress.body_too_large"), "{reply}");
    gw.shutdown().await;
}

#[tokio::test]
async fn chunked_body_over_the_limit_is_413() {
    let gw = TestGateway::spawn().await;
    let head = format!(
        "POST /v24.0/{PHONE_NUMBER_ID}/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {CLIENT_TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let chunk = vec![b'x'; 64 * 1024];
    let mut body = Vec::new();
    for _ in 0..20 {
        body.extend(format!("{:x}\r\n", chunk.len()).as_bytes());
        body.extend(&chunk);
        body.extend(b"\r\n");
    }
    let reply = raw_exchange(gw.addr, &head, &body).await;
    assert!(
        reply.starts_with("HTTP/1.1 413"),
        "{}",
        &reply[..reply.len().min(200)]
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn slow_headers_are_cut_off_by_the_header_read_timeout() {
    let gw = TestGateway::spawn_with(Options {
        extra_server_toml: "header_read_timeout_ms = 300\n".into(),
        ..Options::default()
    })
    .await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream
        .write_all(b"POST /v24.0/1/messages HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    // The server must close the connection on its own; 10 s is only a guard.
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "connection was not closed by the header-read timeout"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let gw = TestGateway::spawn_with(Options {
        extra_server_toml: "idle_timeout_ms = 300\n".into(),
        ..Options::default()
    })
    .await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "idle connection was not closed");
    gw.shutdown().await;
}

#[tokio::test]
async fn http2_prior_knowledge_is_served() {
    let gw = TestGateway::spawn().await;
    gw.customer_writes("4915112345678", "Hallo").await;
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let req = Request::post(gw.messages_url())
        .header("authorization", format!("Bearer {CLIENT_TOKEN}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(
            text_message("+4915112345678", "h2").to_string(),
        )))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert_eq!(resp.status(), StatusCode::OK);
    gw.shutdown().await;
}

#[tokio::test]
async fn tls_with_required_client_certificate_and_binding() {
    let pki = TestPki::generate();
    let dir = tempfile::tempdir().unwrap();
    let files = pki.write(dir.path());
    let fingerprint = hex(&schleuse::ingress::sha256(&pki.client_cert_der));
    let gw = TestGateway::spawn_with(Options {
        extra_server_toml: format!(
            "[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\nclient_ca_file = \"{}\"\n",
            files.server_cert.display(),
            files.server_key.display(),
            files.ca.display()
        ),
        client_extra_toml: format!("client_cert_sha256 = [\"{fingerprint}\"]\n"),
        ..Options::default()
    })
    .await;
    let url = format!(
        "https://localhost:{}/v24.0/{PHONE_NUMBER_ID}/messages",
        gw.addr.port()
    );
    // Mark-as-read needs no open window, so no inbound message is needed.
    let body = serde_json::json!({"messaging_product":"whatsapp","status":"read","message_id":"wamid.HBgLMTIz"}).to_string();

    let with_cert = https_client(&pki, true);
    let resp = with_cert.request(post_req(&url, &body)).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2, "ALPN negotiates h2");
    assert_eq!(resp.status(), StatusCode::OK);

    let without_cert = https_client(&pki, false);
    assert!(
        without_cert.request(post_req(&url, &body)).await.is_err(),
        "handshake must fail without a client certificate"
    );
    gw.shutdown().await;
}

fn post_req(url: &str, body: &str) -> Request<Full<Bytes>> {
    Request::post(url)
        .header("authorization", format!("Bearer {CLIENT_TOKEN}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

fn https_client(
    pki: &TestPki,
    with_cert: bool,
) -> Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pki.ca_pem.as_bytes()).unwrap())
        .unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    let config = if with_cert {
        let cert = CertificateDer::from_pem_slice(pki.client_cert_pem.as_bytes()).unwrap();
        let key = PrivateKeyDer::from_pem_slice(pki.client_key_pem.as_bytes()).unwrap();
        builder.with_client_auth_cert(vec![cert], key).unwrap()
    } else {
        builder.with_no_client_auth()
    };
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_only()
        .enable_http1()
        .enable_http2()
        .build();
    Client::builder(TokioExecutor::new()).build(connector)
}

#[tokio::test]
async fn metrics_and_health_are_only_on_the_admin_listener() {
    let gw = TestGateway::spawn().await;
    gw.customer_writes("4915112345678", "Hallo").await;
    let _ = gw.send(&text_message("+4915112345678", "count me")).await;
    let (status, text) = get(&format!("http://{}/metrics", gw.admin_addr)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains(
            "schleuse_requests_total{route=\"messages\",status=\"200\",rule=\"allow\"} 1"
        ),
        "{text}"
    );
    let (status, text) = get(&format!("http://{}/healthz", gw.admin_addr)).await;
    assert_eq!((status, text.contains("\"ok\"")), (StatusCode::OK, true));
    let (status, _) = get(&gw.url("/metrics")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    gw.shutdown().await;
}
