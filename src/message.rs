//! The Cloud API send request: parsed into types, checked, normalised.
//!
//! Parse, don't validate: a [`SendRequest`] can only be built from a body
//! that has exactly one known message type with its matching object, a
//! recipient in E.164 (or a business-scoped user id, or a group), and field
//! lengths Meta would accept. Errors name the field but never echo a value.

mod resolve;
mod validate;
pub mod wire;

use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::phone::E164;
pub use resolve::{NoPseudonyms, Resolve};
pub use wire::WireRequest;

/// The two send endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `/{phone-number-id}/messages`.
    Messages,
    /// `/{phone-number-id}/marketing_messages` (MM Lite; templates only).
    MarketingMessages,
}

/// Message types of the send API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    /// Free-form text.
    Text,
    /// Pre-approved template.
    Template,
    /// Image with optional caption.
    Image,
    /// Audio.
    Audio,
    /// Video with optional caption.
    Video,
    /// Document with optional caption and file name.
    Document,
    /// Sticker.
    Sticker,
    /// Location pin.
    Location,
    /// Contact cards.
    Contacts,
    /// Buttons, lists, CTA URLs, flows, …
    Interactive,
    /// Emoji reaction to an earlier message.
    Reaction,
}

/// Who a request is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recipient {
    /// One person, by phone number.
    Phone(E164),
    /// One person, by business-scoped user id only.
    BusinessScopedUser(String),
    /// A WhatsApp group (participants see each other's numbers).
    Group(String),
}

/// What the request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// Send a message of this type to a recipient.
    Send {
        /// Message type.
        message_type: MessageType,
        /// Recipient.
        recipient: Recipient,
    },
    /// Mark an inbound message as read.
    MarkRead,
}

/// A validated, normalised send request. Its wire form is what gets
/// forwarded, so what was checked is exactly what leaves.
#[derive(Clone, Debug)]
pub struct SendRequest {
    wire: WireRequest,
    kind: RequestKind,
}

/// Where a piece of free text sits in a request (for the PII stage and its
/// audit counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextSite {
    /// `text.body`.
    Body,
    /// A media caption.
    Caption,
    /// A document file name.
    Filename,
    /// A template text parameter.
    TemplateParameter,
    /// Interactive header, body, footer, button or row text.
    Interactive,
    /// A location's name or address.
    Location,
    /// Any string in a contact card.
    ContactCard,
}

// === impl SendRequest ===

impl SendRequest {
    /// Parses and validates a request body that holds real identifiers only.
    pub fn parse(body: &[u8], endpoint: Endpoint) -> Result<Self, ApiError> {
        Self::parse_resolving(body, endpoint, &NoPseudonyms)
    }

    /// Parses a request body, resolving pseudonyms (`pn_…`, `wamid.ps_…`)
    /// in its identity fields first, then validates it.
    pub fn parse_resolving(
        body: &[u8],
        endpoint: Endpoint,
        resolver: &dyn Resolve,
    ) -> Result<Self, ApiError> {
        let mut wire: WireRequest = parse_json(body)?;
        resolve::resolve_pseudonyms(&mut wire, resolver)?;
        let kind = validate::check(&wire, endpoint)?;
        let mut request = Self { wire, kind };
        request.normalise_recipient();
        Ok(request)
    }

    /// What this request asks for.
    pub fn kind(&self) -> &RequestKind {
        &self.kind
    }

    /// The message type, if this is a send.
    pub fn message_type(&self) -> Option<MessageType> {
        match &self.kind {
            RequestKind::Send { message_type, .. } => Some(*message_type),
            RequestKind::MarkRead => None,
        }
    }

    /// The recipient, if this is a send.
    pub fn recipient(&self) -> Option<&Recipient> {
        match &self.kind {
            RequestKind::Send { recipient, .. } => Some(recipient),
            RequestKind::MarkRead => None,
        }
    }

    /// The template's name and language code, for template sends.
    pub fn template(&self) -> Option<(&str, &str)> {
        self.wire
            .template
            .as_ref()
            .map(|t| (t.name.as_str(), t.language.code.as_str()))
    }

    /// Calls `f` with every free-text field that may carry personal data.
    pub fn for_each_text_mut(&mut self, f: &mut dyn FnMut(TextSite, &mut String)) {
        validate::for_each_text_mut(&mut self.wire, f);
    }

    /// The body to forward upstream.
    pub fn to_wire_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(&self.wire)
    }

    /// Replaces `to` with its E.164 form, so Meta never guesses a country.
    fn normalise_recipient(&mut self) {
        if let RequestKind::Send {
            recipient: Recipient::Phone(number),
            ..
        } = &self.kind
        {
            self.wire.to = Some(number.as_str().to_owned());
        }
    }
}

// === impl MessageType ===

impl MessageType {
    /// Every type, in the order of cloud-api.md §1.3.
    pub const ALL: [Self; 11] = [
        Self::Text,
        Self::Template,
        Self::Image,
        Self::Audio,
        Self::Video,
        Self::Document,
        Self::Sticker,
        Self::Location,
        Self::Contacts,
        Self::Interactive,
        Self::Reaction,
    ];

    /// The wire name (`type` field).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Template => "template",
            Self::Image => "image",
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Document => "document",
            Self::Sticker => "sticker",
            Self::Location => "location",
            Self::Contacts => "contacts",
            Self::Interactive => "interactive",
            Self::Reaction => "reaction",
        }
    }

    /// Parses a wire name.
    pub fn from_wire(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// Parses JSON into `T`; errors name the failing path and never echo values.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if std::str::from_utf8(body).is_err() {
        return Err(ApiError::invalid_parameter(
            "message.json_invalid",
            "the request body is not valid UTF-8",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = sanitise_path(e.path());
        let inner = e.into_inner();
        let reason = sanitise_serde_message(&inner.to_string());
        if inner.is_syntax() || inner.is_eof() {
            ApiError::invalid_parameter(
                "message.json_invalid",
                format!("the request body is not valid JSON: {reason}"),
            )
        } else {
            ApiError::invalid_parameter(
                "message.shape_invalid",
                format!("the request body has the wrong shape at `{path}`: {reason}"),
            )
        }
    })
}

/// The failing path with client-chosen keys that do not look like field
/// names replaced, so an unknown key holding a number is not echoed.
fn sanitise_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } if is_field_like(key) => push_key(&mut out, key),
            Segment::Enum { variant } if is_field_like(variant) => push_key(&mut out, variant),
            _ => push_key(&mut out, "?"),
        }
    }
    if out.is_empty() { ".".into() } else { out }
}

fn push_key(out: &mut String, key: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(key);
}

fn is_field_like(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// Removes anything a client wrote from a serde error message: quoted
/// strings go, and back-ticked names are kept only when they look like a
/// field name (serde puts both values and field names in back-ticks).
fn sanitise_serde_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(pos) = rest.find(['"', '`']) {
        out.push_str(&rest[..pos]);
        let quote = rest.as_bytes()[pos] as char;
        let after = &rest[pos + 1..];
        let Some(end) = after.find(quote) else {
            rest = "";
            break;
        };
        let inner = &after[..end];
        let field_like = quote == '`' && is_field_like(inner);
        if field_like {
            out.push('`');
            out.push_str(inner);
            out.push('`');
        } else {
            out.push_str("(value omitted)");
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
