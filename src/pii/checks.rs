//! Check-digit algorithms for the structured identifiers.
//!
//! Every function takes the candidate *without* separators is not assumed:
//! callers pass the raw match and the functions skip spaces, hyphens and
//! slashes themselves, so no normalised copy is ever allocated.

/// ISO 13616 IBAN: known country length and ISO 7064 MOD 97-10 remainder 1.
pub(crate) fn iban(raw: &str) -> bool {
    let mut chars = raw.bytes().filter(u8::is_ascii_alphanumeric);
    let mut head = [0u8; 4];
    for slot in &mut head {
        match chars.next() {
            Some(b) => *slot = b.to_ascii_uppercase(),
            None => return false,
        }
    }
    let Some(len) = iban_length(&head[..2]) else {
        return false;
    };
    if !head[2].is_ascii_digit() || !head[3].is_ascii_digit() {
        return false;
    }
    let mut rem: u32 = 0;
    let mut count = 4;
    for b in chars.chain(head.iter().copied()) {
        rem = match mod97_step(rem, b.to_ascii_uppercase()) {
            Some(r) => r,
            None => return false,
        };
        count += 1;
    }
    // `count` was started at 4 for the head and the head was chained again.
    count - 4 == len && rem == 1
}

/// Length of the IBAN for a country code, if the country uses IBAN.
pub(crate) fn iban_length(cc: &[u8]) -> Option<usize> {
    IBAN_LENGTHS
        .iter()
        .find(|(c, _)| c.as_bytes() == cc)
        .map(|&(_, l)| l)
}

/// Luhn (mod 10) over the digits of `raw`.
pub(crate) fn luhn(raw: &str) -> bool {
    let mut sum = 0u32;
    let mut n = 0;
    for (i, d) in raw.bytes().rev().filter(u8::is_ascii_digit).enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
        n += 1;
    }
    n >= 12 && sum.is_multiple_of(10)
}

