//! JSON with every non-ASCII character escaped as `\uXXXX` (lowercase hex,
//! UTF-16 surrogate pairs), as Python's `json.dumps(ensure_ascii=True)` and
//! Meta's webhook signing produce. serde_json writes raw UTF-8 by default.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

/// Serialises `value` compactly with non-ASCII characters escaped.
pub fn to_ascii_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(256);
    let mut serializer = Serializer::with_formatter(&mut out, AsciiFormatter);
    value.serialize(&mut serializer)?;
    Ok(out)
}

/// Compact output (the trait's defaults); string fragments escape
/// everything above U+007F.
struct AsciiFormatter;

impl Formatter for AsciiFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if c.is_ascii() {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn umlauts_and_emoji_are_escaped_like_python() {
        let v = json!({"body": "Wann öffnet die Filiale? 👍", "n": 1});
        let out = String::from_utf8(to_ascii_json(&v).unwrap()).unwrap();
        assert_eq!(
            out,
            r#"{"body":"Wann \u00f6ffnet die Filiale? \ud83d\udc4d","n":1}"#
        );
    }

    #[test]
    fn output_is_ascii_and_parses_back_to_the_same_value() {
        let v = json!({"a": "ä\u{7f}\"\\\n\u{1}", "b": ["€", {"c": "𝄞"}]});
        let bytes = to_ascii_json(&v).unwrap();
        assert!(bytes.is_ascii());
        assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), v);
    }
}
