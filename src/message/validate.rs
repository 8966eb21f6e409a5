//! Structural rules of the send API: which object goes with which type,
//! recipients, and Meta's documented field limits.

use serde_json::Value;

use super::wire::{Interactive, Media, Template, WireRequest};
use super::{Endpoint, MessageType, Recipient, RequestKind, TextSite};
use crate::error::ApiError;
use crate::phone::E164;

/// Meta's documented limits (cloud-api.md §1.3), in characters.
const TEXT_BODY_MAX: usize = 4096;
const CAPTION_MAX: usize = 1024;
const INTERACTIVE_BODY_MAX: usize = 1024;
const FOOTER_MAX: usize = 60;
const HEADER_TEXT_MAX: usize = 60;
const BUTTON_TITLE_MAX: usize = 20;
const BUTTON_ID_MAX: usize = 256;
const MAX_REPLY_BUTTONS: usize = 3;
const CALLBACK_DATA_MAX: usize = 512;
const FILENAME_MAX: usize = 240;
const ID_MAX: usize = 256;
const TEMPLATE_NAME_MAX: usize = 512;

/// Interactive kinds of the Cloud API.
const INTERACTIVE_KINDS: [&str; 10] = [
    "button",
    "list",
    "cta_url",
    "flow",
    "product",
    "product_list",
    "catalog_message",
    "location_request_message",
    "address_message",
    "call_permission_request",
];

pub(super) fn check(wire: &WireRequest, endpoint: Endpoint) -> Result<RequestKind, ApiError> {
    if wire.messaging_product != "whatsapp" {
        return Err(invalid("messaging_product", "must be `whatsapp`"));
    }
    if let Some(data) = &wire.biz_opaque_callback_data {
        limit("biz_opaque_callback_data", data, CALLBACK_DATA_MAX)?;
    }
    if wire.status.is_some() {
        return check_mark_read(wire, endpoint);
    }
    let message_type = message_type(wire)?;
    if endpoint == Endpoint::MarketingMessages && message_type != MessageType::Template {
        return Err(ApiError::invalid_parameter(
            "message.endpoint_templates_only",
            "marketing_messages accepts only template messages",
        ));
    }
    only_body_of(wire, message_type)?;
    check_body(wire, message_type)?;
    if let Some(ctx) = &wire.context {
        id("context.message_id", &ctx.message_id)?;
    }
    let recipient = recipient(wire)?;
    Ok(RequestKind::Send {
        message_type,
        recipient,
    })
}

fn check_mark_read(wire: &WireRequest, endpoint: Endpoint) -> Result<RequestKind, ApiError> {
    if endpoint != Endpoint::Messages || wire.status.as_deref() != Some("read") {
        return Err(invalid("status", "only `read` is supported, on /messages"));
    }
    let message_id = wire
        .message_id
        .as_deref()
        .ok_or_else(|| missing("message_id"))?;
    id("message_id", message_id)?;
    if wire.to.is_some() || wire.kind.is_some() || wire.recipient.is_some() {
        return Err(invalid(
            "status",
            "a mark-as-read request has no `to` or `type`",
        ));
    }
    if let Some(t) = &wire.typing_indicator
        && t.kind != "text"
    {
        return Err(invalid("typing_indicator.type", "must be `text`"));
    }
    Ok(RequestKind::MarkRead)
}

fn message_type(wire: &WireRequest) -> Result<MessageType, ApiError> {
    let name = wire.kind.as_deref().unwrap_or("text");
    MessageType::from_wire(name).ok_or_else(|| {
        ApiError::invalid_parameter(
            "message.type_unsupported",
            "`type` is not a message type schleuse supports (text, template, image, audio, video, document, sticker, location, contacts, interactive, reaction)",
        )
    })
}

