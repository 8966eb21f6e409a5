//! Pseudonym mode toward internal systems: every identifier of the
//! personal-data inventory (cloud-api.md §2.10) in a webhook `value` becomes
//! a stable keyed pseudonym; media URLs, hashes and file names are dropped; shared
//! contact cards and precise locations are reduced; free text goes through
//! the caller's text transform (the PII engine under the inbound policy).
//!
//! Resolvable identities (numbers, user ids, wamids, groups, media ids) are
//! collected as [`Mapping`]s so the gateway can turn a pseudonym in an
//! outbound `to`, `recipient`, `context.message_id` or reaction back into
//! the real value. Names, usernames and identity hashes are one-way.

use serde_json::{Map, Value, json};

use crate::pseudonym::{IdKind, Mapping, PseudonymKey};

/// Turns identifiers into pseudonyms and remembers the resolvable ones.
pub struct Pseudonymiser<'k> {
    key: &'k PseudonymKey,
    /// Resolvable mappings seen so far.
    pub mappings: Vec<Mapping>,
}

// === impl Pseudonymiser ===

impl<'k> Pseudonymiser<'k> {
    /// A pseudonymiser keyed with the gateway's pseudonym key.
    pub fn new(key: &'k PseudonymKey) -> Self {
        Self {
            key,
            mappings: Vec::new(),
        }
    }

    /// The pseudonym of `value` as a `kind`.
    pub fn pseudonym(&mut self, kind: IdKind, value: &str) -> String {
        let pseudonym = self.key.identity(kind, value);
        if kind.resolvable() && !self.mappings.iter().any(|m| m.pseudonym == pseudonym) {
            self.mappings.push(Mapping {
                kind,
                pseudonym: pseudonym.clone(),
                value: value.to_owned(),
            });
        }
        pseudonym
    }

    /// Rewrites one change `value` in place. `text` transforms free text.
    pub fn change_value(&mut self, value: &mut Value, text: &mut dyn FnMut(&mut String)) {
        for contact in array_mut(value, "contacts") {
            self.contact(contact);
        }
        for message in array_mut(value, "messages") {
            self.message(message, text);
        }
        for status in array_mut(value, "statuses") {
            self.status(status);
        }
        for pref in array_mut(value, "user_preferences") {
            self.id_fields(
                pref,
                &[
                    ("wa_id", IdKind::Phone),
                    ("user_id", IdKind::User),
                    ("parent_user_id", IdKind::User),
                ],
            );
        }
        for key in [
            "added_participants",
            "removed_participants",
            "join_requests",
            "participants",
        ] {
            for p in array_mut(value, key) {
                self.id_fields(p, &[("wa_id", IdKind::Phone), ("user_id", IdKind::User)]);
            }
        }
        self.id_fields(value, &[("group_id", IdKind::Group)]);
    }

    /// Rewrites a send API success answer: `contacts[].input`/`wa_id`/
    /// `user_id` and `messages[].id`/`group_id`. Numbers are pseudonymised in
    /// their digits form, as webhooks carry them.
    pub fn send_response(&mut self, body: &mut Value) {
        for contact in array_mut(body, "contacts") {
            if let Some(Value::String(input)) = contact.get_mut("input") {
                let digits: String = input.chars().filter(char::is_ascii_digit).collect();
                *input = if input.contains('.') || digits.is_empty() {
                    self.pseudonym(IdKind::User, input)
                } else {
                    self.pseudonym(IdKind::Phone, &digits)
                };
            }
            self.id_fields(
                contact,
                &[("wa_id", IdKind::Phone), ("user_id", IdKind::User)],
            );
        }
        for message in array_mut(body, "messages") {
            self.id_fields(
                message,
                &[("id", IdKind::Wamid), ("group_id", IdKind::Group)],
            );
        }
    }

    fn contact(&mut self, contact: &mut Value) {
        self.id_fields(
            contact,
            &[
                ("wa_id", IdKind::Phone),
                ("user_id", IdKind::User),
                ("parent_user_id", IdKind::User),
                ("identity_key_hash", IdKind::Opaque),
            ],
        );
        if let Some(profile) = contact.get_mut("profile") {
            self.id_fields(
                profile,
                &[("name", IdKind::Name), ("username", IdKind::Name)],
            );
        }
    }

