//! The serializer.

use core::fmt;

use super::copy;

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
    /// valid JSON value (e.g. from [`Reader::raw_value`](super::Reader::raw_value)).
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
