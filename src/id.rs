//! Validated identifiers and request fields (SPEC §5, R14, R17, R18).
//!
//! Every type here is built only through validation: `TryFrom<&str>` (or `new`) checks the whole
//! input against the botocore pattern as a **full match** (SPEC R17), so `bad!id` is rejected
//! where a peer that checks only the first character would accept it. A failed check is a
//! [`FieldError`] that names the field and the constraint that failed.
//!
//! Lengths count what the AWS models count: identifiers are ASCII, so bytes; free text
//! (`comment`, statusDetails values) counts UTF-16 code units, as the service's Java strings do.

use core::fmt;

#[doc(no_inline)]
pub use crate::field::{Field, FieldError, Violation};
#[doc(no_inline)]
pub use crate::time::{StepTimeout, Timestamp};

/// `[a-zA-Z0-9_-]` (SPEC §5 jobId, namespaceId).
const fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// `[a-zA-Z0-9:_-]` (SPEC §5 thingName, DetailsKey).
const fn is_name_byte(b: u8) -> bool {
    is_id_byte(b) || b == b':'
}

/// `[\p{Upper}\p{Digit}_]` with Java's default (ASCII) classes (SPEC §5 reasonCode).
const fn is_reason_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'
}

/// Full-match check of an ASCII pattern with a byte-length bound (SPEC R17).
fn check_ascii(s: &str, field: Field, max: usize, ok: fn(u8) -> bool) -> Result<(), FieldError> {
    if s.is_empty() {
        return Err(FieldError::new(field, Violation::Empty));
    }
    if let Some(position) = s.bytes().position(|b| !ok(b)) {
        return Err(FieldError::new(field, Violation::InvalidCharacter { position }));
    }
    if s.len() > max {
        return Err(FieldError::new(field, Violation::TooLong { max, len: s.len() }));
    }
    Ok(())
}

/// Is `c` in Unicode general category C ("Other") as far as a `no_std` table-free check can
/// tell: control (Cc), format (Cf), private use (Co) and the noncharacters of Cn. Other
/// unassigned code points (the rest of Cn) are accepted: telling them apart needs the full
/// Unicode tables, which change with every Unicode version. (SPEC §5 `[^\p{C}]`.)
#[must_use]
pub fn is_other_category(c: char) -> bool {
    c.is_control()
        || matches!(
            u32::from(c),
            // Cf, Unicode 15.1.
            0x00AD
                | 0x0600..=0x0605
                | 0x061C
                | 0x06DD
                | 0x070F
                | 0x0890..=0x0891
                | 0x08E2
                | 0x180E
                | 0x200B..=0x200F
                | 0x202A..=0x202E
                | 0x2060..=0x2064
                | 0x2066..=0x206F
                | 0xFEFF
                | 0xFFF9..=0xFFFB
                | 0x110BD
                | 0x110CD
                | 0x13430..=0x1343F
                | 0x1BCA0..=0x1BCA3
                | 0x1D173..=0x1D17A
                | 0xE0001
                | 0xE0020..=0xE007F
                // Co.
                | 0xE000..=0xF8FF
                | 0xF0000..=0xFFFFD
                | 0x100000..=0x10FFFD
                // Cn noncharacters.
                | 0xFDD0..=0xFDEF
        )
        || (u32::from(c) & 0xFFFE) == 0xFFFE
}

/// Full-match check of `[^\p{C}]+` with a bound in UTF-16 code units (SPEC §5 comment, R14 values).
fn check_text(s: &str, field: Field, max: usize) -> Result<(), FieldError> {
    if s.is_empty() {
        return Err(FieldError::new(field, Violation::Empty));
    }
    let mut units = 0usize;
    for (position, c) in s.char_indices() {
        if is_other_category(c) {
            return Err(FieldError::new(field, Violation::InvalidCharacter { position }));
        }
        units = units.saturating_add(c.len_utf16());
    }
    if units > max {
        return Err(FieldError::new(field, Violation::TooLong { max, len: units }));
    }
    Ok(())
}

