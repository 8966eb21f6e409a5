//! Kinds of identifiers and the pseudonyms made of them.
//!
//! Each kind has its own HMAC domain and a visible prefix, so a pseudonym
//! says what it stands for (`pn_…` a phone number, `wamid.ps_…` a message)
//! and the gateway can tell a pseudonym from a real value on the way out.

/// Kinds of identifiers, each with its own pseudonym prefix and HMAC domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// A phone number / `wa_id` (resolvable).
    Phone,
    /// A business-scoped user id (resolvable).
    User,
    /// A message id (resolvable).
    Wamid,
    /// A group id (resolvable).
    Group,
    /// A media id (resolvable).
    Media,
    /// A display name or username (one-way).
    Name,
    /// Identity key hashes, ad click ids (one-way).
    Opaque,
}

/// A pseudonym the gateway must be able to resolve later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// What kind of identifier.
    pub kind: IdKind,
    /// The pseudonym handed to the internal system.
    pub pseudonym: String,
    /// The real value.
    pub value: String,
}

// === impl IdKind ===

impl IdKind {
    pub(crate) fn domain(self) -> &'static str {
        match self {
            Self::Phone => "id:phone",
            Self::User => "id:user",
            Self::Wamid => "id:wamid",
            Self::Group => "id:group",
            Self::Media => "id:media",
            Self::Name => "id:name",
            Self::Opaque => "id:opaque",
        }
    }

    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Self::Phone => "pn_",
            Self::User => "pu_",
            Self::Wamid => "wamid.ps_",
            Self::Group => "pg_",
            Self::Media => "pm_",
            Self::Name => "pp_",
            Self::Opaque => "po_",
        }
    }

    /// Whether the gateway keeps a way back to the real value.
    pub fn resolvable(self) -> bool {
        !matches!(self, Self::Name | Self::Opaque)
    }

    /// The kind a pseudonym was made for, from its prefix.
    pub fn of_pseudonym(text: &str) -> Option<Self> {
        [
            Self::Phone,
            Self::User,
            Self::Wamid,
            Self::Group,
            Self::Media,
        ]
        .into_iter()
        .find(|k| {
            text.strip_prefix(k.prefix())
                .is_some_and(|rest| rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_hexdigit()))
        })
    }

    /// Stable name of the kind (storage).
    pub fn as_str(self) -> &'static str {
        self.domain()
    }
}
