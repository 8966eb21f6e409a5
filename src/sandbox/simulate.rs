//! `schleuse simulate-inbound`: a customer message as Meta would deliver it
//! (signed with the app secret), posted to a running gateway's callback —
//! so a demo or a manual test can open the customer-service window.

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::json;

use crate::config::Config;
use crate::phone::E164;
use crate::webhook::{sign, to_ascii_json};

/// Why the simulated message could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    /// The sender number is not valid.
    #[error("--from {0}")]
    Phone(#[from] crate::phone::PhoneError),
    /// The gateway listens with TLS or has no phone-number id to write to.
    #[error("{0}")]
    Unsupported(&'static str),
    /// The gateway could not be reached.
    #[error("cannot reach the gateway: {0}")]
    Unreachable(String),
}

/// Posts one inbound text from `from` to the gateway configured in `config`;
/// returns the gateway's HTTP status.
pub async fn customer_writes(
    config: &Config,
    from: &str,
    text: &str,
) -> Result<StatusCode, SimulateError> {
    if config.server.tls.is_some() {
        return Err(SimulateError::Unsupported(
            "simulate-inbound supports plain-HTTP listeners only",
        ));
    }
    let number = E164::parse(from)?;
    let pnid = config
        .clients
        .iter()
        .flat_map(|c| c.phone_number_ids.iter())
        .next()
        .ok_or(SimulateError::Unsupported(
            "no client has a phone-number id",
        ))?;
    let addr = config
        .server
        .listen
        .first()
        .ok_or(SimulateError::Unsupported("no listen address"))?;
    let now = jiff::Timestamp::now().as_second();
    let batch = json!({"object":"whatsapp_business_account","entry":[{"id":"300000000000001","changes":[{"field":"messages","value":{
        "messaging_product":"whatsapp",
        "metadata":{"display_phone_number":"493000000000","phone_number_id":pnid},
        "contacts":[{"profile":{"name":"Sandbox Kunde"},"wa_id":number.digits()}],
        "messages":[{"from":number.digits(),"id":format!("wamid.SIM{now}{}", number.digits()),"timestamp":now.to_string(),
                     "type":"text","text":{"body":text}}]}}]}]});
    let body = to_ascii_json(&batch).map_err(|e| SimulateError::Unreachable(e.to_string()))?;
    let signature = sign(config.secrets.meta_app_secret.expose().as_bytes(), &body);
    let request = Request::post(format!("http://{addr}{}", config.webhook.path))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| SimulateError::Unreachable(e.to_string()))?;
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let response = client
        .request(request)
        .await
        .map_err(|e| SimulateError::Unreachable(e.to_string()))?;
    Ok(response.status())
}
