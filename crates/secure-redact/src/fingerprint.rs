//! [`Fingerprint`]: a keyed blake3 hash of a secret as 64 lowercase hex digits, held inline.

use std::fmt;

/// A keyed blake3 fingerprint of a secret: 64 lowercase hex digits, held inline (a finding
/// carries one without an allocation). Reads as a `&str` ([`Fingerprint::as_str`], `Deref`),
/// prints and serializes as the hex string, compares with strings.
///
/// ```
/// use secure_redact::Scanner;
///
/// let fp = Scanner::new().fingerprint(b"ghp_i6ueojowig3fjl1dzvq3uhfm0ig05bkhoiz6");
/// assert_eq!(fp.len(), 64);
/// assert!(fp.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
/// assert_eq!(fp.short(), &fp[..6]);
/// assert_eq!(fp, fp.to_string());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 64]);

impl Fingerprint {
    /// The hex digits of `hash`, two per byte through a table of digit pairs.
    pub(crate) fn of(hash: &blake3::Hash) -> Fingerprint {
        const PAIRS: [[u8; 2]; 256] = {
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            let mut t = [[0u8; 2]; 256];
            let mut i = 0;
            while i < 256 {
                t[i] = [DIGITS[i >> 4], DIGITS[i & 15]];
                i += 1;
            }
            t
        };
        let mut out = [[0u8; 2]; 32];
        for (pair, &b) in out.iter_mut().zip(hash.as_bytes()) {
            *pair = PAIRS[usize::from(b)];
        }
        let mut hex = [0u8; 64];
        hex.copy_from_slice(out.as_flattened());
        Fingerprint(hex)
    }

    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        // Only ever built from hex digits (by `of` and by parsing, which checks).
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The first six hex digits (what placeholders show).
    pub fn short(&self) -> &str {
        self.as_str().get(..6).unwrap_or_default()
    }
}

impl std::ops::Deref for Fingerprint {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Fingerprint {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::str::FromStr for Fingerprint {
    type Err = crate::Error;

    /// Parses 64 hex digits (either case; kept lowercase).
    fn from_str(s: &str) -> crate::Result<Fingerprint> {
        let b = s.as_bytes();
        if b.len() != 64 || !b.iter().all(u8::is_ascii_hexdigit) {
            return Err(crate::Error::Invalid(format!(
                "a fingerprint is 64 hex digits, got {} bytes",
                b.len()
            )));
        }
        let mut hex = [0u8; 64];
        for (d, s) in hex.iter_mut().zip(b) {
            *d = s.to_ascii_lowercase();
        }
        Ok(Fingerprint(hex))
    }
}

impl From<Fingerprint> for String {
    fn from(f: Fingerprint) -> String {
        f.as_str().to_string()
    }
}

impl PartialEq<str> for Fingerprint {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Fingerprint {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Fingerprint {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Fingerprint> for String {
    fn eq(&self, other: &Fingerprint) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Fingerprint> for &str {
    fn eq(&self, other: &Fingerprint) -> bool {
        *self == other.as_str()
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Fingerprint, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::Fingerprint;

    #[test]
    fn hex_of_the_hash_and_back() {
        for input in [&b""[..], b"a", &[0xff; 300]] {
            let h = blake3::keyed_hash(&[3; 32], input);
            let f = Fingerprint::of(&h);
            assert_eq!(f.as_str(), h.to_hex().as_str());
            assert_eq!(f.as_str().parse::<Fingerprint>().expect("parses"), f);
            assert_eq!(
                f.to_ascii_uppercase()
                    .parse::<Fingerprint>()
                    .expect("parses"),
                f
            );
            let json = serde_json::to_string(&f).expect("serializes");
            assert_eq!(json, format!("\"{f}\""));
            assert_eq!(
                serde_json::from_str::<Fingerprint>(&json).expect("parses"),
                f
            );
        }
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(65)] {
            assert!(bad.parse::<Fingerprint>().is_err(), "{bad:?}");
        }
    }
}
