//! Pseudonyms in outbound requests: an internal system in pseudonym mode
//! sends `to: "pn_…"`, replies to `wamid.ps_…` and so on; only the gateway
//! turns them back into real identifiers, before validation, so what is
//! checked and recorded is what Meta will see.

use super::wire::WireRequest;
use crate::error::ApiError;
use crate::pseudonym::IdKind;

/// Looks up the real identifier behind a pseudonym.
pub trait Resolve {
    /// `Ok(None)` when the pseudonym is unknown; `Err` when the lookup failed.
    fn resolve(&self, kind: IdKind, pseudonym: &str) -> Result<Option<String>, String>;
}

/// A resolver for requests that must not contain pseudonyms.
pub struct NoPseudonyms;

impl Resolve for NoPseudonyms {
    fn resolve(&self, _kind: IdKind, _pseudonym: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
}

impl Resolve for crate::pseudonym::Vault {
    fn resolve(&self, kind: IdKind, pseudonym: &str) -> Result<Option<String>, String> {
        Self::resolve(self, kind, pseudonym).map_err(|e| e.to_string())
    }
}

/// Replaces every pseudonym in the identity fields of `wire`.
pub(super) fn resolve_pseudonyms(
    wire: &mut WireRequest,
    resolver: &dyn Resolve,
) -> Result<(), ApiError> {
    let group = wire.recipient_type.as_deref() == Some("group");
    let to_kind = if group { IdKind::Group } else { IdKind::Phone };
    resolve_field(&mut wire.to, to_kind, "to", resolver)?;
    resolve_field(&mut wire.recipient, IdKind::User, "recipient", resolver)?;
    resolve_field(&mut wire.message_id, IdKind::Wamid, "message_id", resolver)?;
    if let Some(ctx) = &mut wire.context {
        resolve_value(
            &mut ctx.message_id,
            IdKind::Wamid,
            "context.message_id",
            resolver,
        )?;
    }
    if let Some(r) = &mut wire.reaction {
        resolve_value(
            &mut r.message_id,
            IdKind::Wamid,
            "reaction.message_id",
            resolver,
        )?;
    }
    Ok(())
}

fn resolve_field(
    field: &mut Option<String>,
    kind: IdKind,
    name: &str,
    r: &dyn Resolve,
) -> Result<(), ApiError> {
    match field {
        Some(value) => resolve_value(value, kind, name, r),
        None => Ok(()),
    }
}

fn resolve_value(
    value: &mut String,
    kind: IdKind,
    name: &str,
    r: &dyn Resolve,
) -> Result<(), ApiError> {
    let Some(found) = IdKind::of_pseudonym(value) else {
        return Ok(());
    };
    if found != kind {
        return Err(ApiError::invalid_value(
            "message.pseudonym_wrong_kind",
            format!("`{name}` holds a pseudonym of another kind of identifier"),
        ));
    }
    let real = r.resolve(kind, value).map_err(|e| {
        tracing::error!(error = %e, "pseudonym lookup failed");
        ApiError::internal(
            http::StatusCode::SERVICE_UNAVAILABLE,
            "message.pseudonym_lookup_failed",
            "the pseudonym could not be looked up",
        )
    })?;
    *value = real.ok_or_else(|| {
        ApiError::invalid_value(
            "message.pseudonym_unknown",
            format!("`{name}` is a pseudonym this gateway never issued (or one whose subject was erased)"),
        )
    })?;
    Ok(())
}