    fn message(&mut self, m: &mut Value, text: &mut dyn FnMut(&mut String)) {
        self.id_fields(
            m,
            &[
                ("from", IdKind::Phone),
                ("from_user_id", IdKind::User),
                ("from_parent_user_id", IdKind::User),
                ("id", IdKind::Wamid),
                ("group_id", IdKind::Group),
            ],
        );
        if let Some(ctx) = m.get_mut("context") {
            self.id_fields(ctx, &[("id", IdKind::Wamid)]);
        }
        if let Some(reaction) = m.get_mut("reaction") {
            self.id_fields(reaction, &[("message_id", IdKind::Wamid)]);
        }
        if let Some(referral) = m.get_mut("referral") {
            self.id_fields(
                referral,
                &[("ctwa_clid", IdKind::Opaque), ("source_id", IdKind::Opaque)],
            );
            strip(
                referral,
                &["image_url", "video_url", "thumbnail_url", "source_url"],
            );
        }
        for media in ["image", "video", "audio", "document", "sticker"] {
            if let Some(obj) = m.get_mut(media) {
                self.id_fields(obj, &[("id", IdKind::Media)]);
                strip(obj, &["url", "sha256"]);
            }
        }
        if let Some(system) = m.get_mut("system") {
            self.id_fields(
                system,
                &[("wa_id", IdKind::Phone), ("user_id", IdKind::User)],
            );
            strip(system, &["body"]);
        }
        if let Some(cards) = m.get_mut("contacts") {
            *cards = reduced_contact_cards(cards);
        }
        if let Some(loc) = m.get_mut("location") {
            reduce_location(loc);
        }
        if let Some(Value::String(name)) = m.pointer_mut("/document/filename") {
            *name = neutral_filename(name);
        }
        for pointer in [
            "/text/body",
            "/image/caption",
            "/video/caption",
            "/document/caption",
            "/button/text",
            "/button/payload",
            "/interactive/button_reply/title",
            "/interactive/list_reply/title",
            "/interactive/list_reply/description",
            "/location/name",
        ] {
            if let Some(Value::String(s)) = m.pointer_mut(pointer) {
                text(s);
            }
        }
    }

    fn status(&mut self, s: &mut Value) {
        let group = s["recipient_type"] == "group";
        let recipient_kind = if group { IdKind::Group } else { IdKind::Phone };
        self.id_fields(
            s,
            &[
                ("id", IdKind::Wamid),
                ("recipient_id", recipient_kind),
                ("recipient_participant_id", IdKind::Phone),
                ("recipient_user_id", IdKind::User),
                ("parent_recipient_user_id", IdKind::User),
                ("recipient_identity_key_hash", IdKind::Opaque),
            ],
        );
        if let Some(conversation) = s.get_mut("conversation") {
            self.id_fields(conversation, &[("id", IdKind::Opaque)]);
        }
        for contact in array_mut(s, "contacts") {
            self.contact(contact);
        }
    }

    fn id_fields(&mut self, obj: &mut Value, fields: &[(&str, IdKind)]) {
        for (field, kind) in fields {
            if let Some(Value::String(v)) = obj.get_mut(*field) {
                *v = self.pseudonym(*kind, v);
            }
        }
    }
}

fn array_mut<'a>(value: &'a mut Value, key: &str) -> impl Iterator<Item = &'a mut Value> {
    value
        .get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

fn strip(obj: &mut Value, keys: &[&str]) {
    if let Some(map) = obj.as_object_mut() {
        for k in keys {
            map.remove(*k);
        }
    }
}

/// Shared contact cards describe third parties who never contacted the
/// business: only the fact that a card was shared, and its kinds of data,
/// are passed on.
fn reduced_contact_cards(cards: &Value) -> Value {
    let reduced: Vec<Value> = cards
        .as_array()
        .into_iter()
        .flatten()
        .map(|card| {
            let present: Vec<&str> = card
                .as_object()
                .map(|m: &Map<String, Value>| m.keys().map(String::as_str).collect())
                .unwrap_or_default();
            json!({"name": {"formatted_name": "[CONTACT_CARD]"}, "withheld": present})
        })
        .collect();
    Value::Array(reduced)
}

/// Coordinates are rounded to two decimals (about 1 km); the street
/// address and map link, which would undo that, are dropped.
fn reduce_location(loc: &mut Value) {
    for key in ["latitude", "longitude"] {
        if let Some(v) = loc.get(key).and_then(Value::as_f64) {
            loc[key] = json!((v * 100.0).round() / 100.0);
        }
    }
    strip(loc, &["url", "address"]);
}