/// Card issuer ranges (Visa, Mastercard, Amex, Discover, JCB, Diners) with
/// the lengths each issuer uses.
pub(crate) fn card_issuer_ok(digits: &[u8]) -> bool {
    let len = digits.len();
    let prefix = |n: usize| -> u32 {
        digits
            .iter()
            .take(n)
            .fold(0, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    match digits.first() {
        Some(b'4') => matches!(len, 13 | 16 | 19),
        Some(b'5') => (51..=55).contains(&prefix(2)) && len == 16,
        Some(b'2') => (2221..=2720).contains(&prefix(4)) && len == 16,
        Some(b'3') => match prefix(2) {
            34 | 37 => len == 15,
            36 | 38 | 39 | 30 => len == 14 || len == 16,
            35 => (3528..=3589).contains(&prefix(4)) && len == 16,
            _ => false,
        },
        Some(b'6') => {
            (prefix(4) == 6011 || prefix(2) == 65 || (644..=649).contains(&prefix(3))) && len == 16
        }
        _ => false,
    }
}

/// ISO 7064 MOD 11,10 over all digits but the last, compared to the last.
/// False for anything but ASCII digits.
pub(crate) fn mod11_10(digits: &[u8]) -> bool {
    let Some((&check, body)) = digits.split_last() else {
        return false;
    };
    if !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut p = 10u32;
    for &d in body {
        let mut s = (u32::from(d - b'0') + p) % 10;
        if s == 0 {
            s = 10;
        }
        p = (2 * s) % 11;
    }
    let expected = (11 - p) % 10;
    expected == u32::from(check - b'0')
}

/// Steuer-IdNr: 11 digits, no leading 0, repetition rule, MOD 11,10.
pub(crate) fn tax_id(digits: &[u8]) -> bool {
    if digits.len() != 11 || digits[0] == b'0' || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut counts = [0u8; 10];
    for &d in &digits[..10] {
        counts[usize::from(d - b'0')] += 1;
    }
    let repeated = counts.iter().filter(|&&c| c >= 2).count();
    let too_many = counts.iter().any(|&c| c > 3);
    let triple_run = digits[..10]
        .windows(3)
        .any(|w| w[0] == w[1] && w[1] == w[2]);
    repeated == 1 && !too_many && !triple_run && mod11_10(digits)
}

/// USt-IdNr digits (9, after the `DE`): MOD 11,10.
pub(crate) fn vat_id(digits: &[u8]) -> bool {
    digits.len() == 9 && digits[0] != b'0' && mod11_10(digits)
}

/// Rentenversicherungsnummer: 2-digit area, DDMMYY, letter, 2-digit serial,
/// check digit (weights 2,1,2,5,7,1,2,1,2,1,2,1 on digit sums).
pub(crate) fn rvnr(chars: &[u8]) -> bool {
    if chars.len() != 12 || !chars[8].is_ascii_alphabetic() {
        return false;
    }
    let num = |i: usize| u32::from(chars[i] - b'0');
    let day = num(2) * 10 + num(3);
    let month = num(4) * 10 + num(5);
    let day_ok = (1..=31).contains(&day) || (51..=81).contains(&day);
    if !day_ok || !(1..=12).contains(&month) {
        return false;
    }
    let letter = u32::from(chars[8].to_ascii_uppercase() - b'A' + 1);
    let mut seq = [0u32; 12];
    for (i, slot) in seq.iter_mut().enumerate().take(8) {
        *slot = num(i);
    }
    seq[8] = letter / 10;
    seq[9] = letter % 10;
    seq[10] = num(9);
    seq[11] = num(10);
    const W: [u32; 12] = [2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1];
    let sum: u32 = seq.iter().zip(W).map(|(d, w)| digit_sum(d * w)).sum();
    sum % 10 == num(11)
}

/// Krankenversichertennummer: letter, 8 digits, check digit.
pub(crate) fn kvnr(chars: &[u8]) -> bool {
    if chars.len() != 10 || !chars[0].is_ascii_alphabetic() {
        return false;
    }
    let letter = u32::from(chars[0].to_ascii_uppercase() - b'A' + 1);
    let mut seq = [0u32; 10];
    seq[0] = letter / 10;
    seq[1] = letter % 10;
    for i in 1..9 {
        seq[i + 1] = u32::from(chars[i] - b'0');
    }
    let sum: u32 = seq
        .iter()
        .enumerate()
        .map(|(i, d)| digit_sum(d * if i % 2 == 0 { 1 } else { 2 }))
        .sum();
    sum % 10 == u32::from(chars[9] - b'0')
}

/// ICAO 9303 7-3-1 check digit of the first `n-1` characters against the last.
pub(crate) fn icao(chars: &[u8]) -> bool {
    let Some((&check, body)) = chars.split_last() else {
        return false;
    };
    if !check.is_ascii_digit() {
        return false;
    }
    let mut sum = 0u32;
    for (i, &c) in body.iter().enumerate() {
        let v = match c.to_ascii_uppercase() {
            d @ b'0'..=b'9' => u32::from(d - b'0'),
            l @ b'A'..=b'Z' => u32::from(l - b'A') + 10,
            _ => return false,
        };
        sum += v * [7, 3, 1][i % 3];
    }
    sum % 10 == u32::from(check - b'0')
}

fn digit_sum(v: u32) -> u32 {
    v / 10 + v % 10
}

fn mod97_step(rem: u32, b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some((rem * 10 + u32::from(b - b'0')) % 97),
        b'A'..=b'Z' => Some((rem * 100 + u32::from(b - b'A') + 10) % 97),
        _ => None,
    }
}

const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("DE", 22),
    ("AT", 20),
    ("CH", 21),
    ("NL", 18),
    ("BE", 16),
    ("FR", 27),
    ("ES", 24),
    ("PL", 28),
    ("LU", 20),
    ("IT", 27),
    ("GB", 22),
    ("LI", 21),
    ("DK", 18),
    ("SE", 24),
    ("NO", 15),
    ("FI", 18),
    ("PT", 25),
    ("IE", 22),
    ("CZ", 24),
    ("SK", 24),
    ("HU", 28),
    ("SI", 19),
    ("HR", 21),
    ("GR", 27),
    ("RO", 24),
    ("BG", 22),
    ("LT", 20),
    ("LV", 21),
    ("EE", 20),
    ("MT", 31),
    ("CY", 28),
    ("MC", 27),
    ("SM", 27),
    ("TR", 26),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iban_accepts_published_example_and_rejects_changed_digit() {
        assert!(iban("DE89370400440532013000"));
        assert!(iban("DE89 3704 0044 0532 0130 00"));
        assert!(iban("de89 3704 0044 0532 0130 00"));
        assert!(!iban("DE89370400440532013001"));
        assert!(!iban("DE8937040044053201300"));
        assert!(!iban("XX89370400440532013000"));
    }

    #[test]
    fn luhn_and_issuer_accept_test_cards_only() {
        assert!(luhn("4111 1111 1111 1111"));
        assert!(!luhn("4111 1111 1111 1112"));
        assert!(card_issuer_ok(b"4111111111111111"));
        assert!(card_issuer_ok(b"378282246310005"));
        assert!(card_issuer_ok(b"2221000000000009"));
        assert!(!card_issuer_ok(b"9111111111111111"));
        assert!(!card_issuer_ok(b"5611111111111111"));
    }

    #[test]
    fn tax_id_checks_digit_and_repetition_rule() {
        assert!(tax_id(b"86095742719"));
        assert!(tax_id(b"36574261809"));
        assert!(!tax_id(b"86095742718"));
        assert!(!tax_id(b"06095742719"));
        assert!(!tax_id(b"12345678903"));
        // Anything but digits is rejected, never indexed by.
        assert!(!tax_id(b"8609574271A"));
        assert!(!tax_id(b"A6095742719"));
        assert!(!mod11_10(b"12-4"));
    }

    #[test]
    fn vat_id_checks_mod_11_10() {
        assert!(vat_id(b"136695976"));
        assert!(!vat_id(b"136695977"));
    }

    #[test]
    fn rvnr_checks_date_and_check_digit() {
        assert!(rvnr(b"15070649C103"));
        assert!(!rvnr(b"15070649C104"));
        assert!(!rvnr(b"15071349C103"));
    }

    #[test]
    fn kvnr_checks_digit() {
        assert!(kvnr(b"A123456780"));
        assert!(!kvnr(b"A123456781"));
    }

    #[test]
    fn icao_checks_document_numbers() {
        assert!(icao(b"T220001293"));
        assert!(icao(b"C01X00T478"));
        assert!(!icao(b"C01X00T479"));
        assert!(icao(b"L01X00T471"));
    }
}
