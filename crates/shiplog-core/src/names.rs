//! Validated names and identifiers.
//!
//! Raw text from the command line, import files or (later) webhooks becomes one of these types exactly
//! once, at the edge. Everything inside shiplog accepts only these types, so a service name with a
//! space in it or a sha with a `g` in it can never reach the metrics.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a piece of text is not a valid name or identifier. The message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The text was empty (or only whitespace).
    #[error("expected a non-empty {what}")]
    Empty {
        /// What kind of value was expected, e.g. "service name".
        what: &'static str,
    },
    /// The text is longer than allowed.
    #[error("expected a {what} of at most {max} characters, got {len}")]
    TooLong {
        /// What kind of value was expected.
        what: &'static str,
        /// The largest length allowed.
        max: usize,
        /// The length given.
        len: usize,
    },
    /// The text holds a character that is not allowed.
    #[error("expected a {what} made of {allowed}, got {} in {text:?}", describe_char(*found))]
    BadCharacter {
        /// What kind of value was expected.
        what: &'static str,
        /// A description of the allowed characters.
        allowed: &'static str,
        /// The first offending character.
        found: char,
        /// The whole text.
        text: String,
    },
    /// A sha was not hexadecimal of an acceptable length.
    #[error("expected {expected}, got {text:?}")]
    BadSha {
        /// What was expected, e.g. "a 40-character hexadecimal commit sha".
        expected: &'static str,
        /// The text given.
        text: String,
    },
}

/// A character as error messages show it: quoted, with its code point when it is not ASCII (a
/// Cyrillic `а` looks like a Latin `a`).
fn describe_char(c: char) -> String {
    if c.is_ascii() {
        format!("{c:?}")
    } else {
        format!("{c:?} (U+{:04X}, not ASCII)", u32::from(c))
    }
}

/// The characters a kind of name may hold: a test, and how error messages describe it.
#[derive(Clone, Copy)]
pub(crate) struct Charset {
    pub(crate) allowed: &'static str,
    pub(crate) ok: fn(char) -> bool,
}

/// Letters, digits and `-_./:`: services, environments, teams, deployment and incident ids.
pub(crate) const NAME_CHARS: Charset = Charset {
    allowed: "letters, digits, '-', '_', '.', '/' and ':'",
    ok: |c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':'),
};

/// ASCII letters, digits and `-_./:`: services, environments and teams, the names metrics are
/// grouped by. ASCII only, so that look-alikes (a Cyrillic `а` in `аpi`, a full-width `ａｐｉ`)
/// cannot make a second service that reads like the first; see docs/import.md.
pub(crate) const SCOPE_CHARS: Charset = Charset {
    allowed: "ASCII letters, digits, '-', '_', '.', '/' and ':'",
    ok: |c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':'),
};

/// [`NAME_CHARS`] and `@`, `+`: deployment ids, which carry tag names (`tag:@acme/web@2.0.1`,
/// `tag:v1.0.0+build.5`).
pub(crate) const ID_CHARS: Charset = Charset {
    allowed: "letters, digits, '-', '_', '.', '/', ':', '@' and '+'",
    ok: |c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '@' | '+'),
};

pub(crate) fn validate_name(
    text: &str,
    what: &'static str,
    max: usize,
    chars: Charset,
) -> Result<String, NameError> {
    let text = text.trim();
    check_name(text, what, max, chars)?;
    Ok(text.to_owned())
}

/// Like [`validate_name`], keeping `text`'s allocation when it needs no trimming (names made in
/// bulk, such as one deployment id per tag).
pub(crate) fn validate_owned_name(
    text: String,
    what: &'static str,
    max: usize,
    chars: Charset,
) -> Result<String, NameError> {
    if text.trim().len() != text.len() {
        return validate_name(&text, what, max, chars);
    }
    check_name(&text, what, max, chars)?;
    Ok(text)
}