/// Exactly the object named by `type` is present; objects of other types
/// would be ignored by Meta but could still carry personal data.
fn only_body_of(wire: &WireRequest, message_type: MessageType) -> Result<(), ApiError> {
    let present = [
        (MessageType::Text, wire.text.is_some()),
        (MessageType::Template, wire.template.is_some()),
        (MessageType::Image, wire.image.is_some()),
        (MessageType::Audio, wire.audio.is_some()),
        (MessageType::Video, wire.video.is_some()),
        (MessageType::Document, wire.document.is_some()),
        (MessageType::Sticker, wire.sticker.is_some()),
        (MessageType::Location, wire.location.is_some()),
        (MessageType::Contacts, wire.contacts.is_some()),
        (MessageType::Interactive, wire.interactive.is_some()),
        (MessageType::Reaction, wire.reaction.is_some()),
    ];
    for (t, is_present) in present {
        if t == message_type && !is_present {
            return Err(missing(t.as_str()));
        }
        if t != message_type && is_present {
            return Err(invalid(t.as_str(), "does not match `type`"));
        }
    }
    if wire.message_id.is_some() || wire.typing_indicator.is_some() {
        return Err(invalid(
            "message_id",
            "belongs to mark-as-read requests only",
        ));
    }
    Ok(())
}

fn check_body(wire: &WireRequest, t: MessageType) -> Result<(), ApiError> {
    match t {
        MessageType::Text => {
            let text = wire.text.as_ref().ok_or_else(|| missing("text"))?;
            non_empty("text.body", &text.body)?;
            limit("text.body", &text.body, TEXT_BODY_MAX)
        }
        MessageType::Image | MessageType::Video => media(wire.media(t), t, true, false),
        MessageType::Document => media(wire.media(t), t, true, true),
        MessageType::Audio | MessageType::Sticker => media(wire.media(t), t, false, false),
        MessageType::Template => template(wire.template.as_ref()),
        MessageType::Location => location(wire),
        MessageType::Contacts => contacts(wire.contacts.as_deref()),
        MessageType::Interactive => interactive(wire.interactive.as_ref()),
        MessageType::Reaction => {
            let r = wire.reaction.as_ref().ok_or_else(|| missing("reaction"))?;
            id("reaction.message_id", &r.message_id)?;
            limit("reaction.emoji", &r.emoji, 16)
        }
    }
}

fn media(m: Option<&Media>, t: MessageType, caption: bool, filename: bool) -> Result<(), ApiError> {
    let name = t.as_str();
    let m = m.ok_or_else(|| missing(name))?;
    match (&m.id, &m.link) {
        (Some(media_id), None) => id(&format!("{name}.id"), media_id)?,
        (None, Some(link)) => {
            if !(link.starts_with("https://") || link.starts_with("http://")) || link.len() > 2048 {
                return Err(invalid(&format!("{name}.link"), "must be an http(s) URL"));
            }
        }
        _ => return Err(invalid(name, "set exactly one of `id` or `link`")),
    }
    match (&m.caption, caption) {
        (Some(c), true) => limit(&format!("{name}.caption"), c, CAPTION_MAX)?,
        (Some(_), false) => {
            return Err(invalid(
                &format!("{name}.caption"),
                "not allowed for this type",
            ));
        }
        (None, _) => {}
    }
    match (&m.filename, filename) {
        (Some(f), true) => limit(&format!("{name}.filename"), f, FILENAME_MAX),
        (Some(_), false) => Err(invalid(
            &format!("{name}.filename"),
            "only documents have a file name",
        )),
        (None, _) => Ok(()),
    }
}

fn template(t: Option<&Template>) -> Result<(), ApiError> {
    let t = t.ok_or_else(|| missing("template"))?;
    let name_ok = !t.name.is_empty()
        && t.name.len() <= TEMPLATE_NAME_MAX
        && t.name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !name_ok {
        return Err(invalid(
            "template.name",
            "must be lowercase letters, digits and `_`",
        ));
    }
    let code = &t.language.code;
    let code_ok =
        (2..=8).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_');
    if !code_ok {
        return Err(invalid(
            "template.language.code",
            "must be a code such as `de` or `en_US`",
        ));
    }
    for (i, c) in t.components.iter().flatten().enumerate() {
        if !c.get("type").is_some_and(Value::is_string) {
            return Err(invalid(
                &format!("template.components[{i}].type"),
                "is required",
            ));
        }
    }
    Ok(())
}

fn location(wire: &WireRequest) -> Result<(), ApiError> {
    let loc = wire.location.as_ref().ok_or_else(|| missing("location"))?;
    let lat = loc.latitude.as_f64().unwrap_or(f64::NAN);
    let lon = loc.longitude.as_f64().unwrap_or(f64::NAN);
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(invalid("location", "latitude/longitude out of range"));
    }
    Ok(())
}

