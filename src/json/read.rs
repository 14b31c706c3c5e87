//! The pull parser.

use super::{Error, JsonStr, Kind, MAX_DEPTH, brackets, decode_escape, is_ws, parse_u64, strip};

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
    /// One bit per open container, the first in bit 0 of byte 0: set for an object, clear for
    /// an array.
    stack: [u8; MAX_DEPTH / 8],
    depth: usize,
    /// No member or element yet in the innermost container.
    first: bool,
    /// A value is due next.
    pending: bool,
}

impl<'a> Reader<'a> {
    /// Creates a reader for the document in `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Reader { input, rest: input, stack: [0; MAX_DEPTH / 8], depth: 0, first: false, pending: true }
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
        let i = self.depth.checked_sub(1)?;
        self.stack.get(i / 8).map(|byte| byte & (1 << (i % 8)) != 0)
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
        let Some(byte) = self.stack.get_mut(self.depth / 8) else {
            // Deeper than this reader reads. Input that ends before its brackets close is not
            // JSON at all, which sets it apart (SPEC §4.4: `InvalidJson`, not `InvalidRequest`).
            return Err(if closes(self.rest, self.depth) {
                Error::TooDeep { offset }
            } else {
                Error::UnexpectedEnd
            });
        };
        let bit = 1 << (self.depth % 8);
        *byte = if object { *byte | bit } else { *byte & !bit };
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
        let all_digits = |d: &[u8]| !d.is_empty() && d.iter().all(u8::is_ascii_digit);
        if !all_digits(digits) {
            // A negative integer is out of range, as the number `-3` is; anything else no number.
            let negative = digits.strip_prefix(b"-").is_some_and(all_digits);
            return Err(if negative {
                Error::NumberOutOfRange { offset: s.offset }
            } else {
                Error::ExpectedNumber { offset: s.offset }
            });
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

    /// Skips the next value as [`skip_value`](Self::skip_value) does, except that a value
    /// nested deeper than [`MAX_DEPTH`] is then skipped by its brackets alone: what lies past
    /// that depth is not validated, only that every bracket outside a string is closed. For
    /// readers that pick a few members out of a message its own parser refuses.
    pub(crate) fn skip_value_any_depth(&mut self) -> Result<(), Error> {
        let before = self.clone();
        match self.skip_value() {
            Err(Error::TooDeep { .. }) => {
                *self = before;
                self.start_value()?;
                let mut open = 0_usize;
                let end = brackets(self.rest).find_map(|(i, opening)| {
                    open = if opening { open.saturating_add(1) } else { open.saturating_sub(1) };
                    (open == 0).then_some(i)
                });
                self.rest =
                    end.and_then(|i| self.rest.get(i.saturating_add(1)..)).ok_or(Error::UnexpectedEnd)?;
                self.end_value()
            }
            done => done,
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

/// Whether the `open` containers around `rest` are all closed in it, counting brackets outside
/// strings. `false` means the input ends inside one, so it is not JSON whatever the brackets'
/// kinds (in JSON, every bracket outside a string is matched); `true` says nothing more.
fn closes(rest: &[u8], open: usize) -> bool {
    let mut open = open;
    brackets(rest).any(|(_, opening)| {
        open = if opening { open.saturating_add(1) } else { open.saturating_sub(1) };
        open == 0
    })
}
