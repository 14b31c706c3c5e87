//! A minimal JSON reader and writer for small, bounded messages.
//!
//! Both halves work on caller-provided byte slices, never allocate, never
//! recurse, and have no panicking code paths.
//!
//! * [`Reader`] is a pull parser: the caller asks for the next object member,
//!   array element or scalar value, and the reader checks the grammar
//!   (RFC 8259) as it goes. Nesting is limited to [`MAX_DEPTH`].
//! * [`Writer`] serializes into a `&mut [u8]`, inserting commas itself and
//!   escaping strings. It does not check that the caller's calls form a
//!   well-nested document.
//!
//! The module is internal to the crate: its error type is public as
//! [`wire::JsonError`](crate::wire::JsonError).

use core::fmt;

mod read;
#[cfg(test)]
mod tests;
mod write;

pub use read::Reader;
pub use write::{BufferFull, Writer};

/// Maximum nesting depth of arrays and objects accepted by [`Reader`] (a multiple of 8: the
/// reader keeps one bit per level, 16 bytes; serde_json reads 127 by default).
pub const MAX_DEPTH: usize = 128;

/// An error found while reading JSON. Offsets are byte offsets into the
/// input given to [`Reader::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The input ended inside a value.
    UnexpectedEnd,
    /// A byte the JSON grammar does not allow at this position.
    UnexpectedByte {
        /// Offset of the byte.
        offset: usize,
    },
    /// A string is not valid UTF-8.
    InvalidUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// A malformed escape sequence, or an unpaired UTF-16 surrogate.
    InvalidEscape {
        /// Offset of the backslash (for [`JsonStr::unescape_into`]: of the string).
        offset: usize,
    },
    /// An integer does not fit the requested type.
    NumberOutOfRange {
        /// Offset of the number.
        offset: usize,
    },
    /// Arrays and objects are nested more than [`MAX_DEPTH`] deep. Input that also ends before
    /// its brackets close is [`UnexpectedEnd`](Self::UnexpectedEnd) instead: past the depth,
    /// the reader still counts brackets outside strings to the end.
    TooDeep {
        /// Offset of the opening bracket that is one too many.
        offset: usize,
    },
    /// Something other than whitespace follows the top-level value.
    TrailingCharacters {
        /// Offset of the first such byte.
        offset: usize,
    },
    /// The buffer given to [`JsonStr::unescape_into`] is too small.
    BufferTooSmall,
    /// Expected a string.
    ExpectedString {
        /// Offset of the value found instead.
        offset: usize,
    },
    /// Expected a number (or, for [`Reader::read_u64_or_string`], a string
    /// of ASCII digits).
    ExpectedNumber {
        /// Offset of the value found instead.
        offset: usize,
    },
    /// Expected an integer, found a number with a fraction or an exponent.
    ExpectedInteger {
        /// Offset of the number.
        offset: usize,
    },
    /// Expected `true` or `false`.
    ExpectedBool {
        /// Offset of the value found instead.
        offset: usize,
    },
    /// Expected `null`.
    ExpectedNull {
        /// Offset of the value found instead.
        offset: usize,
    },
    /// Expected an object.
    ExpectedObject {
        /// Offset of the value found instead.
        offset: usize,
    },
    /// Expected an array.
    ExpectedArray {
        /// Offset of the value found instead.
        offset: usize,
    },
    /// An object has the same key twice. The reader does not detect this
    /// itself; callers return it, using [`JsonStr::offset`].
    DuplicateKey {
        /// Offset of the second occurrence of the key.
        offset: usize,
    },
    /// A [`Reader`] method was called out of document order, e.g. a value was
    /// read twice after one key, or `next_member` was called inside an array.
    OutOfOrder {
        /// Reader position at the call.
        offset: usize,
    },
}

impl Error {
    /// The byte offset the error refers to, if any.
    pub fn offset(&self) -> Option<usize> {
        match *self {
            Error::UnexpectedEnd | Error::BufferTooSmall => None,
            Error::UnexpectedByte { offset }
            | Error::InvalidUtf8 { offset }
            | Error::InvalidEscape { offset }
            | Error::NumberOutOfRange { offset }
            | Error::TooDeep { offset }
            | Error::TrailingCharacters { offset }
            | Error::ExpectedString { offset }
            | Error::ExpectedNumber { offset }
            | Error::ExpectedInteger { offset }
            | Error::ExpectedBool { offset }
            | Error::ExpectedNull { offset }
            | Error::ExpectedObject { offset }
            | Error::ExpectedArray { offset }
            | Error::DuplicateKey { offset }
            | Error::OutOfOrder { offset } => Some(offset),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            Error::UnexpectedEnd => return f.write_str("unexpected end of JSON input"),
            Error::BufferTooSmall => return f.write_str("buffer too small for unescaped string"),
            Error::UnexpectedByte { .. } => "unexpected byte",
            Error::InvalidUtf8 { .. } => "invalid UTF-8",
            Error::InvalidEscape { .. } => "invalid escape sequence",
            Error::NumberOutOfRange { .. } => "number out of range",
            Error::TooDeep { .. } => "nesting too deep",
            Error::TrailingCharacters { .. } => "trailing characters",
            Error::ExpectedString { .. } => "expected a string",
            Error::ExpectedNumber { .. } => "expected a number",
            Error::ExpectedInteger { .. } => "expected an integer",
            Error::ExpectedBool { .. } => "expected a boolean",
            Error::ExpectedNull { .. } => "expected null",
            Error::ExpectedObject { .. } => "expected an object",
            Error::ExpectedArray { .. } => "expected an array",
            Error::DuplicateKey { .. } => "duplicate key",
            Error::OutOfOrder { .. } => "JSON reader called out of order",
        };
        f.write_str(what)?;
        match self.offset() {
            Some(offset) => write!(f, " at byte {offset}"),
            None => Ok(()),
        }
    }
}