/// Defines an owned, validated ASCII identifier backed by a `heapless::String`.
macro_rules! ascii_id {
    ($(#[$meta:meta])* $name:ident, $field:expr, $max:literal, $check:path) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(heapless::String<$max, u8>);

        impl $name {
            /// The longest valid value, in bytes (SPEC §5).
            pub const MAX_LEN: usize = $max;

            /// Validates `s` as a full match of the field's pattern and length (SPEC R17).
            pub fn new(s: &str) -> Result<Self, FieldError> {
                Self::check(s)?;
                let mut out = heapless::String::new();
                out.push_str(s)
                    .map_err(|_| FieldError::new($field, Violation::TooLong { max: $max, len: s.len() }))?;
                Ok(Self(out))
            }

            /// The identifier as it goes on the wire.
            #[must_use]
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }

            /// [`new`](Self::new)'s check without the copy (the borrowed views of
            /// [`crate::topic`] use it).
            pub(crate) fn check(s: &str) -> Result<(), FieldError> {
                check_ascii(s, $field, Self::MAX_LEN, $check)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = FieldError;
            fn try_from(s: &str) -> Result<Self, FieldError> {
                Self::new(s)
            }
        }

        impl core::str::FromStr for $name {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<Self, FieldError> {
                Self::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.as_str())
            }
        }

        #[cfg(feature = "defmt")]
        impl defmt::Format for $name {
            fn format(&self, f: defmt::Formatter<'_>) {
                defmt::write!(f, "{=str}", self.as_str())
            }
        }

        crate::macros::serde_as_str!($name, |f| write!(f, "a valid {}", $field.as_str()), |v| $name::new(v).map_err(E::custom));
    };
}

ascii_id! {
    /// A job identifier: 1–64 of `[a-zA-Z0-9_-]` (SPEC §5 `JobId`).
    JobId, Field::JobId, 64, is_id_byte
}

ascii_id! {
    /// A thing name: 1–128 of `[a-zA-Z0-9:_-]` (SPEC §5 `ThingName`).
    ThingName, Field::ThingName, 128, is_name_byte
}

ascii_id! {
    /// A namespace: 1–64 of `[a-zA-Z0-9_-]` (SPEC §5 `NamespaceId`; the current model has no
    /// length bound, botocore 1.20–1.29 had 64, which this crate keeps so that storage is bounded).
    NamespaceId, Field::NamespaceId, 64, is_id_byte
}

ascii_id! {
    /// A reason code: 1–128 of `[A-Z0-9_]` (SPEC §5 `ReasonCode`).
    ReasonCode, Field::ReasonCode, 128, is_reason_byte
}

/// Parses a model `long` that the service only ever assigns as 0..=`i64::MAX`.
fn parse_long(s: &str, field: Field) -> Result<u64, FieldError> {
    if s.is_empty() {
        return Err(FieldError::new(field, Violation::Empty));
    }
    if let Some(position) = s.bytes().position(|b| !b.is_ascii_digit()) {
        return Err(FieldError::new(field, Violation::InvalidCharacter { position }));
    }
    let range = Violation::OutOfRange { min: 0, max: i64::MAX };
    let n: u64 = s.parse().map_err(|_| FieldError::new(field, range))?;
    check_long(n, field)
}

const fn check_long(n: u64, field: Field) -> Result<u64, FieldError> {
    if n > i64::MAX as u64 {
        Err(FieldError::new(field, Violation::OutOfRange { min: 0, max: i64::MAX }))
    } else {
        Ok(n)
    }
}

