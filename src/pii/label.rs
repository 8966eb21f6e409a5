//! The PII categories, named as Presidio names them.

use std::fmt;
use std::str::FromStr;

/// A category of personal data. `as_str` gives the Presidio-compatible name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Label {
    /// Phone numbers (German and international written forms).
    PhoneNumber,
    /// E-mail addresses.
    EmailAddress,
    /// IBAN (mod-97 validated).
    IbanCode,
    /// Payment card numbers (Luhn + issuer ranges).
    CreditCard,
    /// Steuerliche Identifikationsnummer.
    DeTaxId,
    /// Rentenversicherungsnummer.
    DeSocialSecurity,
    /// Krankenversichertennummer.
    DeHealthInsurance,
    /// Personalausweis document number.
    DeIdCard,
    /// Reisepass document number.
    DePassport,
    /// USt-IdNr.
    DeVatId,
    /// IPv4 and IPv6 addresses.
    IpAddress,
    /// German licence plates.
    LicensePlate,
    /// A date in birth context.
    DateOfBirth,
    /// Street and house number.
    StreetAddress,
    /// Postal code.
    ZipCode,
    /// A person's town or city.
    City,
    /// Person names.
    Person,
    /// GDPR Art. 9 health data.
    HealthInfo,
}

/// A label name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown PII label {0:?}")]
pub struct UnknownLabel(pub String);

// === impl Label ===

impl Label {
    /// Every label, most specific first (the order breaks ties on overlaps).
    pub const ALL: [Self; 18] = [
        Self::IbanCode,
        Self::CreditCard,
        Self::DeSocialSecurity,
        Self::DeHealthInsurance,
        Self::DePassport,
        Self::DeIdCard,
        Self::DeVatId,
        Self::DeTaxId,
        Self::EmailAddress,
        Self::IpAddress,
        Self::PhoneNumber,
        Self::LicensePlate,
        Self::DateOfBirth,
        Self::StreetAddress,
        Self::ZipCode,
        Self::HealthInfo,
        Self::City,
        Self::Person,
    ];

    /// The Presidio-compatible name, e.g. `"IBAN_CODE"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PhoneNumber => "PHONE_NUMBER",
            Self::EmailAddress => "EMAIL_ADDRESS",
            Self::IbanCode => "IBAN_CODE",
            Self::CreditCard => "CREDIT_CARD",
            Self::DeTaxId => "DE_TAX_ID",
            Self::DeSocialSecurity => "DE_SOCIAL_SECURITY",
            Self::DeHealthInsurance => "DE_HEALTH_INSURANCE",
            Self::DeIdCard => "DE_ID_CARD",
            Self::DePassport => "DE_PASSPORT",
            Self::DeVatId => "DE_VAT_ID",
            Self::IpAddress => "IP_ADDRESS",
            Self::LicensePlate => "LICENSE_PLATE",
            Self::DateOfBirth => "DATE_OF_BIRTH",
            Self::StreetAddress => "STREET_ADDRESS",
            Self::ZipCode => "ZIP_CODE",
            Self::City => "CITY",
            Self::Person => "PERSON",
            Self::HealthInfo => "HEALTH_INFO",
        }
    }

    /// Specificity rank: lower is more specific.
    pub(crate) fn rank(self) -> usize {
        Self::ALL
            .iter()
            .position(|&l| l == self)
            .unwrap_or(usize::MAX)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Label {
    type Err = UnknownLabel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| UnknownLabel(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_round_trips_through_its_name() {
        for l in Label::ALL {
            assert_eq!(l.as_str().parse::<Label>(), Ok(l));
        }
        assert!("IBAN".parse::<Label>().is_err());
    }
}
