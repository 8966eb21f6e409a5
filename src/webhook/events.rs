//! The events in a webhook batch that schleuse learns from: inbound
//! messages (they open the service window and may carry opt-out/opt-in
//! keywords or button payloads), delivery statuses (they close the audit
//! record of a send; 131050 and 131026 change what may be sent next) and
//! marketing preference changes (`user_preferences` stop/resume).
//!
//! Extraction is pure: it reads a parsed batch and never fails on shapes
//! it does not know — those are delivered inward but teach nothing.

use serde_json::Value;

/// Who an event is about. At least one of the two is present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// The `wa_id` (digits with country code), when Meta sent it.
    pub wa_id: Option<String>,
    /// The business-scoped user id, when Meta sent it.
    pub user_id: Option<String>,
}

/// One thing the gateway learns from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The customer wrote.
    Message {
        /// Business number the message was sent to.
        phone_number_id: String,
        /// The customer.
        from: Person,
        /// wamid of the inbound message.
        wamid: String,
        /// Unix seconds, as Meta stated.
        timestamp: i64,
        /// Text that keywords are matched against: the text body, a quick-reply
        /// button's payload or label, an interactive reply's id or title.
        keyword_text: Vec<String>,
        /// Message type (`text`, `button`, …).
        kind: String,
    },
    /// A delivery status of an outbound message.
    Status {
        /// Business number.
        phone_number_id: String,
        /// The recipient.
        recipient: Person,
        /// wamid of the outbound message.
        wamid: String,
        /// `sent`, `delivered`, `read`, `played` or `failed`.
        status: String,
        /// Unix seconds.
        timestamp: i64,
        /// Error codes of a failed status.
        error_codes: Vec<u32>,
    },
    /// The customer stopped or resumed marketing messages in WhatsApp.
    Preference {
        /// Business number.
        phone_number_id: String,
        /// The customer.
        who: Person,
        /// `stop` or `resume`.
        value: String,
        /// Category, e.g. `marketing_messages`.
        category: String,
        /// Unix seconds.
        timestamp: i64,
    },
}

/// Every learnable event of a batch, in batch order.
pub fn events(batch: &Value) -> Vec<Event> {
    let mut out = Vec::new();
    for change in changes(batch) {
        let value = &change["value"];
        let pnid = value
            .pointer("/metadata/phone_number_id")
            .and_then(Value::as_str)
            .unwrap_or("");
        match change["field"].as_str() {
            Some("messages") => {
                out.extend(array(value, "messages").filter_map(|m| message(pnid, m)));
                out.extend(array(value, "statuses").filter_map(|s| status(pnid, s)));
            }
            Some("user_preferences") => {
                out.extend(array(value, "user_preferences").filter_map(|p| preference(pnid, p)));
            }
            _ => {}
        }
    }
    out
}

/// The `entry[].changes[]` objects of a batch.
pub fn changes(batch: &Value) -> impl Iterator<Item = &Value> {
    batch["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|entry| entry["changes"].as_array().into_iter().flatten())
}

fn array<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value[key].as_array().into_iter().flatten()
}

fn message(pnid: &str, m: &Value) -> Option<Event> {
    let from = person(m, "from", "from_user_id")?;
    let kind = m["type"].as_str().unwrap_or("unknown").to_owned();
    Some(Event::Message {
        phone_number_id: pnid.to_owned(),
        from,
        wamid: m["id"].as_str()?.to_owned(),
        timestamp: unix(&m["timestamp"]),
        keyword_text: keyword_text(m),
        kind,
    })
}

fn status(pnid: &str, s: &Value) -> Option<Event> {
    let recipient = person(s, "recipient_id", "recipient_user_id")?;
    let error_codes = array(s, "errors")
        .filter_map(|e| e["code"].as_u64().and_then(|c| u32::try_from(c).ok()))
        .collect();
    Some(Event::Status {
        phone_number_id: pnid.to_owned(),
        recipient,
        wamid: s["id"].as_str()?.to_owned(),
        status: s["status"].as_str()?.to_owned(),
        timestamp: unix(&s["timestamp"]),
        error_codes,
    })
}