fn contacts(cards: Option<&[Value]>) -> Result<(), ApiError> {
    let cards = cards.ok_or_else(|| missing("contacts"))?;
    if cards.is_empty() || cards.len() > 257 {
        return Err(invalid("contacts", "must hold 1 to 257 contact cards"));
    }
    for (i, card) in cards.iter().enumerate() {
        let named = card
            .pointer("/name/formatted_name")
            .is_some_and(|n| n.as_str().is_some_and(|s| !s.is_empty()));
        if !named {
            return Err(missing(&format!("contacts[{i}].name.formatted_name")));
        }
    }
    Ok(())
}

fn interactive(i: Option<&Interactive>) -> Result<(), ApiError> {
    let i = i.ok_or_else(|| missing("interactive"))?;
    if !INTERACTIVE_KINDS.contains(&i.kind.as_str()) {
        return Err(ApiError::invalid_parameter(
            "message.type_unsupported",
            "`interactive.type` is not an interactive kind schleuse supports",
        ));
    }
    if let Some(body) = &i.body {
        limit("interactive.body.text", &body.text, INTERACTIVE_BODY_MAX)?;
    }
    if let Some(footer) = &i.footer {
        limit("interactive.footer.text", &footer.text, FOOTER_MAX)?;
    }
    if let Some(text) = i
        .header
        .as_ref()
        .and_then(|h| h.get("text"))
        .and_then(Value::as_str)
    {
        limit("interactive.header.text", text, HEADER_TEXT_MAX)?;
    }
    if i.kind == "button" {
        reply_buttons(i.action.as_ref())?;
    }
    Ok(())
}

fn reply_buttons(action: Option<&Value>) -> Result<(), ApiError> {
    let buttons = action
        .and_then(|a| a.get("buttons"))
        .and_then(Value::as_array)
        .ok_or_else(|| missing("interactive.action.buttons"))?;
    if buttons.is_empty() || buttons.len() > MAX_REPLY_BUTTONS {
        return Err(invalid(
            "interactive.action.buttons",
            "must hold 1 to 3 buttons",
        ));
    }
    for (n, b) in buttons.iter().enumerate() {
        let title = b
            .pointer("/reply/title")
            .and_then(Value::as_str)
            .unwrap_or("");
        let button_id = b.pointer("/reply/id").and_then(Value::as_str).unwrap_or("");
        non_empty(
            &format!("interactive.action.buttons[{n}].reply.title"),
            title,
        )?;
        limit(
            &format!("interactive.action.buttons[{n}].reply.title"),
            title,
            BUTTON_TITLE_MAX,
        )?;
        non_empty(
            &format!("interactive.action.buttons[{n}].reply.id"),
            button_id,
        )?;
        limit(
            &format!("interactive.action.buttons[{n}].reply.id"),
            button_id,
            BUTTON_ID_MAX,
        )?;
    }
    Ok(())
}

fn recipient(wire: &WireRequest) -> Result<Recipient, ApiError> {
    let group = match wire.recipient_type.as_deref() {
        None | Some("individual") => false,
        Some("group") => true,
        Some(_) => return Err(invalid("recipient_type", "must be `individual` or `group`")),
    };
    match (&wire.to, &wire.recipient) {
        (Some(to), _) if group => {
            if !to
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
                || to.is_empty()
                || to.len() > 128
            {
                return Err(invalid("to", "is not a group id"));
            }
            Ok(Recipient::Group(to.clone()))
        }
        (Some(to), _) => E164::parse(to).map(Recipient::Phone).map_err(|e| {
            let rule = match e {
                crate::phone::PhoneError::MissingCountryCode => "message.to_missing_country_code",
                _ => "message.to_invalid",
            };
            ApiError::invalid_value(rule, format!("`to` {e}"))
        }),
        (None, Some(bsuid)) if !group => {
            let ok = bsuid.len() <= 160
                && bsuid.split_once('.').is_some_and(|(cc, rest)| {
                    cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_uppercase()) && !rest.is_empty()
                });
            if !ok {
                return Err(invalid("recipient", "is not a business-scoped user id"));
            }
            Ok(Recipient::BusinessScopedUser(bsuid.clone()))
        }
        _ => Err(missing("to")),
    }
}

