//! The pooled hyper client over rustls (ring) that talks to Meta.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Request};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use super::{EgressError, UpstreamRequest, UpstreamResponse};
use crate::config::{Secret, UpstreamConfig};

/// A Cloud API endpoint reached over HTTP(S).
#[derive(Clone)]
pub struct HttpUpstream {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    base_url: String,
    bearer: HeaderValue,
    request_timeout: Duration,
    max_response_bytes: usize,
}

// === impl HttpUpstream ===

impl HttpUpstream {
    /// Builds the client: TLS roots are the Mozilla set plus `extra_ca_file`.
    pub fn new(cfg: &UpstreamConfig, token: Secret) -> Result<Self, EgressError> {
        let tls = client_tls_config(cfg)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(cfg.connect_timeout));
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(30)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(cfg.pool_idle_timeout)
            .pool_max_idle_per_host(cfg.pool_max_idle_per_host)
            .build(connector);
        let mut bearer =
            HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                EgressError::Setup("the access token has characters not allowed in a header".into())
            })?;
        bearer.set_sensitive(true);
        Ok(Self {
            client,
            base_url: cfg.base_url.clone(),
            bearer,
            request_timeout: cfg.request_timeout,
            max_response_bytes: cfg.max_response_bytes,
        })
    }

    pub(super) async fn send(&self, req: UpstreamRequest) -> Result<UpstreamResponse, EgressError> {
        let uri = format!(
            "{}/{}/{}/{}",
            self.base_url,
            req.version,
            req.phone_number_id,
            req.endpoint.path_segment()
        );
        let request = Request::post(uri)
            .header(AUTHORIZATION, self.bearer.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(req.body))
            .map_err(|e| EgressError::Setup(e.to_string()))?;
        tokio::time::timeout(self.request_timeout, self.exchange(request))
            .await
            .map_err(|_| EgressError::Timeout)?
    }

    async fn exchange(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<UpstreamResponse, EgressError> {
        let response = self.client.request(request).await.map_err(|e| {
            if e.is_connect() {
                EgressError::Unreachable(e.to_string())
            } else {
                EgressError::OutcomeUnknown(e.to_string())
            }
        })?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, self.max_response_bytes)
            .collect()
            .await
            .map_err(|e| EgressError::BadResponse(e.to_string()))?
            .to_bytes();
        Ok(UpstreamResponse {
            status: parts.status,
            content_type: parts.headers.get(CONTENT_TYPE).cloned(),
            body,
        })
    }
}

impl std::fmt::Debug for HttpUpstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpUpstream")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

fn client_tls_config(cfg: &UpstreamConfig) -> Result<rustls::ClientConfig, EgressError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &cfg.extra_ca_file {
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| {
            EgressError::Setup(format!("upstream.extra_ca_file {}: {e}", path.display()))
        })? {
            let cert =
                cert.map_err(|e| EgressError::Setup(format!("upstream.extra_ca_file: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| EgressError::Setup(format!("upstream.extra_ca_file: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // ALPN (h2, http/1.1) is set by the hyper-rustls connector builder.
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| EgressError::Setup(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