/// Defines a model `long` newtype (0..=`i64::MAX`, carried as `u64`).
macro_rules! long_id {
    ($(#[$meta:meta])* $name:ident, $field:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub struct $name(u64);

        impl $name {
            /// The largest value (the model type is a signed 64-bit `long`).
            pub const MAX: Self = Self(i64::MAX as u64);

            /// Checks the range 0..=`i64::MAX`.
            pub const fn new(n: u64) -> Result<Self, FieldError> {
                match check_long(n, $field) {
                    Ok(n) => Ok(Self(n)),
                    Err(e) => Err(e),
                }
            }

            /// The value.
            #[must_use]
            pub const fn get(self) -> u64 {
                self.0
            }

            /// The next value, or `None` at [`Self::MAX`].
            #[must_use]
            pub const fn next(self) -> Option<Self> {
                if self.0 >= Self::MAX.0 { None } else { Some(Self(self.0.saturating_add(1))) }
            }
        }

        /// Every `u32` is in range (the registry stores numbers and versions as `u32`).
        impl From<u32> for $name {
            fn from(n: u32) -> Self {
                Self(u64::from(n))
            }
        }

        impl TryFrom<&str> for $name {
            type Error = FieldError;
            fn try_from(s: &str) -> Result<Self, FieldError> {
                parse_long(s, $field).map(Self)
            }
        }

        /// `"3".parse()`, as `TryFrom<&str>`.
        impl core::str::FromStr for $name {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<Self, FieldError> {
                Self::try_from(s)
            }
        }

        impl TryFrom<i64> for $name {
            type Error = FieldError;
            fn try_from(n: i64) -> Result<Self, FieldError> {
                u64::try_from(n)
                    .map(Self)
                    .map_err(|_| FieldError::new($field, Violation::OutOfRange { min: 0, max: i64::MAX }))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        #[cfg(feature = "serde")]
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_u64(self.0)
            }
        }

        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let n = <u64 as serde::Deserialize>::deserialize(d)?;
                Self::new(n).map_err(<D::Error as serde::de::Error>::custom)
            }
        }
    };
}

long_id! {
    /// Identifies one execution of a job on a thing (SPEC §8). Assigned per (job, thing) from 1
    /// (R7); after a deletion the number may be reused, so it identifies an execution only
    /// together with the moment it is used.
    ExecutionNumber, Field::ExecutionNumber
}

long_id! {
    /// An execution's optimistic-concurrency counter, 1 at creation (R6); also the type of
    /// `expectedVersion` (SPEC §8).
    VersionNumber, Field::Version
}

impl ExecutionNumber {
    /// The first number of every (job, thing) (SPEC R7).
    pub const FIRST: Self = Self(1);
}

impl VersionNumber {
    /// The version of a newly created execution (SPEC R6).
    pub const INITIAL: Self = Self(1);
}

/// A validated borrowed `comment`: 1–2028 characters, none in category C (SPEC §5 `Comment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Comment<'a>(&'a str);

impl<'a> Comment<'a> {
    /// The longest valid comment, in UTF-16 code units.
    pub const MAX_LEN: usize = 2028;

    /// Validates `s` (SPEC §5 `Comment`: `[^\p{C}]+`, at most 2028).
    pub fn new(s: &'a str) -> Result<Self, FieldError> {
        check_text(s, Field::Comment, Self::MAX_LEN).map(|()| Self(s))
    }

    /// The text.
    #[must_use]
    pub const fn as_str(self) -> &'a str {
        self.0
    }
}

/// A validated `statusDetails` key: 1–128 of `[a-zA-Z0-9:_-]` (SPEC §5 `DetailsKey`, R14).
pub fn check_details_key(key: &str) -> Result<(), FieldError> {
    check_ascii(key, Field::StatusDetailsKey, StatusDetails::MAX_KEY_LEN, is_name_byte)
}

/// A validated `statusDetails` value: 1–1024 characters, none in category C (SPEC R14).
pub fn check_details_value(value: &str) -> Result<(), FieldError> {
    check_text(value, Field::StatusDetailsValue, StatusDetails::MAX_VALUE_LEN)
}

/// A validated `statusDetails` map (SPEC R14): at most 10 pairs, unique keys, each key and value
/// valid. It holds the pairs by value (the strings stay borrowed), so a parsed message and a
/// caller's own pairs are the same type; it is never larger than ten pairs of references.
///
/// The pairs keep the caller's order. A write that carries statusDetails replaces the stored
/// map under the default policy ([`crate::DetailsWrite`]). The registry and the rules take it by
/// reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StatusDetails<'a>(heapless::Vec<(&'a str, &'a str), { StatusDetails::MAX_PAIRS }>);