fn preference(pnid: &str, p: &Value) -> Option<Event> {
    Some(Event::Preference {
        phone_number_id: pnid.to_owned(),
        who: person(p, "wa_id", "user_id")?,
        value: p["value"].as_str()?.to_owned(),
        category: p["category"].as_str().unwrap_or("").to_owned(),
        timestamp: unix(&p["timestamp"]),
    })
}

fn person(v: &Value, phone_key: &str, user_key: &str) -> Option<Person> {
    let wa_id = v[phone_key].as_str().map(str::to_owned);
    let user_id = v[user_key].as_str().map(str::to_owned);
    (wa_id.is_some() || user_id.is_some()).then_some(Person { wa_id, user_id })
}

fn keyword_text(m: &Value) -> Vec<String> {
    let candidates = [
        m.pointer("/text/body"),
        m.pointer("/button/payload"),
        m.pointer("/button/text"),
        m.pointer("/interactive/button_reply/id"),
        m.pointer("/interactive/button_reply/title"),
        m.pointer("/interactive/list_reply/id"),
        m.pointer("/interactive/list_reply/title"),
    ];
    candidates
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// Meta sends timestamps as decimal strings (sometimes numbers).
fn unix(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn batch(field: &str, value: Value) -> Value {
        json!({"object":"whatsapp_business_account","entry":[{"id":"300000000000001","changes":[{"field":field,"value":value}]}]})
    }

    #[test]
    fn inbound_text_and_button_replies_carry_their_keyword_text() {
        let b = batch(
            "messages",
            json!({"metadata":{"phone_number_id":"109"},
            "messages":[
              {"from":"4915199999001","id":"wamid.A","timestamp":"1781100000","type":"text","text":{"body":"STOP"}},
              {"from":"4915199999001","id":"wamid.B","timestamp":"1781100180","type":"button","button":{"payload":"UNSUB","text":"Abmelden"}},
              {"from":"4915199999001","id":"wamid.C","timestamp":"1781100190","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"stop","title":"Stopp"}}}]}),
        );
        let ev = events(&b);
        assert_eq!(ev.len(), 3);
        let Event::Message {
            keyword_text,
            timestamp,
            from,
            ..
        } = &ev[1]
        else {
            panic!()
        };
        assert_eq!(keyword_text, &["UNSUB", "Abmelden"]);
        assert_eq!(*timestamp, 1781100180);
        assert_eq!(from.wa_id.as_deref(), Some("4915199999001"));
    }

    #[test]
    fn failed_statuses_carry_their_error_codes() {
        let b = batch(
            "messages",
            json!({"metadata":{"phone_number_id":"109"},"statuses":[
            {"id":"wamid.OUT","status":"failed","timestamp":"1781100300","recipient_id":"4915199999001",
             "errors":[{"code":131050,"title":"x"}]}]}),
        );
        let ev = events(&b);
        assert!(
            matches!(&ev[0], Event::Status { status, error_codes, .. } if status == "failed" && error_codes == &[131050])
        );
    }

    #[test]
    fn user_preferences_and_bsuid_only_people_are_understood() {
        let b = batch(
            "user_preferences",
            json!({"metadata":{"phone_number_id":"109"},"user_preferences":[
            {"user_id":"DE.1234567","category":"marketing_messages","value":"stop","timestamp":1781100400}]}),
        );
        let ev = events(&b);
        assert!(
            matches!(&ev[0], Event::Preference { who, value, .. } if who.wa_id.is_none() && who.user_id.as_deref() == Some("DE.1234567") && value == "stop")
        );
    }

    #[test]
    fn unknown_shapes_teach_nothing_and_do_not_panic() {
        for v in [
            json!(null),
            json!({"entry":5}),
            json!({"entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":1}]}}]}]}),
        ] {
            assert!(events(&v).is_empty());
        }
    }
}
