//! Tamper-evident, append-only audit log (issue 3). Under construction.