pub(super) fn for_each_text_mut(wire: &mut WireRequest, f: &mut dyn FnMut(TextSite, &mut String)) {
    if let Some(t) = &mut wire.text {
        f(TextSite::Body, &mut t.body);
    }
    for m in [&mut wire.image, &mut wire.video, &mut wire.document]
        .into_iter()
        .flatten()
    {
        if let Some(c) = &mut m.caption {
            f(TextSite::Caption, c);
        }
        if let Some(name) = &mut m.filename {
            f(TextSite::Filename, name);
        }
    }
    if let Some(loc) = &mut wire.location {
        for s in [&mut loc.name, &mut loc.address].into_iter().flatten() {
            f(TextSite::Location, s);
        }
    }
    if let Some(t) = &mut wire.template {
        for c in t.components.iter_mut().flatten() {
            template_texts(c, f);
        }
    }
    if let Some(i) = &mut wire.interactive {
        interactive_texts(i, f);
    }
    for card in wire.contacts.iter_mut().flatten() {
        all_strings(card, TextSite::ContactCard, f);
    }
}

fn template_texts(component: &mut Value, f: &mut dyn FnMut(TextSite, &mut String)) {
    let Some(params) = component
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for p in params {
        if p.get("type").and_then(Value::as_str) == Some("text")
            && let Some(Value::String(s)) = p.get_mut("text")
        {
            f(TextSite::TemplateParameter, s);
        }
    }
}

fn interactive_texts(i: &mut Interactive, f: &mut dyn FnMut(TextSite, &mut String)) {
    for obj in [&mut i.body, &mut i.footer].into_iter().flatten() {
        f(TextSite::Interactive, &mut obj.text);
    }
    if let Some(Value::String(s)) = i.header.as_mut().and_then(|h| h.get_mut("text")) {
        f(TextSite::Interactive, s);
    }
    if let Some(action) = &mut i.action {
        for key in ["title", "description", "button", "display_text"] {
            strings_under_key(action, key, f);
        }
    }
}

/// Every string stored under `key` anywhere inside `value`.
fn strings_under_key(value: &mut Value, key: &str, f: &mut dyn FnMut(TextSite, &mut String)) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                match v {
                    Value::String(s) if k == key => f(TextSite::Interactive, s),
                    _ => strings_under_key(v, key, f),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strings_under_key(v, key, f)),
        _ => {}
    }
}

fn all_strings(value: &mut Value, site: TextSite, f: &mut dyn FnMut(TextSite, &mut String)) {
    match value {
        Value::String(s) => f(site, s),
        Value::Object(map) => map.values_mut().for_each(|v| all_strings(v, site, f)),
        Value::Array(items) => items.iter_mut().for_each(|v| all_strings(v, site, f)),
        _ => {}
    }
}

// === impl WireRequest ===

impl WireRequest {
    fn media(&self, t: MessageType) -> Option<&Media> {
        match t {
            MessageType::Image => self.image.as_ref(),
            MessageType::Audio => self.audio.as_ref(),
            MessageType::Video => self.video.as_ref(),
            MessageType::Document => self.document.as_ref(),
            MessageType::Sticker => self.sticker.as_ref(),
            _ => None,
        }
    }
}

fn id(field: &str, value: &str) -> Result<(), ApiError> {
    non_empty(field, value)?;
    limit(field, value, ID_MAX)
}

fn non_empty(field: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(missing(field));
    }
    Ok(())
}

fn limit(field: &str, value: &str, max_chars: usize) -> Result<(), ApiError> {
    let len = value.chars().count();
    if len > max_chars {
        return Err(ApiError::invalid_value(
            "message.field_too_long",
            format!("`{field}` has {len} characters; the limit is {max_chars}"),
        ));
    }
    Ok(())
}

fn missing(field: &str) -> ApiError {
    ApiError::downstream(
        http::StatusCode::BAD_REQUEST,
        131008,
        "Required parameter is missing",
        "message.parameter_missing",
        format!("`{field}` is required"),
    )
}

fn invalid(field: &str, why: &str) -> ApiError {
    ApiError::invalid_parameter("message.parameter_invalid", format!("`{field}` {why}"))
}