/// File names often carry the person's name or the subject of a document
/// (`Arztbrief_Max_Muster.pdf`); only a short alphanumeric extension stays.
fn neutral_filename(name: &str) -> String {
    let ext = name.rsplit_once('.').map(|(_, ext)| ext).filter(|ext| {
        (1..=5).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    match ext {
        Some(ext) => format!("document.{}", ext.to_ascii_lowercase()),
        None => "document".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> PseudonymKey {
        PseudonymKey::new(&[3u8; 32])
    }

    fn inbound() -> Value {
        json!({"messaging_product":"whatsapp","metadata":{"display_phone_number":"493012345670","phone_number_id":"109"},
          "contacts":[{"profile":{"name":"Paula Probe","username":"paula.p"},"wa_id":"4915199999001","user_id":"DE.13491208655302741918","identity_key_hash":"abc"}],
          "messages":[
            {"from":"4915199999001","id":"wamid.HBgNNDkxNTE5OTk5OTAwMRUCABIYFDNFQjBGRkZGMDAwMDAwMDAwMDAxAA==","timestamp":"1","type":"image",
             "context":{"from":"493012345670","id":"wamid.BUSINESSMSG"},
             "image":{"caption":"Kassenbon","mime_type":"image/jpeg","sha256":"c2hh","id":"1330000000000123","url":"https://lookaside.fbsbx.com/x"}},
            {"from":"4915199999001","id":"wamid.C2","timestamp":"2","type":"contacts","contacts":[{"name":{"formatted_name":"Tom Dritter"},
              "phones":[{"phone":"+49 171 0000001","wa_id":"491710000001"}],"emails":[{"email":"tom@example.org"}],"birthday":"1985-02-03"}]},
            {"from":"4915199999001","id":"wamid.L3","timestamp":"3","type":"location","location":{"latitude":52.520008,"longitude":13.404954,"name":"Zuhause","url":"https://maps.example/x"}},
            {"from":"4915199999001","id":"wamid.S4","timestamp":"4","type":"system","system":{"body":"User changed from 4915199999001 to 4915199999002","wa_id":"4915199999002","type":"user_changed_number"}}],
          "statuses":[{"id":"wamid.OUT","status":"read","timestamp":"5","recipient_id":"4915199999001","recipient_user_id":"DE.13491208655302741918"}]})
    }

    #[test]
    fn no_identifier_of_the_inventory_survives() {
        let k = key();
        let mut p = Pseudonymiser::new(&k);
        let mut v = inbound();
        p.change_value(&mut v, &mut |_| {});
        let out = v.to_string();
        for secret in [
            "4915199999001",
            "4915199999002",
            "491710000001",
            "Paula Probe",
            "paula.p",
            "DE.1349120865",
            "HBgNNDkx",
            "BUSINESSMSG",
            "1330000000000123",
            "lookaside",
            "Tom Dritter",
            "tom@example.org",
            "1985-02-03",
            "52.520008",
            "\"abc\"",
            "c2hh",
        ] {
            assert!(!out.contains(secret), "{secret} leaked: {out}");
        }
        assert_eq!(
            v["metadata"]["display_phone_number"], "493012345670",
            "the business's own number stays"
        );
    }

    #[test]
    fn pseudonyms_are_stable_and_resolvable_ones_are_collected() {
        let k = key();
        let mut p = Pseudonymiser::new(&k);
        let mut a = inbound();
        p.change_value(&mut a, &mut |_| {});
        let from = a["messages"][0]["from"].as_str().unwrap().to_owned();
        assert_eq!(
            a["contacts"][0]["wa_id"],
            from.as_str(),
            "the same number gives the same pseudonym"
        );
        assert_eq!(a["statuses"][0]["recipient_id"], from.as_str());
        assert_eq!(IdKind::of_pseudonym(&from), Some(IdKind::Phone));
        let phone = p.mappings.iter().find(|m| m.pseudonym == from).unwrap();
        assert_eq!(phone.value, "4915199999001");
        assert!(
            p.mappings.iter().all(|m| m.kind != IdKind::Name),
            "names are one-way"
        );
        let wamid = a["messages"][0]["id"].as_str().unwrap();
        assert!(wamid.starts_with("wamid.ps_"));
        assert_eq!(IdKind::of_pseudonym(wamid), Some(IdKind::Wamid));
    }

    #[test]
    fn free_text_goes_through_the_text_transform() {
        let k = key();
        let mut p = Pseudonymiser::new(&k);
        let mut v = inbound();
        p.change_value(&mut v, &mut |s| *s = s.to_uppercase());
        assert_eq!(v["messages"][0]["image"]["caption"], "KASSENBON");
    }
}