impl<'a> StatusDetails<'a> {
    /// Most pairs in one map (SPEC R14, AMBIG-16).
    pub const MAX_PAIRS: usize = 10;
    /// Longest key, in bytes (keys are ASCII).
    pub const MAX_KEY_LEN: usize = 128;
    /// Longest value, in UTF-16 code units.
    pub const MAX_VALUE_LEN: usize = 1024;
    /// The map with no pairs.
    pub const EMPTY: StatusDetails<'static> = StatusDetails(heapless::Vec::new());

    /// Validates every pair, the pair count and key uniqueness (SPEC R14), and copies the pairs.
    pub fn new(pairs: &[(&'a str, &'a str)]) -> Result<Self, FieldError> {
        let too_many = |len| {
            FieldError::new(Field::StatusDetails, Violation::TooManyPairs { max: Self::MAX_PAIRS, len })
        };
        let held = heapless::Vec::from_slice(pairs).map_err(|_| too_many(pairs.len()))?;
        for (i, (k, v)) in pairs.iter().enumerate() {
            check_details_key(k)?;
            check_details_value(v)?;
            if pairs.iter().take(i).any(|(earlier, _)| earlier == k) {
                return Err(FieldError::new(Field::StatusDetails, Violation::DuplicateKey { position: i }));
            }
        }
        Ok(Self(held))
    }

    /// The pairs, in the caller's order.
    #[must_use]
    pub fn pairs(&self) -> &[(&'a str, &'a str)] {
        &self.0
    }

