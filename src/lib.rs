//! schleuse: a privacy-compliance gateway between a company's internal systems
//! and the WhatsApp Business Cloud API.
//!
//! Internal systems talk to schleuse exactly as they would talk to Meta's
//! Cloud API; schleuse enforces the messaging policy, removes or
//! pseudonymises personal data, records every decision in a tamper-evident
//! audit log, and only then forwards to Meta with a token only it holds.
//!
//! The request flows through the phases named in [`pipeline`]; see
//! `docs/architecture.md` for the map from concept to module.

pub mod app;
pub mod audit;
pub mod config;
pub mod consent;
pub mod egress;
pub mod error;
pub mod ingress;
pub mod init;
pub mod message;
pub mod observability;
pub mod phone;
pub mod pii;
pub mod pipeline;
pub mod policy;
pub mod pseudonym;
pub mod sandbox;
pub mod store;
pub mod webhook;