impl core::error::Error for Error {}

/// The kind of the next value, from [`Reader::peek_kind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Kind {
    /// `{`
    Object,
    /// `[`
    Array,
    /// `"`
    String,
    /// `-` or a digit
    Number,
    /// `true` or `false`
    Bool,
    /// `null`
    Null,
}

/// A JSON string as it appears in the input: validated, still escaped.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JsonStr<'a> {
    raw: &'a str,
    escaped: bool,
    offset: usize,
}

impl<'a> JsonStr<'a> {
    /// The string's contents when it has no escapes; `None` otherwise (then
    /// use [`unescape_into`](Self::unescape_into) or [`eq_str`](Self::eq_str)).
    pub fn as_str(&self) -> Option<&'a str> {
        (!self.escaped).then_some(self.raw)
    }

    /// The bytes between the quotes, escapes left as they are.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Whether the string contains a backslash escape.
    pub fn has_escapes(&self) -> bool {
        self.escaped
    }

    /// Offset of the opening quote in the input.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Whether the unescaped string equals `other`.
    pub fn eq_str(&self, other: &str) -> bool {
        let mut rest = other.as_bytes();
        let matched = self.decode((), |chunk| {
            let (head, tail) = rest.split_at_checked(chunk.len()).ok_or(())?;
            if head != chunk {
                return Err(());
            }
            rest = tail;
            Ok(())
        });
        matched.is_ok() && rest.is_empty()
    }

    /// Unescapes the string into `buf` and returns the used part of it.
    pub fn unescape_into<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        let mut len = 0_usize;
        let invalid = Error::InvalidEscape { offset: self.offset };
        self.decode(invalid, |chunk| {
            let end = len.checked_add(chunk.len()).ok_or(Error::BufferTooSmall)?;
            let dst = buf.get_mut(len..end).ok_or(Error::BufferTooSmall)?;
            copy(dst, chunk);
            len = end;
            Ok(())
        })?;
        let buf: &'b [u8] = buf;
        let out = buf.get(..len).ok_or(Error::BufferTooSmall)?;
        // Cannot fail: the reader validated the string, but avoid `unsafe`.
        core::str::from_utf8(out).map_err(|_| Error::InvalidUtf8 { offset: self.offset })
    }

    /// Feeds the unescaped string to `sink` in pieces.
    fn decode<E: Copy>(&self, invalid: E, mut sink: impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        let mut s = self.raw.as_bytes();
        while let Some(n) = s.iter().position(|&b| b == b'\\') {
            let (literal, escape) = s.split_at_checked(n).ok_or(invalid)?;
            sink(literal)?;
            let escape = escape.get(1..).ok_or(invalid)?;
            let (c, rest) = decode_escape(escape).ok_or(invalid)?;
            sink(c.encode_utf8(&mut [0; 4]).as_bytes())?;
            s = rest;
        }
        sink(s)
    }
}

/// Decodes the escape sequence that follows a backslash.
/// The brackets of `input` that stand outside strings, in order, each with its offset: `true`
/// for an opening one (`{`, `[`), `false` for a closing one. Looks at nothing else, so it is
/// exact only on input whose strings are closed (JSON, or JSON cut short).
pub(crate) fn brackets(input: &[u8]) -> impl Iterator<Item = (usize, bool)> + '_ {
    let (mut string, mut escaped) = (false, false);
    input.iter().enumerate().filter_map(move |(i, &b)| {
        match (string, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') | (false, _, b'"') => string = !string,
            (false, _, b'[' | b'{') => return Some((i, true)),
            (false, _, b']' | b'}') => return Some((i, false)),
            (true, false, _) | (false, _, _) => {}
        }
        None
    })
}

fn decode_escape(s: &[u8]) -> Option<(char, &[u8])> {
    let (&c, rest) = s.split_first()?;
    let c = match c {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let (unit, rest) = hex4(rest)?;
            if !(0xD800..0xDC00).contains(&unit) {
                // `from_u32` rejects a lone low surrogate.
                return Some((char::from_u32(unit)?, rest));
            }
            let (low, rest) = hex4(strip(strip(rest, b'\\')?, b'u')?)?;
            if !(0xDC00..0xE000).contains(&low) {
                return None;
            }
            let scalar = ((unit & 0x3FF).wrapping_shl(10) | (low & 0x3FF)).wrapping_add(0x1_0000);
            return Some((char::from_u32(scalar)?, rest));
        }
        _ => return None,
    };
    Some((c, rest))
}

/// `s` without its first byte, if that is `byte`. (Unlike
/// `<[u8]>::strip_prefix`, this has no panic path even when not inlined.)
fn strip(s: &[u8], byte: u8) -> Option<&[u8]> {
    match s.split_first() {
        Some((&first, rest)) if first == byte => Some(rest),
        Some(_) | None => None,
    }
}

/// Parses exactly four hex digits.
fn hex4(s: &[u8]) -> Option<(u32, &[u8])> {
    let (digits, rest) = s.split_first_chunk::<4>()?;
    let mut value = 0_u32;
    for &d in digits {
        // At most 0xFFFF: cannot wrap.
        value = value.wrapping_mul(16) | char::from(d).to_digit(16)?;
    }
    Some((value, rest))
}

/// Parses ASCII digits; `None` on overflow or a non-digit.
fn parse_u64(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0_u64, |acc, &d| {
        let d = char::from(d).to_digit(10)?;
        acc.checked_mul(10)?.checked_add(u64::from(d))
    })
}

/// Copies `src` into `dst` (equal lengths in practice), without a panic path.
fn copy(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

fn is_ws(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}
