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

/// Maximum nesting depth of arrays and objects accepted by [`Reader`].
pub const MAX_DEPTH: usize = 16;

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
    /// Arrays and objects are nested more than [`MAX_DEPTH`] deep.
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

/// A scanned number, before conversion.
struct Number<'a> {
    offset: usize,
    negative: bool,
    int_digits: &'a [u8],
    integer: bool,
}

/// A pull parser over one JSON document.
///
/// After [`new`](Self::new) the reader expects the top-level value. Read a
/// value with one of the `read_*` methods, [`skip_value`](Self::skip_value),
/// [`raw_value`](Self::raw_value) or, for containers,
/// [`begin_object`](Self::begin_object) followed by
/// [`next_member`](Self::next_member) until it returns `None` (and
/// likewise [`begin_array`](Self::begin_array) and
/// [`next_element`](Self::next_element)). Completing the top-level value
/// checks that only whitespace follows it; [`finish`](Self::finish)
/// validates whatever the caller left unread.
///
/// A `read_*` call that finds a value of another type returns an
/// `Expected*` error without consuming it. After any other error the reader
/// is in an unspecified (but safe) state and should be dropped.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    input: &'a [u8],
    /// The unread part of `input`.
    rest: &'a [u8],
    /// `true` for an object, `false` for an array, per open container.
    stack: [bool; MAX_DEPTH],
    depth: usize,
    /// No member or element yet in the innermost container.
    first: bool,
    /// A value is due next.
    pending: bool,
}

