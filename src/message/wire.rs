//! Serde structs for the Cloud API send body, field for field.
//!
//! Each object whose fields schleuse must understand denies unknown fields:
//! a field schleuse does not know could carry personal data past the PII
//! stage, so it is refused rather than forwarded blindly. Deeply varied
//! sub-objects (interactive actions, template components, contact cards)
//! stay as JSON values and are walked for their text.

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

/// The whole request body of `POST /{version}/{phone-number-id}/messages`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WireRequest {
    /// Always `whatsapp`.
    pub messaging_product: String,
    /// `individual` (default) or `group`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_type: Option<String>,
    /// Recipient phone number (or group id for group sends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Business-scoped user id (2026+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// Message type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The message replied to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// Opaque correlation string echoed in status webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
    /// Text message body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    /// Template message body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<Template>,
    /// Image message body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Media>,
    /// Audio message body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<Media>,
    /// Video message body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<Media>,
    /// Document message body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Media>,
    /// Sticker message body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticker: Option<Media>,
    /// Location message body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Contact cards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<Value>>,
    /// Interactive message body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactive: Option<Interactive>,
    /// Reaction body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<Reaction>,
    /// `read` for mark-as-read requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The inbound message marked as read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Typing indicator shown with mark-as-read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typing_indicator: Option<TypingIndicator>,
}

/// `context`: the message being replied to.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// wamid of the message replied to.
    pub message_id: String,
}

/// `text`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// The message text.
    pub body: String,
    /// Whether to render a link preview.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_url: Option<bool>,
}

/// `image`, `audio`, `video`, `document`, `sticker`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Media {
    /// Uploaded media id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Public link to the media.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Caption (not for audio and stickers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// File name (documents only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// `location`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Latitude in degrees.
    pub latitude: Number,
    /// Longitude in degrees.
    pub longitude: Number,
    /// Place name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Place address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// `template`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Template name.
    pub name: String,
    /// Template language.
    pub language: Language,
    /// Parameter components.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<Value>>,
}

/// `template.language`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Language {
    /// Language code such as `de` or `en_US`.
    pub code: String,
    /// Deprecated language policy (`deterministic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// `interactive`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Interactive {
    /// Interactive kind (`button`, `list`, `cta_url`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Header (text or media).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<Value>,
    /// Body text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<TextObject>,
    /// Footer text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<TextObject>,
    /// Buttons, sections or parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Value>,
}

/// `{ "text": "…" }` objects in interactive messages.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TextObject {
    /// The text.
    pub text: String,
}

/// `reaction`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Reaction {
    /// wamid of the message reacted to.
    pub message_id: String,
    /// The emoji; empty removes the reaction.
    pub emoji: String,
}

/// `typing_indicator`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TypingIndicator {
    /// Always `text`.
    #[serde(rename = "type")]
    pub kind: String,
}
