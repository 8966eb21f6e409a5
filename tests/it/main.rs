//! Integration tests: each starts the real gateway on 127.0.0.1 (port 0)
//! and talks HTTP to it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

mod audit;
mod cli;
mod consent;
mod delivery;
mod fake_upstream;
mod harness;
mod pii;
mod pki;
mod policy_reload;
mod pseudonyms;
mod send;
mod shapes;
mod transport;
mod upstream;
mod webhook;