impl<'a> Reader<'a> {
    /// Creates a reader for the document in `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Reader { input, rest: input, stack: [false; MAX_DEPTH], depth: 0, first: false, pending: true }
    }

    /// The current byte offset into the input.
    pub fn offset(&self) -> usize {
        self.offset_of(self.rest)
    }

    fn offset_of(&self, rest: &[u8]) -> usize {
        self.input.len().saturating_sub(rest.len())
    }

    fn unexpected(&self, at: &[u8]) -> Error {
        if at.is_empty() {
            Error::UnexpectedEnd
        } else {
            Error::UnexpectedByte { offset: self.offset_of(at) }
        }
    }

    fn skip_ws(&mut self) {
        let n = self.rest.iter().position(|b| !is_ws(b)).unwrap_or(self.rest.len());
        self.rest = self.rest.get(n..).unwrap_or_default();
    }

    /// Consumes the exact bytes `lit`.
    fn literal(&mut self, lit: &[u8]) -> Result<(), Error> {
        for &want in lit {
            match self.rest.split_first() {
                Some((&b, rest)) if b == want => self.rest = rest,
                Some(_) | None => return Err(self.unexpected(self.rest)),
            }
        }
        Ok(())
    }

    /// Whether the innermost open container is an object.
    fn top(&self) -> Option<bool> {
        self.stack.get(self.depth.checked_sub(1)?).copied()
    }

    /// Checks that a value is due and returns its first byte.
    fn start_value(&mut self) -> Result<u8, Error> {
        if !self.pending {
            return Err(Error::OutOfOrder { offset: self.offset() });
        }
        self.skip_ws();
        self.rest.first().copied().ok_or(Error::UnexpectedEnd)
    }

    /// Marks the due value as read; after the top-level value, rejects
    /// anything but whitespace.
    fn end_value(&mut self) -> Result<(), Error> {
        self.pending = false;
        if self.depth == 0 {
            self.skip_ws();
            if !self.rest.is_empty() {
                return Err(Error::TrailingCharacters { offset: self.offset() });
            }
        }
        Ok(())
    }

    /// Returns the kind of the next value without consuming it.
    pub fn peek_kind(&mut self) -> Result<Kind, Error> {
        Ok(match self.start_value()? {
            b'{' => Kind::Object,
            b'[' => Kind::Array,
            b'"' => Kind::String,
            b'-' | b'0'..=b'9' => Kind::Number,
            b't' | b'f' => Kind::Bool,
            b'n' => Kind::Null,
            _ => {
                return Err(Error::UnexpectedByte { offset: self.offset() });
            }
        })
    }

    /// Consumes the `{` of an object; then call [`next_member`](Self::next_member).
    pub fn begin_object(&mut self) -> Result<(), Error> {
        self.begin(true)
    }

    /// Consumes the `[` of an array; then call [`next_element`](Self::next_element).
    pub fn begin_array(&mut self) -> Result<(), Error> {
        self.begin(false)
    }

    fn begin(&mut self, object: bool) -> Result<(), Error> {
        let open = if object { b'{' } else { b'[' };
        if self.start_value()? != open {
            let offset = self.offset();
            return Err(if object {
                Error::ExpectedObject { offset }
            } else {
                Error::ExpectedArray { offset }
            });
        }
        let offset = self.offset();
        *self.stack.get_mut(self.depth).ok_or(Error::TooDeep { offset })? = object;
        self.depth = self.depth.saturating_add(1);
        self.rest = self.rest.get(1..).unwrap_or_default();
        self.first = true;
        self.pending = false;
        Ok(())
    }

    /// Advances to the next member of the current object and returns its
    /// key; the caller then reads (or ignores) the value. Returns `None`
    /// after consuming the closing `}`. A value left unread is skipped.
    pub fn next_member(&mut self) -> Result<Option<JsonStr<'a>>, Error> {
        self.next_item(true)
    }

    /// Advances to the next element of the current array: `true` if there
    /// is one to read, `false` after consuming the closing `]`. An element
    /// left unread is skipped.
    pub fn next_element(&mut self) -> Result<bool, Error> {
        Ok(self.next_item(false)?.is_some())
    }

    fn next_item(&mut self, object: bool) -> Result<Option<JsonStr<'a>>, Error> {
        if self.top() != Some(object) {
            return Err(Error::OutOfOrder { offset: self.offset() });
        }
        if self.pending {
            self.skip_value()?;
        }
        self.item(object)
    }

    /// Steps past the `,` or closing bracket of the innermost container
    /// (and an object member's key), leaving the next value due.
    /// Returns `Some` for a member (an element's "key" is empty) and `None`
    /// at the end. Does not recurse.
    fn item(&mut self, object: bool) -> Result<Option<JsonStr<'a>>, Error> {
        self.skip_ws();
        let close = if object { b'}' } else { b']' };
        if let Some(rest) = strip(self.rest, close) {
            self.rest = rest;
            self.depth = self.depth.saturating_sub(1);
            self.first = false;
            self.end_value()?;
            return Ok(None);
        }
        if !self.first {
            self.literal(b",")?;
            self.skip_ws();
        }
        self.first = false;
        let key = if object {
            if self.rest.first() != Some(&b'"') {
                return Err(self.unexpected(self.rest));
            }
            let key = self.scan_string()?;
            self.skip_ws();
            self.literal(b":")?;
            key
        } else {
            JsonStr { raw: "", escaped: false, offset: self.offset() }
        };
        self.pending = true;
        Ok(Some(key))
    }

    /// Reads a string value.
    pub fn read_str(&mut self) -> Result<JsonStr<'a>, Error> {
        if self.start_value()? != b'"' {
            return Err(Error::ExpectedString { offset: self.offset() });
        }
        let s = self.scan_string()?;
        self.end_value()?;
        Ok(s)
    }

    /// Scans the string starting at the current `"`.
    fn scan_string(&mut self) -> Result<JsonStr<'a>, Error> {
        let offset = self.offset();
        let body = self.rest.get(1..).unwrap_or_default();
        let mut s = body;
        let mut escaped = false;
        let tail = loop {
            let n = s.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            let tail = s.get(n.ok_or(Error::UnexpectedEnd)?..).unwrap_or_default();
            match tail.split_first() {
                Some((&b'"', after)) => {
                    self.rest = after;
                    break tail;
                }
                Some((&b'\\', escape)) => {
                    let invalid = Error::InvalidEscape { offset: self.offset_of(tail) };
                    s = decode_escape(escape).ok_or(invalid)?.1;
                    escaped = true;
                }
                Some(_) | None => return Err(self.unexpected(tail)),
            }
        };
        let raw = body.get(..body.len().saturating_sub(tail.len())).unwrap_or_default();
        let raw = core::str::from_utf8(raw).map_err(|e| Error::InvalidUtf8 {
            offset: offset.saturating_add(1).saturating_add(e.valid_up_to()),
        })?;
        Ok(JsonStr { raw, escaped, offset })
    }

    /// Splits a non-empty run of ASCII digits off `s`.
    fn digits(&self, s: &'a [u8]) -> Result<(&'a [u8], &'a [u8]), Error> {
        let n = s.iter().position(|b| !b.is_ascii_digit()).unwrap_or(s.len());
        if n == 0 {
            return Err(self.unexpected(s));
        }
        s.split_at_checked(n).ok_or(Error::UnexpectedEnd)
    }

    /// Scans a number per the JSON grammar.
    fn number(&mut self) -> Result<Number<'a>, Error> {
        let first = self.start_value()?;
        let offset = self.offset();
        if !(first == b'-' || first.is_ascii_digit()) {
            return Err(Error::ExpectedNumber { offset });
        }
        let (negative, s) = match strip(self.rest, b'-') {
            Some(s) => (true, s),
            None => (false, self.rest),
        };
        // A leading zero stands alone; a digit after it is then unexpected.
        let (int_digits, mut s) = match s.split_first() {
            Some((&b'0', after)) => (b"0".as_slice(), after),
            Some(_) | None => self.digits(s)?,
        };
        let mut integer = true;
        if let Some(fraction) = strip(s, b'.') {
            s = self.digits(fraction)?.1;
            integer = false;
        }
        if let Some(exp) = strip(s, b'e').or_else(|| strip(s, b'E')) {
            let exp = strip(exp, b'+').or_else(|| strip(exp, b'-')).unwrap_or(exp);
            s = self.digits(exp)?.1;
            integer = false;
        }
        self.rest = s;
        self.end_value()?;
        Ok(Number { offset, negative, int_digits, integer })
    }

    /// Reads an integer number: its offset, sign and magnitude.
    fn integer(&mut self) -> Result<(usize, bool, u64), Error> {
        let n = self.number()?;
        if !n.integer {
            return Err(Error::ExpectedInteger { offset: n.offset });
        }
        let magnitude = parse_u64(n.int_digits).ok_or(Error::NumberOutOfRange { offset: n.offset })?;
        Ok((n.offset, n.negative, magnitude))
    }

    /// Reads a non-negative integer (`-0` is accepted as 0).
    pub fn read_u64(&mut self) -> Result<u64, Error> {
        match self.integer()? {
            (offset, true, 1..) => Err(Error::NumberOutOfRange { offset }),
            (_, _, value) => Ok(value),
        }
    }

    /// Reads a signed integer.
    pub fn read_i64(&mut self) -> Result<i64, Error> {
        let (offset, negative, magnitude) = self.integer()?;
        let value =
            if negative { 0_i64.checked_sub_unsigned(magnitude) } else { i64::try_from(magnitude).ok() };
        value.ok_or(Error::NumberOutOfRange { offset })
    }

    /// Reads a non-negative integer given either as a number (`3`) or as a
    /// string of one or more ASCII digits (`"3"`, leading zeros allowed;
    /// no sign, whitespace or escapes).
    pub fn read_u64_or_string(&mut self) -> Result<u64, Error> {
        if self.start_value()? != b'"' {
            return self.read_u64();
        }
        let s = self.read_str()?;
        let digits = s.raw.as_bytes();
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(Error::ExpectedNumber { offset: s.offset });
        }
        parse_u64(digits).ok_or(Error::NumberOutOfRange { offset: s.offset })
    }

    /// Reads `true` or `false`.
    pub fn read_bool(&mut self) -> Result<bool, Error> {
        let value = match self.start_value()? {
            b't' => true,
            b'f' => false,
            _ => {
                return Err(Error::ExpectedBool { offset: self.offset() });
            }
        };
        self.literal(if value { b"true" } else { b"false" })?;
        self.end_value()?;
        Ok(value)
    }

    /// Reads `null`.
    pub fn read_null(&mut self) -> Result<(), Error> {
        if self.start_value()? != b'n' {
            return Err(Error::ExpectedNull { offset: self.offset() });
        }
        self.literal(b"null")?;
        self.end_value()
    }

    /// Validates and skips the next value, however nested (iteratively).
    pub fn skip_value(&mut self) -> Result<(), Error> {
        let base = self.depth;
        loop {
            match self.peek_kind()? {
                Kind::Object => self.begin_object()?,
                Kind::Array => self.begin_array()?,
                Kind::String => self.read_str().map(drop)?,
                Kind::Number => self.number().map(drop)?,
                Kind::Bool => self.read_bool().map(drop)?,
                Kind::Null => self.read_null()?,
            }
            // Go to the next value due inside what is being skipped, if any.
            loop {
                if self.depth <= base {
                    return Ok(());
                }
                let object = self.top() == Some(true);
                if self.item(object)?.is_some() {
                    break;
                }
            }
        }
    }

    /// Validates the next value and returns its exact bytes, e.g. to keep
    /// an opaque document as raw JSON.
    pub fn raw_value(&mut self) -> Result<&'a [u8], Error> {
        self.start_value()?;
        let start = self.rest;
        self.skip_value()?;
        let mut raw = start.get(..start.len().saturating_sub(self.rest.len())).unwrap_or_default();
        // The top-level value's end also skipped the whitespace after it.
        while let [value @ .., last] = raw
            && is_ws(last)
        {
            raw = value;
        }
        Ok(raw)
    }

    /// Validates the rest of the document, skipping what the caller left
    /// unread (members, elements, open containers, the top-level value).
    pub fn finish(mut self) -> Result<(), Error> {
        while let Some(object) = self.top() {
            self.next_item(object)?;
        }
        if self.pending {
            self.skip_value()?;
        }
        Ok(())
    }
}