    /// The value of `key`, if present.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// Number of pairs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the map has no pairs.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation<T: fmt::Debug>(r: Result<T, FieldError>) -> Violation {
        r.unwrap_err().violation
    }

    #[test]
    fn job_id_full_match_and_length() {
        assert_eq!(JobId::new("job-1_A").unwrap().as_str(), "job-1_A");
        assert_eq!(violation(JobId::new("")), Violation::Empty);
        // SPEC R17: not only the first character.
        assert_eq!(violation(JobId::new("bad!id")), Violation::InvalidCharacter { position: 3 });
        assert_eq!(violation(JobId::new("a:b")), Violation::InvalidCharacter { position: 1 });
        let max = "j".repeat(64);
        assert_eq!(JobId::new(&max).unwrap().as_str().len(), 64);
        let long = "j".repeat(65);
        assert_eq!(violation(JobId::new(&long)), Violation::TooLong { max: 64, len: 65 });
        assert_eq!(violation(JobId::new("$next")), Violation::InvalidCharacter { position: 0 });
    }

    #[test]
    fn thing_name_allows_colon_up_to_128() {
        assert!(ThingName::new("arn:thing:1").is_ok());
        assert!(ThingName::new(&"t".repeat(128)).is_ok());
        assert_eq!(violation(ThingName::new(&"t".repeat(129))), Violation::TooLong { max: 128, len: 129 });
        assert_eq!(violation(ThingName::new("a/b")), Violation::InvalidCharacter { position: 1 });
        assert_eq!(violation(ThingName::new("é")), Violation::InvalidCharacter { position: 0 });
    }

    #[test]
    fn namespace_and_reason_code() {
        assert!(NamespaceId::new("ns_1-a").is_ok());
        assert_eq!(violation(NamespaceId::new("n:s")), Violation::InvalidCharacter { position: 1 });
        assert!(ReasonCode::new("ABORT_2").is_ok());
        assert_eq!(violation(ReasonCode::new("Abort")), Violation::InvalidCharacter { position: 1 });
        assert_eq!(violation(ReasonCode::new(&"A".repeat(129))), Violation::TooLong { max: 128, len: 129 });
    }

    #[test]
    fn longs_parse_and_bound() {
        assert_eq!(ExecutionNumber::try_from("42").unwrap().get(), 42);
        assert_eq!(violation(ExecutionNumber::try_from("")), Violation::Empty);
        assert_eq!(violation(ExecutionNumber::try_from("-1")), Violation::InvalidCharacter { position: 0 });
        assert_eq!(violation(ExecutionNumber::try_from("1a")), Violation::InvalidCharacter { position: 1 });
        assert_eq!(ExecutionNumber::try_from("9223372036854775807").unwrap(), ExecutionNumber::MAX);
        let range = Violation::OutOfRange { min: 0, max: i64::MAX };
        assert_eq!(violation(ExecutionNumber::try_from("9223372036854775808")), range);
        assert_eq!(violation(ExecutionNumber::try_from("99999999999999999999999")), range);
        assert_eq!(violation(VersionNumber::try_from(-5i64)), range);
        assert_eq!(violation(VersionNumber::new(u64::MAX)), range);
        assert_eq!(ExecutionNumber::MAX.next(), None);
        assert_eq!(ExecutionNumber::FIRST.next().unwrap().get(), 2);
    }

    #[test]
    fn text_fields_reject_category_c_and_count_utf16() {
        assert!(Comment::new("upgrade to 1.2 ✓").is_ok());
        assert_eq!(violation(Comment::new("")), Violation::Empty);
        assert_eq!(violation(Comment::new("a\nb")), Violation::InvalidCharacter { position: 1 });
        assert_eq!(violation(Comment::new("ab\u{200B}")), Violation::InvalidCharacter { position: 2 });
        assert_eq!(violation(Comment::new("\u{E000}")), Violation::InvalidCharacter { position: 0 });
        assert_eq!(violation(Comment::new("x\u{FFFF}")), Violation::InvalidCharacter { position: 1 });
        // 1024 astral characters are 2048 UTF-16 units.
        let astral = "😀".repeat(1015);
        assert_eq!(violation(Comment::new(&astral)), Violation::TooLong { max: 2028, len: 2030 });
        assert!(Comment::new(&"😀".repeat(1014)).is_ok());
    }

    #[test]
    fn status_details_rules() {
        let ok = [("step", "download"), ("progress", "50%")];
        let d = StatusDetails::new(&ok).unwrap();
        assert_eq!(d.get("progress"), Some("50%"));
        assert_eq!(d.get("missing"), None);
        assert_eq!(d.len(), 2);
        let dup = [("a", "1"), ("b", "2"), ("a", "3")];
        assert_eq!(violation(StatusDetails::new(&dup)), Violation::DuplicateKey { position: 2 });
        let eleven = [("k", "v"); 11];
        assert_eq!(violation(StatusDetails::new(&eleven)), Violation::TooManyPairs { max: 10, len: 11 });
        let bad_key = [("a b", "v")];
        assert_eq!(
            StatusDetails::new(&bad_key).unwrap_err(),
            FieldError {
                field: Field::StatusDetailsKey,
                violation: Violation::InvalidCharacter { position: 1 }
            }
        );
        let long = "v".repeat(1025);
        let long_value = [("k", long.as_str())];
        assert_eq!(
            StatusDetails::new(&long_value).unwrap_err(),
            FieldError {
                field: Field::StatusDetailsValue,
                violation: Violation::TooLong { max: 1024, len: 1025 }
            }
        );
        let empty_value = [("k", "")];
        assert_eq!(violation(StatusDetails::new(&empty_value)), Violation::Empty);
        assert!(StatusDetails::new(&[]).unwrap().is_empty());
    }

    #[test]
    fn messages_name_field_and_constraint() {
        extern crate std;
        use std::string::ToString;
        let e = JobId::new("bad!id").unwrap_err();
        assert_eq!(
            e.to_string(),
            "jobId has a character that is not allowed at position 3 (allowed: a-z A-Z 0-9 _ -)"
        );
        let e = ThingName::new(&"t".repeat(129)).unwrap_err();
        assert_eq!(e.to_string(), "thingName is 129 characters long; at most 128 are allowed");
    }
}
