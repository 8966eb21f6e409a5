//! Recipient phone numbers: normalised to E.164, never guessed.
//!
//! Meta prefixes a number that lacks a country code with the *business*
//! number's country code, which delivers to the wrong person when the
//! internal system meant another country. schleuse therefore accepts only
//! numbers that carry their country code (`+49…`, `0049…`, or the digits-only
//! `wa_id` form `49…` that Meta's own webhooks use) and that are valid numbers
//! of that country; national forms (`0151…`) are refused.

use phonenumber::Mode;

/// A phone number in E.164 form (`+` and digits).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct E164(String);

/// Why a number was refused. Never carries the number itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Empty or holds characters other than digits and separators.
    #[error("is not a phone number (only digits, +, spaces, -, /, . and parentheses are allowed)")]
    Malformed,
    /// A national number without country code (leading single 0).
    #[error("has no country code; write it in international form such as +49…")]
    MissingCountryCode,
    /// Not a valid number for the country code it starts with.
    #[error("is not a valid number for its country code")]
    Invalid,
}

// === impl E164 ===

impl E164 {
    /// Normalises a written phone number to E.164.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let digits = international_digits(input)?;
        let candidate = format!("+{digits}");
        let number = phonenumber::parse(None, &candidate).map_err(|_| PhoneError::Invalid)?;
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Invalid);
        }
        Ok(Self(number.format().mode(Mode::E164).to_string()))
    }

    /// The number with its leading `+`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits only, as Meta's `wa_id`.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }
}

/// Strips separators and the international prefix; returns the digits
/// starting with the country code.
fn international_digits(input: &str) -> Result<String, PhoneError> {
    let trimmed = input.trim();
    let (has_plus, rest) = match trimmed.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '/' | '.' | '(' | ')' | '\u{a0}' => {}
            _ => return Err(PhoneError::Malformed),
        }
    }
    if digits.len() < 7 || digits.len() > 17 {
        return Err(PhoneError::Malformed);
    }
    if has_plus {
        return Ok(digits);
    }
    if let Some(after) = digits.strip_prefix("00") {
        return Ok(after.to_owned());
    }
    if digits.starts_with('0') {
        return Err(PhoneError::MissingCountryCode);
    }
    Ok(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn international_forms_normalise_to_e164() {
        for input in [
            "+49 151 12345678",
            "0049 151 12345678",
            "4915112345678",
            "+49 (151) 123-456-78",
            "+49/151/12345678",
        ] {
            assert_eq!(
                E164::parse(input).unwrap().as_str(),
                "+4915112345678",
                "{input}"
            );
        }
    }

    #[test]
    fn national_numbers_are_refused_for_lack_of_country_code() {
        assert_eq!(
            E164::parse("0151 12345678"),
            Err(PhoneError::MissingCountryCode)
        );
        assert_eq!(
            E164::parse("015112345678"),
            Err(PhoneError::MissingCountryCode)
        );
    }

    #[test]
    fn digits_without_a_plausible_country_code_are_invalid() {
        // A German mobile number with its trunk 0 dropped reads as +1 51…,
        // which is no valid North American number.
        assert_eq!(E164::parse("15112345678"), Err(PhoneError::Invalid));
    }

    #[test]
    fn letters_and_empty_input_are_malformed() {
        assert_eq!(E164::parse(""), Err(PhoneError::Malformed));
        assert_eq!(E164::parse("+49 151 CALLME"), Err(PhoneError::Malformed));
        assert_eq!(E164::parse("+49"), Err(PhoneError::Malformed));
    }

    #[test]
    fn wa_id_is_the_digits() {
        assert_eq!(
            E164::parse("+4915112345678").unwrap().digits(),
            "4915112345678"
        );
    }
}
