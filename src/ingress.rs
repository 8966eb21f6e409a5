//! Ingress: the public HTTP listener internal systems call.
//!
//! hyper 1.x serving HTTP/1.1 and HTTP/2 (plain or TLS via rustls), with a
//! bounded number of connections, header-read, body-read, TLS-handshake and
//! idle timeouts, and Meta's route layout so a client only changes its base
//! URL and token.

mod auth;
mod body;
mod conn;
mod route;
mod server;
mod tls;

pub use auth::{Clients, PeerInfo, sha256};
pub use body::{BodyLimits, read_json_body};
pub use route::{SendRoute, parse_send_path};
pub use server::{ConnLimits, Listener};
pub use tls::{TlsError, server_config};