/// The [`Writer`]'s buffer is too small for the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BufferFull;

impl fmt::Display for BufferFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON output buffer full")
    }
}

impl core::error::Error for BufferFull {}

/// Serializes JSON into a byte buffer.
///
/// Commas are inserted automatically; the caller is responsible for a
/// well-formed sequence of calls (`key` only directly inside an object and
/// followed by one value, balanced `begin_*`/`end_*`). A method that runs
/// out of space returns [`BufferFull`], may have written part of its output
/// (never past the buffer), and makes [`finish`](Self::finish) fail.
#[derive(Debug)]
pub struct Writer<'b> {
    buf: &'b mut [u8],
    len: usize,
    /// The next member or element needs a comma before it.
    comma: bool,
    /// A key was just written; the next value follows it directly.
    after_key: bool,
    failed: bool,
}

impl<'b> Writer<'b> {
    /// Creates a writer that fills `buf` from the start.
    pub fn new(buf: &'b mut [u8]) -> Self {
        Writer { buf, len: 0, comma: false, after_key: false, failed: false }
    }

    /// Number of bytes written so far.
    pub fn position(&self) -> usize {
        self.len
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), BufferFull> {
        let end = self.len.checked_add(bytes.len());
        match end.and_then(|end| self.buf.get_mut(self.len..end)) {
            Some(dst) => {
                copy(dst, bytes);
                self.len = self.len.saturating_add(bytes.len());
                Ok(())
            }
            None => {
                self.failed = true;
                Err(BufferFull)
            }
        }
    }

    /// Writes the comma that separates this value from the previous one.
    fn value_start(&mut self) -> Result<(), BufferFull> {
        if core::mem::take(&mut self.after_key) || !self.comma { Ok(()) } else { self.put(b",") }
    }

    /// Writes a complete scalar value.
    fn value(&mut self, bytes: &[u8]) -> Result<(), BufferFull> {
        self.value_start()?;
        self.put(bytes)?;
        self.comma = true;
        Ok(())
    }

    /// Writes `{`.
    pub fn begin_object(&mut self) -> Result<(), BufferFull> {
        self.value_start()?;
        self.put(b"{")?;
        self.comma = false;
        Ok(())
    }

    /// Writes `}`.
    pub fn end_object(&mut self) -> Result<(), BufferFull> {
        self.put(b"}")?;
        self.comma = true;
        Ok(())
    }

    /// Writes `[`.
    pub fn begin_array(&mut self) -> Result<(), BufferFull> {
        self.value_start()?;
        self.put(b"[")?;
        self.comma = false;
        Ok(())
    }

    /// Writes `]`.
    pub fn end_array(&mut self) -> Result<(), BufferFull> {
        self.put(b"]")?;
        self.comma = true;
        Ok(())
    }

    /// Writes an object member's key and the `:`; write its value next.
    pub fn key(&mut self, key: &str) -> Result<(), BufferFull> {
        if self.comma {
            self.put(b",")?;
        }
        self.quoted(key)?;
        self.put(b":")?;
        self.comma = false;
        self.after_key = true;
        Ok(())
    }

    /// Writes a string value, escaped.
    pub fn string(&mut self, s: &str) -> Result<(), BufferFull> {
        self.value_start()?;
        self.quoted(s)?;
        self.comma = true;
        Ok(())
    }

    fn quoted(&mut self, s: &str) -> Result<(), BufferFull> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let needs_escape = |b: &u8| *b == b'"' || *b == b'\\' || *b < 0x20;
        self.put(b"\"")?;
        let mut rest = s.as_bytes();
        while let Some(n) = rest.iter().position(needs_escape) {
            let Some((literal, escaped)) = rest.split_at_checked(n) else {
                break;
            };
            let Some((&b, after)) = escaped.split_first() else {
                break;
            };
            self.put(literal)?;
            match b {
                b'"' => self.put(b"\\\"")?,
                b'\\' => self.put(b"\\\\")?,
                b'\n' => self.put(b"\\n")?,
                b'\r' => self.put(b"\\r")?,
                b'\t' => self.put(b"\\t")?,
                0x08 => self.put(b"\\b")?,
                0x0C => self.put(b"\\f")?,
                _ => {
                    let high = if b >= 0x10 { b'1' } else { b'0' };
                    let low = HEX.get(usize::from(b & 0xF)).copied().unwrap_or(b'0');
                    self.put(&[b'\\', b'u', b'0', b'0', high, low])?;
                }
            }
            rest = after;
        }
        self.put(rest)?;
        self.put(b"\"")
    }

    /// Writes an unsigned integer.
    pub fn u64(&mut self, value: u64) -> Result<(), BufferFull> {
        self.value(itoa(value, &mut [0; 20]))
    }

    /// Writes a signed integer.
    pub fn i64(&mut self, value: i64) -> Result<(), BufferFull> {
        if value >= 0 {
            return self.u64(value.unsigned_abs());
        }
        self.value_start()?;
        self.put(b"-")?;
        self.put(itoa(value.unsigned_abs(), &mut [0; 20]))?;
        self.comma = true;
        Ok(())
    }

    /// Writes `true` or `false`.
    pub fn bool(&mut self, value: bool) -> Result<(), BufferFull> {
        self.value(if value { b"true" } else { b"false" })
    }

    /// Writes `null`.
    pub fn null(&mut self) -> Result<(), BufferFull> {
        self.value(b"null")
    }

    /// Writes `json` as a value, unchanged. The caller must ensure it is one
    /// valid JSON value (e.g. from [`Reader::raw_value`]).
    pub fn raw(&mut self, json: &[u8]) -> Result<(), BufferFull> {
        self.value(json)
    }

    /// Returns the written bytes, or [`BufferFull`] if any write failed.
    pub fn finish(self) -> Result<&'b [u8], BufferFull> {
        if self.failed {
            return Err(BufferFull);
        }
        let buf: &'b [u8] = self.buf;
        buf.get(..self.len).ok_or(BufferFull)
    }
}