/// Checks an already trimmed name.
fn check_name(text: &str, what: &'static str, max: usize, chars: Charset) -> Result<(), NameError> {
    if text.is_empty() {
        return Err(NameError::Empty { what });
    }
    let len = text.chars().count();
    if len > max {
        return Err(NameError::TooLong { what, max, len });
    }
    if let Some(found) = text.chars().find(|&c| !(chars.ok)(c)) {
        return Err(NameError::BadCharacter {
            what,
            allowed: chars.allowed,
            found,
            text: text.to_owned(),
        });
    }
    Ok(())
}

/// How a name type holds its text: a `String`, or an `Arc<str>` for names that are cloned into
/// every record (one service and one environment for thousands of deployments derived from tags:
/// a clone is then a reference count, not an allocation).
pub(crate) trait NameText: From<String> + std::ops::Deref<Target = str> {
    fn into_string(self) -> String;
}

impl NameText for String {
    fn into_string(self) -> String {
        self
    }
}

impl NameText for std::sync::Arc<str> {
    fn into_string(self) -> String {
        self.as_ref().to_owned()
    }
}

/// A validated name type: `$what` for error messages, at most `$max` characters of `$chars`
/// (default [`NAME_CHARS`]), held as `$text`.
macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:literal, $text:ty) => {
        $crate::names::name_type!($(#[$doc])* $name, $what, $max, $text, $crate::names::NAME_CHARS);
    };
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:literal, $text:ty, $chars:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name($text);

        impl $name {
            /// Validates `text` (surrounding whitespace is trimmed).
            pub fn new(text: &str) -> Result<Self, NameError> {
                $crate::names::validate_name(text, $what, $max, $chars).map(|t| Self(t.into()))
            }

            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = NameError;
            fn from_str(text: &str) -> Result<Self, NameError> {
                Self::new(text)
            }
        }

        impl TryFrom<String> for $name {
            type Error = NameError;
            fn try_from(text: String) -> Result<Self, NameError> {
                $crate::names::validate_owned_name(text, $what, $max, $chars)
                    .map(|t| Self(t.into()))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                $crate::names::NameText::into_string(value.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}
pub(crate) use name_type;

name_type!(
    /// A service: the unit that is deployed (e.g. `api`, `payments/worker`).
    ServiceName,
    "service name",
    100,
    std::sync::Arc<str>,
    crate::names::SCOPE_CHARS
);
impl ServiceName {
    /// `text` made a valid service name, for defaults derived from names shiplog did not choose
    /// (a repository's directory, a release train): a trailing `.git` and a leading `@` are
    /// dropped, each run of characters outside the alphabet (with the dashes beside it) becomes one
    /// `-`, and dashes at either end are trimmed; a name that is valid already is kept as it is. `c++-tools` → `c-tools`, `my project` → `my-project`, `owner+name.git` →
    /// `owner-name`, `@acme/web` → `acme/web`. An error when nothing valid is left.
    pub fn made_valid(text: &str) -> Result<Self, NameError> {
        let text = text.trim();
        let text = text.strip_suffix(".git").unwrap_or(text);
        let text = text.strip_prefix('@').unwrap_or(text);
        if let Ok(valid) = Self::new(text) {
            return Ok(valid);
        }
        // Odd characters become `-`, and a run of `-` they leave collapses to one.
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            let c = if (SCOPE_CHARS.ok)(c) { c } else { '-' };
            if !(c == '-' && out.ends_with('-')) {
                out.push(c);
            }
        }
        let out: String = out.trim_matches('-').chars().take(100).collect();
        Self::new(&out)
    }
}

name_type!(
    /// A deployment environment (e.g. `production`, `staging`).
    Environment,
    "environment name",
    100,
    std::sync::Arc<str>,
    crate::names::SCOPE_CHARS
);
name_type!(
    /// The identifier of a deployment, unique in a store (e.g. `d-17`, or `tag/v1.2.0` for a
    /// deployment derived from a git tag).
    DeploymentId,
    "deployment id",
    255,
    String,
    crate::names::ID_CHARS
);
name_type!(
    /// The identifier of an incident, unique in a store (e.g. `inc-4`).
    IncidentId,
    "incident id",
    255,
    String
);

impl Environment {
    /// The environment DORA's metrics are about unless told otherwise.
    pub fn production() -> Self {
        static PRODUCTION: std::sync::LazyLock<Environment> =
            std::sync::LazyLock::new(|| Environment(std::sync::Arc::from("production")));
        PRODUCTION.clone()
    }
}

/// A full SHA-1 commit id (20 bytes). Displays as 40 lowercase hex characters.
///
/// Plain bytes (`Pod`), so a column of shas can be read in place from a cache's bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(transparent)]
pub struct Sha([u8; 20]);

impl Sha {
    /// Wraps raw bytes.
    pub const fn from_bytes(bytes: [u8; 20]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// Parses exactly 40 hexadecimal characters (either case).
    pub fn from_hex(text: &str) -> Result<Self, NameError> {
        let bad = || NameError::BadSha {
            expected: "a 40-character hexadecimal commit sha",
            text: text.to_owned(),
        };
        let bytes = text.trim().as_bytes();
        if bytes.len() != 40 {
            return Err(bad());
        }
        let mut out = [0u8; 20];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let hi = hex_value(pair[0]).ok_or_else(bad)?;
            let lo = hex_value(pair[1]).ok_or_else(bad)?;
            out[i] = (hi << 4) | lo;
        }
        Ok(Self(out))
    }

    /// The first four bytes as a big-endian number: sorting by it agrees with sorting by sha.
    pub const fn prefix32(&self) -> u32 {
        u32::from_be_bytes([self.0[0], self.0[1], self.0[2], self.0[3]])
    }

    /// The first `len` hex characters (at most 40), e.g. for display.
    pub fn short(&self, len: usize) -> String {
        let mut text = self.to_string();
        text.truncate(len.min(40));
        text
    }

    /// Whether the hex form of this sha starts with `prefix`.
    pub fn has_prefix(&self, prefix: &ShaPrefix) -> bool {
        self.to_string().starts_with(prefix.as_str())
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Sha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha({self})")
    }
}

impl FromStr for Sha {
    type Err = NameError;
    fn from_str(text: &str) -> Result<Self, NameError> {
        Self::from_hex(text)
    }
}

impl Serialize for Sha {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Sha {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Sha::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

/// A commit named in a commit message (`This reverts commit 9c539d1027`): a full sha or an
/// abbreviation of 7 to 39 hex characters, as git prints them. It resolves against a history with
/// [`crate::CommitGraph::find_abbrev`]: an abbreviation that several commits share names none.
///
/// Plain bytes, so it is `Copy` and a cache stores it in 21 bytes: the sha's bytes with the
/// nibbles past the abbreviation zero, and the number of hex characters given.
///
/// ```
/// use shiplog_core::names::ShaAbbrev;
/// let abbrev = ShaAbbrev::from_hex("9C539D1").unwrap();
/// assert_eq!(abbrev.to_string(), "9c539d1");
/// assert_eq!(abbrev.hex_len(), 7);
/// assert!(ShaAbbrev::from_hex("9c539d").is_none()); // too short to name a commit
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShaAbbrev {
    bytes: [u8; 20],
    hex_len: u8,
}

impl ShaAbbrev {
    /// The fewest hex characters taken as a commit reference (git's default abbreviation).
    pub const MIN_HEX: usize = 7;

    /// A full sha.
    pub const fn full(sha: Sha) -> Self {
        Self {
            bytes: sha.0,
            hex_len: 40,
        }
    }

    /// Parses 7 to 40 hexadecimal characters (either case); `None` otherwise.
    pub fn from_hex(text: &str) -> Option<Self> {
        let hex = text.as_bytes();
        if !(Self::MIN_HEX..=40).contains(&hex.len()) {
            return None;
        }
        let mut bytes = [0u8; 20];
        for (i, &b) in hex.iter().enumerate() {
            let nibble = hex_value(b)?;
            bytes[i / 2] |= if i % 2 == 0 { nibble << 4 } else { nibble };
        }
        Some(Self {
            bytes,
            hex_len: hex.len() as u8,
        })
    }

    /// Rebuilds one from its parts (a cache's bytes): `None` unless `hex_len` is 7 to 40 and the
    /// nibbles past it are zero.
    pub fn from_parts(bytes: [u8; 20], hex_len: u8) -> Option<Self> {
        let len = usize::from(hex_len);
        if !(Self::MIN_HEX..=40).contains(&len) {
            return None;
        }
        let clean = (len..40).all(|i| {
            let b = bytes[i / 2];
            (if i % 2 == 0 { b >> 4 } else { b & 0x0f }) == 0
        });
        clean.then_some(Self { bytes, hex_len })
    }

    /// The bytes given, the rest zero.
    pub const fn bytes(&self) -> &[u8; 20] {
        &self.bytes
    }

    /// How many hex characters were given (40 for a full sha).
    pub const fn hex_len(&self) -> usize {
        self.hex_len as usize
    }

    /// The sha, when all 40 characters were given.
    pub fn as_full(&self) -> Option<Sha> {
        (self.hex_len == 40).then_some(Sha(self.bytes))
    }

    /// The smallest and largest [`Sha::prefix32`] of a sha this abbreviation names.
    pub fn prefix32_range(&self) -> (u32, u32) {
        let low = u32::from_be_bytes([self.bytes[0], self.bytes[1], self.bytes[2], self.bytes[3]]);
        let known_bits = (self.hex_len() * 4).min(32) as u32;
        let mask = u32::MAX.checked_shr(known_bits).unwrap_or(0);
        (low, low | mask)
    }

    /// Whether `sha` starts with this abbreviation.
    pub fn names(&self, sha: &Sha) -> bool {
        let len = self.hex_len();
        let whole = len / 2;
        sha.0[..whole] == self.bytes[..whole]
            && (len.is_multiple_of(2) || sha.0[whole] >> 4 == self.bytes[whole] >> 4)
    }
}

impl From<Sha> for ShaAbbrev {
    fn from(sha: Sha) -> Self {
        Self::full(sha)
    }
}

impl fmt::Display for ShaAbbrev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in 0..self.hex_len() {
            let b = self.bytes[i / 2];
            let nibble = if i % 2 == 0 { b >> 4 } else { b & 0x0f };
            write!(f, "{nibble:x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ShaAbbrev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ShaAbbrev({self})")
    }
}

impl Serialize for ShaAbbrev {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A commit named by hex: a full sha or an abbreviation of at least 4 characters, lowercased.
/// It becomes a [`Sha`] once a repository resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShaPrefix(String);

impl ShaPrefix {
    /// Validates 4 to 40 hexadecimal characters.
    pub fn new(text: &str) -> Result<Self, NameError> {
        let text = text.trim();
        let ok = (4..=40).contains(&text.len()) && text.bytes().all(|b| hex_value(b).is_some());
        if !ok {
            return Err(NameError::BadSha {
                expected: "a commit sha: 4 to 40 hexadecimal characters",
                text: text.to_owned(),
            });
        }
        Ok(Self(text.to_ascii_lowercase()))
    }

    /// The lowercased hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The full sha, when all 40 characters were given.
    pub fn as_full(&self) -> Option<Sha> {
        (self.0.len() == 40)
            .then(|| Sha::from_hex(&self.0).ok())
            .flatten()
    }
}

impl FromStr for ShaPrefix {
    type Err = NameError;
    fn from_str(text: &str) -> Result<Self, NameError> {
        Self::new(text)
    }
}

impl fmt::Display for ShaPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_name_the_shas_they_start() {
        let sha = Sha::from_hex("9c539d1027aa00000000000000000000000000ff").unwrap();
        let seven = ShaAbbrev::from_hex("9c539d1").unwrap();
        assert!(seven.names(&sha));
        assert_eq!(seven.prefix32_range(), (0x9c53_9d10, 0x9c53_9d1f));
        let ten = ShaAbbrev::from_hex("9C539D1027").unwrap();
        assert!(ten.names(&sha) && ten.to_string() == "9c539d1027");
        assert_eq!(ten.prefix32_range(), (0x9c53_9d10, 0x9c53_9d10));
        assert!(!ShaAbbrev::from_hex("9c539d1028").unwrap().names(&sha));
        assert!(!ShaAbbrev::from_hex("9c539d2").unwrap().names(&sha));
        let full = ShaAbbrev::full(sha);
        assert_eq!(full.as_full(), Some(sha));
        assert_eq!(ShaAbbrev::from_hex(&sha.to_string()), Some(full));
        assert!(seven.as_full().is_none());
        assert_eq!(
            ShaAbbrev::from_parts(*seven.bytes(), 7),
            Some(seven),
            "round trip"
        );
        assert!(ShaAbbrev::from_parts(*seven.bytes(), 6).is_none());
        assert!(
            ShaAbbrev::from_parts(*ten.bytes(), 7).is_none(),
            "nibbles past the length"
        );
        assert!(ShaAbbrev::from_hex("9c539dg").is_none());
        assert!(ShaAbbrev::from_hex(&"a".repeat(41)).is_none());
    }

    #[test]
    fn odd_names_are_made_valid() {
        let made = |t: &str| ServiceName::made_valid(t).map(|s| s.as_str().to_owned());
        assert_eq!(made("c++-tools").unwrap(), "c-tools");
        assert_eq!(made("my project").unwrap(), "my-project");
        assert_eq!(made("owner+name.git").unwrap(), "owner-name");
        assert_eq!(made("@acme/web").unwrap(), "acme/web");
        assert_eq!(made("api").unwrap(), "api");
        assert!(made("+++").is_err());
    }

    #[test]
    fn service_names_are_trimmed_and_validated() {
        assert_eq!(ServiceName::new("  api ").unwrap().as_str(), "api");
        assert_eq!(
            ServiceName::new("payments/worker-2").unwrap().as_str(),
            "payments/worker-2"
        );
        assert!(matches!(ServiceName::new(""), Err(NameError::Empty { .. })));
        let err = ServiceName::new("my api").unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected a service name made of ASCII letters, digits, '-', '_', '.', '/' and ':', got ' ' in \"my api\""
        );
        assert!(matches!(
            Environment::new(&"x".repeat(101)),
            Err(NameError::TooLong { len: 101, .. })
        ));
    }

    #[test]
    fn owned_text_validates_like_borrowed_text() {
        for text in [
            "tag:v1.2.3",
            "  tag:v1 ",
            "",
            "   ",
            "a b",
            &"x".repeat(300),
        ] {
            assert_eq!(
                DeploymentId::try_from(text.to_owned()),
                DeploymentId::new(text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn sha_round_trips_through_hex() {
        let hex = "0123456789abcdef0123456789ABCDEF01234567";
        let sha = Sha::from_hex(hex).unwrap();
        assert_eq!(sha.to_string(), hex.to_ascii_lowercase());
        assert_eq!(sha.short(7), "0123456");
        assert!(Sha::from_hex("0123").is_err());
        assert!(Sha::from_hex(&"g".repeat(40)).is_err());
        let json = serde_json::to_string(&sha).unwrap();
        assert_eq!(serde_json::from_str::<Sha>(&json).unwrap(), sha);
    }

    #[test]
    fn prefixes_are_lowercased_and_bounded() {
        let prefix = ShaPrefix::new("ABCDEF1").unwrap();
        assert_eq!(prefix.as_str(), "abcdef1");
        assert!(prefix.as_full().is_none());
        assert!(ShaPrefix::new("abc").is_err());
        assert!(ShaPrefix::new("xyz1234").is_err());
        let full = ShaPrefix::new(&"a".repeat(40)).unwrap();
        assert_eq!(full.as_full(), Some(Sha::from_bytes([0xaa; 20])));
        assert!(Sha::from_bytes([0xab; 20]).has_prefix(&ShaPrefix::new("abab").unwrap()));
    }
}
