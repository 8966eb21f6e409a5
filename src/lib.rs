//! schleuse: a privacy-compliance gateway between a company's internal systems
//! and the WhatsApp Business Cloud API.
//!
//! See `docs/architecture.md` for the data flow and where each concept lives.

pub mod audit;
pub mod pii;
pub mod pseudonym;
pub mod config;
pub mod error;
pub mod message;
pub mod phone;