/// Formats `value` in decimal at the end of `buf`.
fn itoa(mut value: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    for (i, slot) in buf.iter_mut().enumerate().rev() {
        // A digit is below 10: the cast is exact.
        *slot = b'0' | (value % 10) as u8;
        value /= 10;
        start = i;
        if value == 0 {
            break;
        }
    }
    buf.get(start..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::string::{String, ToString};
    use std::vec::Vec;
    use std::{format, vec};

    /// Validates a whole document by skipping it.
    fn validate(input: &[u8]) -> Result<(), Error> {
        Reader::new(input).finish()
    }

    fn unescape(s: JsonStr<'_>) -> String {
        let mut buf = [0; 256];
        s.unescape_into(&mut buf).unwrap().to_string()
    }

    fn read_string(input: &[u8]) -> Result<String, Error> {
        let s = Reader::new(input).read_str()?;
        let mut buf = [0; 256];
        Ok(s.unescape_into(&mut buf)?.to_string())
    }

    /// Reads a request the way the wire layer does: known members once each, unknown skipped.
    #[test]
    fn reads_an_update_request() -> Result<(), Error> {
        let msg = br#"{"status":"IN_PROGRESS","expectedVersion":"3","clientToken":"abc"}"#;
        let mut r = Reader::new(msg);
        let (mut status, mut version) = (None, None);
        r.begin_object()?;
        while let Some(key) = r.next_member()? {
            // `eq_str` compares the unescaped key, so `"st\u0061tus"` matches too.
            let duplicate = if key.eq_str("status") {
                status.replace(r.read_str()?).is_some()
            } else if key.eq_str("expectedVersion") {
                version.replace(r.read_u64_or_string()?).is_some()
            } else {
                false // unread values are skipped (and validated) by `next_member`
            };
            if duplicate {
                return Err(Error::DuplicateKey { offset: key.offset() });
            }
        }
        r.finish()?;
        assert_eq!(status.and_then(|s| s.as_str()), Some("IN_PROGRESS"));
        assert_eq!(version, Some(3));
        Ok(())
    }

    // ---- Reader: documents ------------------------------------------------

    #[test]
    fn update_request_all_fields() {
        let msg = br#"{"status":"IN_PROGRESS","statusDetails":{"k":"v","step":"2/3"},"expectedVersion":"3","clientToken":"abc","stepTimeoutInMinutes":5,"includeJobExecutionState":true,"x":null}"#;
        let mut r = Reader::new(msg);
        r.begin_object().unwrap();
        let mut details = Vec::new();
        let mut seen = Vec::new();
        while let Some(key) = r.next_member().unwrap() {
            let k = key.as_str().unwrap();
            seen.push(k);
            match k {
                "status" => assert_eq!(r.read_str().unwrap().as_str(), Some("IN_PROGRESS")),
                "statusDetails" => {
                    r.begin_object().unwrap();
                    while let Some(k) = r.next_member().unwrap() {
                        details.push((k.as_str().unwrap(), r.read_str().unwrap().as_str().unwrap()));
                    }
                }
                "expectedVersion" => assert_eq!(r.read_u64_or_string().unwrap(), 3),
                "clientToken" => assert_eq!(r.read_str().unwrap().as_str(), Some("abc")),
                "stepTimeoutInMinutes" => assert_eq!(r.read_i64().unwrap(), 5),
                "includeJobExecutionState" => assert!(r.read_bool().unwrap()),
                "x" => r.read_null().unwrap(),
                other => panic!("unexpected key {other}"),
            }
        }
        r.finish().unwrap();
        assert_eq!(details, [("k", "v"), ("step", "2/3")]);
        assert_eq!(seen.len(), 7);
    }

    #[test]
    fn duplicate_keys_are_detectable() {
        let msg = br#"{"status":"A","st\u0061tus":"B"}"#;
        let mut r = Reader::new(msg);
        r.begin_object().unwrap();
        let mut status = None;
        let mut err = None;
        while let Some(key) = r.next_member().unwrap() {
            if key.eq_str("status") && status.replace(r.read_str().unwrap()).is_some() {
                err = Some(Error::DuplicateKey { offset: key.offset() });
            }
        }
        assert_eq!(err, Some(Error::DuplicateKey { offset: 14 }));
    }

    #[test]
    fn empty_and_nested_containers() {
        for doc in [
            &b"{}"[..],
            b"[]",
            b" { } ",
            b"[[],{},[{}]]",
            b"{\"a\":[1,-2,3.5e-7,\"s\",true,false,null,{\"b\":{}}]}",
            b"\"top\"",
            b"0",
            b"-0.0E+1",
            b"true",
            b"null",
        ] {
            assert_eq!(validate(doc), Ok(()), "{}", String::from_utf8_lossy(doc));
        }
        let mut r = Reader::new(b"[[1,2],[],[3]]");
        r.begin_array().unwrap();
        let mut sums = Vec::new();
        while r.next_element().unwrap() {
            r.begin_array().unwrap();
            let mut sum = 0;
            while r.next_element().unwrap() {
                sum += r.read_u64().unwrap();
            }
            sums.push(sum);
        }
        assert_eq!(sums, [3, 0, 3]);
        r.finish().unwrap();
    }

    #[test]
    fn whitespace_is_rfc8259_only() {
        assert_eq!(validate(b" \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n[ 1 , 2 ] \t\r\n} \t\r\n"), Ok(()));
        assert_eq!(validate(b"\x0c1"), Err(Error::UnexpectedByte { offset: 0 }));
        assert_eq!(validate(b"[1,\x0b2]"), Err(Error::UnexpectedByte { offset: 3 }));
        assert_eq!(validate(b"1\x0c"), Err(Error::TrailingCharacters { offset: 1 }));
        assert_eq!(validate("[\u{a0}1]".as_bytes()), Err(Error::UnexpectedByte { offset: 1 }));
    }

    #[test]
    fn trailing_characters() {
        assert_eq!(validate(b"{} x"), Err(Error::TrailingCharacters { offset: 3 }));
        assert_eq!(validate(b"1 2"), Err(Error::TrailingCharacters { offset: 2 }));
        assert_eq!(validate(b"\"a\"\"b\""), Err(Error::TrailingCharacters { offset: 3 }));
        assert_eq!(validate(b"[]]"), Err(Error::TrailingCharacters { offset: 2 }));
        assert_eq!(validate(b"truex"), Err(Error::TrailingCharacters { offset: 4 }));
        assert_eq!(validate(b"01"), Err(Error::TrailingCharacters { offset: 1 }));
        // Also when the caller reads the value itself.
        assert_eq!(Reader::new(b"7 ,").read_u64(), Err(Error::TrailingCharacters { offset: 2 }));
        let mut r = Reader::new(b"{}{");
        r.begin_object().unwrap();
        assert_eq!(r.next_member().map(|_| ()), Err(Error::TrailingCharacters { offset: 2 }));
    }

    #[test]
    fn unexpected_end() {
        for doc in [
            &b""[..],
            b"   ",
            b"{",
            b"{\"a\"",
            b"{\"a\":",
            b"{\"a\":1",
            b"{\"a\":1,",
            b"[",
            b"[1,",
            b"\"abc",
            b"\"abc\\\"",
            b"tru",
            b"nul",
            b"-",
            b"1.",
            b"1e",
            b"1e+",
        ] {
            assert_eq!(validate(doc), Err(Error::UnexpectedEnd), "{}", String::from_utf8_lossy(doc));
        }
    }

    #[test]
    fn unexpected_byte() {
        for (doc, offset) in [
            (&b"{,}"[..], 1),
            (b"[,1]", 1),
            (b"[1,]", 3),
            (b"[1 2]", 3),
            (b"{\"a\":1,}", 7),
            (b"{\"a\" 1}", 5),
            (b"{\"a\":1 \"b\":2}", 7),
            (b"{1:2}", 1),
            (b"{'a':1}", 1),
            (b"[01]", 2),
            (b"+1", 0),
            (b".5", 0),
            (b"1.e3", 2),
            (b"1e+x", 3),
            (b"-a", 1),
            (b"[-]", 2),
            (b"nulL", 3),
            (b"tRue", 1),
            (b"fals", 4),
            (b"[1}", 2),
            (b"{\"a\":1]", 6),
            (b"\"a\x01b\"", 2),
            (b"\"a\nb\"", 2),
            (b"]", 0),
        ] {
            let want =
                if offset == doc.len() { Error::UnexpectedEnd } else { Error::UnexpectedByte { offset } };
            assert_eq!(validate(doc), Err(want), "{}", String::from_utf8_lossy(doc));
        }
    }

    #[test]
    fn invalid_utf8() {
        for (doc, offset) in [
            (&b"\"\xff\""[..], 1),
            (b"[\"ok\",\"ab\xc3\"]", 9),
            (b"\"\xc0\x80\"", 1),     // overlong NUL
            (b"\"\xed\xa0\x80\"", 1), // UTF-8-encoded surrogate
            (b"{\"k\xe9y\":1}", 3),   // Latin-1 in a key
            (b"\"\\n\xf5\\n\"", 3),   // after an escape
        ] {
            assert_eq!(validate(doc), Err(Error::InvalidUtf8 { offset }), "{doc:?}");
        }
        // Valid multi-byte UTF-8 is fine, as a key too.
        assert_eq!(validate("{\"clé\":\"日本😀\"}".as_bytes()), Ok(()));
    }

    // ---- Strings and escapes ----------------------------------------------

    #[test]
    fn escapes_decode() {
        assert_eq!(read_string(br#""\"\\\/\b\f\n\r\t""#).unwrap(), "\"\\/\u{8}\u{c}\n\r\t");
        assert_eq!(read_string(br#""caf\u00e9""#).unwrap(), "café");
        assert_eq!(read_string(br#""\u00E9\u0000""#).unwrap(), "é\0");
        assert_eq!(read_string(br#""\ud83d\ude00!""#).unwrap(), "😀!");
        assert_eq!(read_string(br#""\uD83D\uDE00""#).unwrap(), "😀");
        assert_eq!(read_string(br#""\uffff\u20ac""#).unwrap(), "\u{ffff}€");
    }

    #[test]
    fn invalid_escapes() {
        for (doc, offset) in [
            (&br#""\ud83d""#[..], 1),  // lone high surrogate
            (br#""ab\ud83dxy""#, 3),   // high surrogate, then text
            (br#""\ud83d\u0041""#, 1), // high surrogate, then non-low
            (br#""\ud83d\ud83d""#, 1), // two highs
            (br#""\ude00""#, 1),       // lone low surrogate
            (br#""\u12g4""#, 1),
            (br#""\u12""#, 1),
            (br#""\x41""#, 1),
            (br#""\'""#, 1),
            (br#""\U00e9""#, 1),
            (br#"["ok","a\ d"]"#, 8),
        ] {
            assert_eq!(validate(doc), Err(Error::InvalidEscape { offset }), "{doc:?}");
        }
    }

    #[test]
    fn str_accessors() {
        let plain = Reader::new(b" \"plain\"").read_str().unwrap();
        assert_eq!(plain.as_str(), Some("plain"));
        assert_eq!(plain.raw(), "plain");
        assert!(!plain.has_escapes());
        assert_eq!(plain.offset(), 1);
        assert!(plain.eq_str("plain"));
        assert!(!plain.eq_str("plai"));

        let esc = Reader::new(br#""st\u0061tus""#).read_str().unwrap();
        assert_eq!(esc.as_str(), None);
        assert_eq!(esc.raw(), "st\\u0061tus");
        assert!(esc.has_escapes());
        assert!(esc.eq_str("status"));
        for other in ["statu", "statuss", "st\\u0061tus", "", "xtatus"] {
            assert!(!esc.eq_str(other), "{other}");
        }
        let empty = Reader::new(b"\"\"").read_str().unwrap();
        assert!(empty.eq_str(""));
        assert!(!empty.eq_str("a"));
    }

    #[test]
    fn unescape_buffer_exact_and_short() {
        let s = Reader::new(br#""a\u00e9\n""#).read_str().unwrap(); // "aé\n": 4 bytes
        let mut exact = [0; 4];
        assert_eq!(s.unescape_into(&mut exact), Ok("aé\n"));
        let mut short = [0; 3];
        assert_eq!(s.unescape_into(&mut short), Err(Error::BufferTooSmall));
        let plain = Reader::new(b"\"abc\"").read_str().unwrap();
        assert_eq!(plain.unescape_into(&mut [0; 3]), Ok("abc"));
        assert_eq!(plain.unescape_into(&mut [0; 2]), Err(Error::BufferTooSmall));
        assert_eq!(plain.unescape_into(&mut []), Err(Error::BufferTooSmall));
        let empty = Reader::new(b"\"\"").read_str().unwrap();
        assert_eq!(empty.unescape_into(&mut []), Ok(""));
    }

    // ---- Numbers ----------------------------------------------------------

    #[test]
    fn u64_bounds() {
        let read = |doc: &[u8]| Reader::new(doc).read_u64();
        assert_eq!(read(b"0"), Ok(0));
        assert_eq!(read(b"-0"), Ok(0));
        assert_eq!(read(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(read(b" 18446744073709551616"), Err(Error::NumberOutOfRange { offset: 1 }));
        assert_eq!(read(b"99999999999999999999999"), Err(Error::NumberOutOfRange { offset: 0 }));
        assert_eq!(read(b"-1"), Err(Error::NumberOutOfRange { offset: 0 }));
        assert_eq!(read(b"1.0"), Err(Error::ExpectedInteger { offset: 0 }));
        assert_eq!(read(b"1e3"), Err(Error::ExpectedInteger { offset: 0 }));
        assert_eq!(read(b"1E-0"), Err(Error::ExpectedInteger { offset: 0 }));
        assert_eq!(read(b"\"1\""), Err(Error::ExpectedNumber { offset: 0 }));
        assert_eq!(read(b"  true"), Err(Error::ExpectedNumber { offset: 2 }));
    }

    #[test]
    fn i64_bounds() {
        let read = |doc: &[u8]| Reader::new(doc).read_i64();
        assert_eq!(read(b"-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(read(b"-9223372036854775809"), Err(Error::NumberOutOfRange { offset: 0 }));
        assert_eq!(read(b"9223372036854775807"), Ok(i64::MAX));
        assert_eq!(read(b"9223372036854775808"), Err(Error::NumberOutOfRange { offset: 0 }));
        assert_eq!(read(b"-18446744073709551616"), Err(Error::NumberOutOfRange { offset: 0 }));
        assert_eq!(read(b"-42"), Ok(-42));
        assert_eq!(read(b"-0"), Ok(0));
        assert_eq!(read(b"-1.5"), Err(Error::ExpectedInteger { offset: 0 }));
        assert_eq!(read(b"null"), Err(Error::ExpectedNumber { offset: 0 }));
    }

    #[test]
    fn u64_or_string() {
        let read = |doc: &[u8]| Reader::new(doc).read_u64_or_string();
        assert_eq!(read(b"3"), Ok(3));
        assert_eq!(read(b"\"3\""), Ok(3));
        assert_eq!(read(b" \"007\""), Ok(7));
        assert_eq!(read(b"\"18446744073709551615\""), Ok(u64::MAX));
        assert_eq!(read(b"\"18446744073709551616\""), Err(Error::NumberOutOfRange { offset: 0 }));
        assert_eq!(read(b"18446744073709551616"), Err(Error::NumberOutOfRange { offset: 0 }));
        for bad in [&b"\"\""[..], b"\"3a\"", b"\"-3\"", b"\" 3\"", b"\"3.0\"", br#""\u0033""#] {
            assert_eq!(read(bad), Err(Error::ExpectedNumber { offset: 0 }), "{bad:?}");
        }
        assert_eq!(read(b"3.5"), Err(Error::ExpectedInteger { offset: 0 }));
        assert_eq!(read(b"-3"), Err(Error::NumberOutOfRange { offset: 0 }));
        assert_eq!(read(b"true"), Err(Error::ExpectedNumber { offset: 0 }));
        assert_eq!(read(b"\"3"), Err(Error::UnexpectedEnd));
    }

    // ---- Typed reads ------------------------------------------------------

    #[test]
    fn type_mismatch_keeps_value_readable() {
        let mut r = Reader::new(b"[ 1, \"s\", true, null, {}, []]");
        r.begin_array().unwrap();
        assert!(r.next_element().unwrap());
        assert_eq!(r.read_str().map(|_| ()), Err(Error::ExpectedString { offset: 2 }));
        assert_eq!(r.read_bool(), Err(Error::ExpectedBool { offset: 2 }));
        assert_eq!(r.read_null(), Err(Error::ExpectedNull { offset: 2 }));
        assert_eq!(r.begin_object(), Err(Error::ExpectedObject { offset: 2 }));
        assert_eq!(r.begin_array(), Err(Error::ExpectedArray { offset: 2 }));
        assert_eq!(r.peek_kind(), Ok(Kind::Number));
        assert_eq!(r.read_u64(), Ok(1));
        let kinds: Vec<Kind> = core::iter::from_fn(|| {
            r.next_element().unwrap().then(|| {
                let kind = r.peek_kind().unwrap();
                r.skip_value().unwrap();
                kind
            })
        })
        .collect();
        assert_eq!(kinds, [Kind::String, Kind::Bool, Kind::Null, Kind::Object, Kind::Array]);
        r.finish().unwrap();
        assert_eq!(Reader::new(b"false").read_bool(), Ok(false));
        assert_eq!(Reader::new(b"?").peek_kind(), Err(Error::UnexpectedByte { offset: 0 }));
    }

    #[test]
    fn out_of_order_calls() {
        let mut r = Reader::new(b"1");
        assert_eq!(r.read_u64(), Ok(1));
        assert_eq!(r.read_u64(), Err(Error::OutOfOrder { offset: 1 }));
        assert_eq!(r.next_member().map(|_| ()), Err(Error::OutOfOrder { offset: 1 }));

        let mut r = Reader::new(b"[{}]");
        assert_eq!(r.next_element(), Err(Error::OutOfOrder { offset: 0 }));
        r.begin_array().unwrap();
        assert_eq!(r.next_member().map(|_| ()), Err(Error::OutOfOrder { offset: 1 }));
        assert_eq!(r.read_null(), Err(Error::OutOfOrder { offset: 1 }));
        assert!(r.next_element().unwrap());
        r.begin_object().unwrap();
        assert_eq!(r.next_element(), Err(Error::OutOfOrder { offset: 2 }));
        assert_eq!(r.next_member().map(|k| k.is_none()), Ok(true));
        assert_eq!(r.next_element(), Ok(false));
    }

    #[test]
    fn unread_values_are_skipped_and_validated() {
        let doc = br#"{"a":{"deep":[1,{"x":"}"}]},"b":2,"c":[true]}"#;
        let mut r = Reader::new(doc);
        r.begin_object().unwrap();
        let mut b = None;
        while let Some(k) = r.next_member().unwrap() {
            if k.eq_str("b") {
                b = Some(r.read_u64().unwrap());
            }
        }
        assert_eq!(b, Some(2));

        // `finish` validates what was never looked at.
        let mut r = Reader::new(br#"{"a":1,"b":[1,2,}"#);
        r.begin_object().unwrap();
        assert!(r.next_member().unwrap().is_some());
        assert_eq!(r.finish(), Err(Error::UnexpectedByte { offset: 16 }));
        let mut r = Reader::new(br#"{"a":[1,[2]],"b":"c"} "#);
        r.begin_object().unwrap();
        r.next_member().unwrap();
        r.begin_array().unwrap();
        assert!(r.next_element().unwrap());
        assert_eq!(r.finish(), Ok(()));
        assert_eq!(Reader::new(b"[1,2] x").finish(), Err(Error::TrailingCharacters { offset: 6 }));
    }

    // ---- Depth ------------------------------------------------------------

    fn nested(depth: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..depth {
            v.extend_from_slice(if i % 2 == 0 { b"[" } else { b"{\"k\":" });
        }
        v.push(b'0');
        for i in (0..depth).rev() {
            v.push(if i % 2 == 0 { b']' } else { b'}' });
        }
        v
    }

    #[test]
    fn depth_limit() {
        let ok = nested(MAX_DEPTH);
        let deep = nested(MAX_DEPTH + 1);
        let offset = deep.iter().rposition(|&b| b == b'[' || b == b'{').unwrap();
        assert_eq!(validate(&ok), Ok(()));
        assert_eq!(Reader::new(&ok).raw_value(), Ok(&ok[..]));
        assert_eq!(validate(&deep), Err(Error::TooDeep { offset }));
        assert_eq!(Reader::new(&deep).raw_value(), Err(Error::TooDeep { offset }));
        // Far too deep input fails at the same place, without recursion.
        let huge = vec![b'['; 100_000];
        assert_eq!(validate(&huge), Err(Error::TooDeep { offset: MAX_DEPTH }));

        // By hand: MAX_DEPTH arrays open, one more fails.
        let mut r = Reader::new(b"[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]");
        for i in 0..MAX_DEPTH {
            assert_eq!(r.begin_array(), Ok(()));
            if i + 1 < MAX_DEPTH {
                assert!(r.next_element().unwrap());
            }
        }
        assert!(r.next_element().unwrap());
        assert_eq!(r.begin_array(), Err(Error::TooDeep { offset: MAX_DEPTH }));
    }

    // ---- raw_value --------------------------------------------------------

    #[test]
    fn raw_value_exact_bytes() {
        let doc = br#"{"execution":{"jobId":"j1","jobDocument": {"a":"}{\"","b":[1,{"c":"]\\"}],"d":{}} ,"versionNumber":3}}"#;
        let mut r = Reader::new(doc);
        r.begin_object().unwrap();
        r.next_member().unwrap().unwrap();
        r.begin_object().unwrap();
        let mut raw = None;
        let mut version = None;
        while let Some(k) = r.next_member().unwrap() {
            if k.eq_str("jobDocument") {
                raw = Some(r.raw_value().unwrap());
            } else if k.eq_str("versionNumber") {
                version = Some(r.read_u64().unwrap());
            }
        }
        r.finish().unwrap();
        let raw = raw.unwrap();
        assert_eq!(raw, br#"{"a":"}{\"","b":[1,{"c":"]\\"}],"d":{}}"#);
        assert_eq!(version, Some(3));
        // The raw bytes are themselves a valid document.
        assert_eq!(validate(raw), Ok(()));

        assert_eq!(Reader::new(b" [1, 2] \n").raw_value(), Ok(&b"[1, 2]"[..]));
        assert_eq!(Reader::new(b"\"s\"\t").raw_value(), Ok(&b"\"s\""[..]));
        assert_eq!(Reader::new(b"-1.5e3 ").raw_value(), Ok(&b"-1.5e3"[..]));
        assert_eq!(Reader::new(b"{\"a\":[}").raw_value(), Err(Error::UnexpectedByte { offset: 6 }));
        assert_eq!(Reader::new(b"{} 1").raw_value(), Err(Error::TrailingCharacters { offset: 3 }));
    }

    #[test]
    fn error_display_and_offset() {
        assert_eq!(Error::UnexpectedByte { offset: 7 }.to_string(), "unexpected byte at byte 7");
        assert_eq!(Error::UnexpectedEnd.to_string(), "unexpected end of JSON input");
        assert_eq!(Error::TooDeep { offset: 3 }.offset(), Some(3));
        assert_eq!(Error::BufferTooSmall.offset(), None);
        assert_eq!(BufferFull.to_string(), "JSON output buffer full");
        let e: &dyn core::error::Error = &Error::InvalidUtf8 { offset: 1 };
        assert_eq!(format!("{e}"), "invalid UTF-8 at byte 1");
    }

    // ---- Writer -----------------------------------------------------------

    fn write_with(
        size: usize,
        f: impl Fn(&mut Writer<'_>) -> Result<(), BufferFull>,
    ) -> Result<Vec<u8>, BufferFull> {
        let mut buf = vec![0xAA; size + 8];
        let (buf, guard) = buf.split_at_mut(size);
        let mut w = Writer::new(buf);
        let result = f(&mut w);
        let out = w.finish().map(<[u8]>::to_vec);
        assert!(guard.iter().all(|&b| b == 0xAA), "wrote past the end");
        assert_eq!(result.is_ok(), out.is_ok());
        out
    }

    #[test]
    fn writer_builds_update_request() {
        let out = write_with(200, |w| {
            w.begin_object()?;
            w.key("status")?;
            w.string("IN_PROGRESS")?;
            w.key("statusDetails")?;
            w.begin_object()?;
            w.key("k")?;
            w.string("v")?;
            w.key("n")?;
            w.begin_array()?;
            w.u64(1)?;
            w.i64(-2)?;
            w.bool(true)?;
            w.null()?;
            w.begin_array()?;
            w.end_array()?;
            w.begin_object()?;
            w.end_object()?;
            w.raw(b"{\"x\":[1]}")?;
            w.end_array()?;
            w.end_object()?;
            w.key("expectedVersion")?;
            w.u64(3)?;
            w.key("clientToken")?;
            w.string("abc")?;
            w.end_object()
        })
        .unwrap();
        assert_eq!(
            core::str::from_utf8(&out).unwrap(),
            r#"{"status":"IN_PROGRESS","statusDetails":{"k":"v","n":[1,-2,true,null,[],{},{"x":[1]}]},"expectedVersion":3,"clientToken":"abc"}"#
        );
        assert_eq!(validate(&out), Ok(()));
    }

    #[test]
    fn writer_escapes_strings() {
        let out = write_with(100, |w| w.string("q\"b\\s/\u{8}\u{c}\n\r\t\u{0}\u{1f}\u{7f}é😀")).unwrap();
        assert_eq!(
            core::str::from_utf8(&out).unwrap(),
            "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0000\\u001f\u{7f}é😀\""
        );
        let out = write_with(100, |w| {
            w.begin_object()?;
            w.key("a\"\n")?;
            w.u64(0)?;
            w.end_object()
        })
        .unwrap();
        assert_eq!(out, b"{\"a\\\"\\n\":0}");
    }

    #[test]
    fn writer_numbers() {
        for (v, s) in [(0, "0"), (7, "7"), (10, "10"), (u64::MAX, "18446744073709551615")] {
            assert_eq!(write_with(32, |w| w.u64(v)).unwrap(), s.as_bytes());
        }
        for (v, s) in
            [(0, "0"), (-1, "-1"), (i64::MIN, "-9223372036854775808"), (i64::MAX, "9223372036854775807")]
        {
            assert_eq!(write_with(32, |w| w.i64(v)).unwrap(), s.as_bytes());
        }
    }

    #[test]
    fn writer_exact_fit_and_one_short() {
        type Op = fn(&mut Writer<'_>) -> Result<(), BufferFull>;
        // Each case is preceded by `[1` so the comma logic runs too.
        let cases: [(&str, Op); 14] = [
            ("begin_object", |w| w.begin_object()),
            ("end_object", |w| w.end_object()),
            ("begin_array", |w| w.begin_array()),
            ("end_array", |w| w.end_array()),
            ("key", |w| w.key("k\"")),
            ("string", |w| w.string("a\u{1}\"é")),
            ("u64", |w| w.u64(u64::MAX)),
            ("i64", |w| w.i64(i64::MIN)),
            ("i64+", |w| w.i64(42)),
            ("true", |w| w.bool(true)),
            ("false", |w| w.bool(false)),
            ("null", |w| w.null()),
            ("raw", |w| w.raw(b"{\"a\":[]}")),
            ("after key", |w| {
                w.key("k")?;
                w.string("v")
            }),
        ];
        for (name, op) in cases {
            let run = |w: &mut Writer<'_>| {
                w.begin_array()?;
                w.u64(1)?;
                op(w)
            };
            let full = write_with(100, run).unwrap();
            assert_eq!(write_with(full.len(), run).as_deref(), Ok(&full[..]), "{name}");
            assert_eq!(write_with(full.len() - 1, run), Err(BufferFull), "{name}");
            // And as the very first call, into an exactly sized buffer.
            let alone = write_with(100, op).unwrap();
            assert_eq!(write_with(alone.len(), op).as_deref(), Ok(&alone[..]), "{name}");
            assert_eq!(write_with(alone.len() - 1, op), Err(BufferFull), "{name}");
        }
    }

    #[test]
    fn writer_error_is_sticky() {
        let mut buf = [0; 4];
        let mut w = Writer::new(&mut buf);
        assert_eq!(w.string("toolong"), Err(BufferFull));
        assert_eq!(w.position(), 1); // the opening quote
        assert_eq!(w.finish(), Err(BufferFull));
        let mut w = Writer::new(&mut []);
        assert_eq!(w.null(), Err(BufferFull));
        assert_eq!(w.finish(), Err(BufferFull));
        assert_eq!(Writer::new(&mut []).finish(), Ok(&b""[..]));
    }

    #[test]
    fn round_trip_document() {
        let out = write_with(300, |w| {
            w.begin_object()?;
            w.key("s\u{1}")?;
            w.string("\"x\"\\y\u{0}😀")?;
            w.key("u")?;
            w.u64(u64::MAX)?;
            w.key("i")?;
            w.i64(i64::MIN)?;
            w.key("a")?;
            w.begin_array()?;
            w.bool(false)?;
            w.null()?;
            w.end_array()?;
            w.end_object()
        })
        .unwrap();
        let mut r = Reader::new(&out);
        r.begin_object().unwrap();
        let k = r.next_member().unwrap().unwrap();
        assert_eq!(unescape(k), "s\u{1}");
        assert_eq!(unescape(r.read_str().unwrap()), "\"x\"\\y\u{0}😀");
        assert!(r.next_member().unwrap().unwrap().eq_str("u"));
        assert_eq!(r.read_u64(), Ok(u64::MAX));
        assert!(r.next_member().unwrap().unwrap().eq_str("i"));
        assert_eq!(r.read_i64(), Ok(i64::MIN));
        assert!(r.next_member().unwrap().unwrap().eq_str("a"));
        r.begin_array().unwrap();
        assert!(r.next_element().unwrap());
        assert_eq!(r.read_bool(), Ok(false));
        assert!(r.next_element().unwrap());
        assert_eq!(r.read_null(), Ok(()));
        assert!(!r.next_element().unwrap());
        assert!(r.next_member().unwrap().is_none());
        r.finish().unwrap();
    }

    // ---- Properties -------------------------------------------------------

    /// Drives a reader with arbitrary calls; must never panic.
    fn drive(input: &[u8], ops: &[u8]) {
        let mut r = Reader::new(input);
        let mut buf = [0; 8];
        for &op in ops {
            let _ = match op % 13 {
                0 => r
                    .next_member()
                    .map(|k| k.map(|k| (k.unescape_into(&mut buf).is_ok(), k.eq_str("a"))))
                    .map(drop),
                1 => r.next_element().map(drop),
                2 => r.begin_object(),
                3 => r.begin_array(),
                4 => r.read_str().map(|s| s.unescape_into(&mut buf).map(drop)).map(drop),
                5 => r.read_u64().map(drop),
                6 => r.read_i64().map(drop),
                7 => r.read_u64_or_string().map(drop),
                8 => r.read_bool().map(drop),
                9 => r.read_null(),
                10 => r.skip_value(),
                11 => r.raw_value().map(drop),
                _ => r.peek_kind().map(drop),
            };
        }
        let _ = r.finish();
    }

    fn jsonish() -> impl Strategy<Value = Vec<u8>> {
        let alphabet: Vec<u8> = b"{}[]\",:\\ 0123456789-+.eEtrufalsn\x01\xff\xc3\xa9u".to_vec();
        proptest::collection::vec(proptest::sample::select(alphabet), 0..64)
    }

    proptest! {
        #[test]
        #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
        fn strings_round_trip(s in any::<String>(), key in "\\PC{0,8}") {
            let mut buf = vec![0; s.len() * 6 + key.len() * 6 + 16];
            let mut w = Writer::new(&mut buf);
            w.begin_object().unwrap();
            w.key(&key).unwrap();
            w.string(&s).unwrap();
            w.end_object().unwrap();
            let out = w.finish().unwrap();
            let mut r = Reader::new(out);
            r.begin_object().unwrap();
            let k = r.next_member().unwrap().unwrap();
            prop_assert!(k.eq_str(&key));
            let v = r.read_str().unwrap();
            prop_assert!(v.eq_str(&s));
            let mut dec = vec![0; s.len()];
            prop_assert_eq!(v.unescape_into(&mut dec), Ok(s.as_str()));
            prop_assert!(r.next_member().unwrap().is_none());
            prop_assert_eq!(r.finish(), Ok(()));
        }

        #[test]
        #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
        fn numbers_round_trip(u in any::<u64>(), i in any::<i64>()) {
            let mut buf = [0; 64];
            let mut w = Writer::new(&mut buf);
            w.begin_array().unwrap();
            w.u64(u).unwrap();
            w.i64(i).unwrap();
            w.u64(u).unwrap();
            w.end_array().unwrap();
            let out = w.finish().unwrap();
            let want = format!("[{u},{i},{u}]");
            prop_assert_eq!(out, want.as_bytes());
            let mut r = Reader::new(out);
            r.begin_array().unwrap();
            prop_assert!(r.next_element().unwrap());
            prop_assert_eq!(r.read_u64(), Ok(u));
            prop_assert!(r.next_element().unwrap());
            prop_assert_eq!(r.read_i64(), Ok(i));
            prop_assert!(r.next_element().unwrap());
            prop_assert_eq!(r.read_u64_or_string(), Ok(u));
            prop_assert!(!r.next_element().unwrap());
        }

        #[test]
        #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
        fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..64), ops in proptest::collection::vec(any::<u8>(), 0..32)) {
            drive(&input, &ops);
            let _ = validate(&input);
        }

        #[test]
        #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
        fn jsonish_bytes_never_panic(input in jsonish(), ops in proptest::collection::vec(any::<u8>(), 0..32)) {
            drive(&input, &ops);
            // A document that validates is returned whole by `raw_value`.
            if validate(&input).is_ok() {
                let raw = Reader::new(&input).raw_value().unwrap();
                prop_assert_eq!(raw, input.trim_ascii());
            }
        }
    }
}
