//! Classification levels: `public < internal < sensitive < classified`.

use std::fmt;
use std::str::FromStr;

/// How sensitive a finding (or a whole document) is. Ordered: `Public < Internal < Sensitive < Classified`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Nothing worth hiding.
    #[default]
    Public,
    /// Internal details: e-mail addresses, phone numbers, IP addresses.
    Internal,
    /// Credentials, payment cards, IBANs, social security numbers.
    Sensitive,
    /// The keys to the kingdom: private keys, cloud root credentials, connection strings with passwords.
    Classified,
}

impl Level {
    /// All levels, lowest first.
    pub const ALL: [Level; 4] = [
        Level::Public,
        Level::Internal,
        Level::Sensitive,
        Level::Classified,
    ];

    /// The lowercase name (`"sensitive"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Public => "public",
            Level::Internal => "internal",
            Level::Sensitive => "sensitive",
            Level::Classified => "classified",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "public" => Ok(Level::Public),
            "internal" => Ok(Level::Internal),
            "sensitive" => Ok(Level::Sensitive),
            "classified" => Ok(Level::Classified),
            other => Err(crate::Error::Invalid(format!(
                "unknown level {other:?} (expected public, internal, sensitive or classified)"
            ))),
        }
    }
}
