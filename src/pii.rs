//! PII detection and transformation (issue 4). Under construction.
