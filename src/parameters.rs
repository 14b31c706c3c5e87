//! Job-document parameters of the AWS managed job templates (SPEC AMBIG-31): a managed
//! template's document holds placeholders `${aws:iot:parameter:NAME}`, and CreateJob's
//! `documentParameters` give their values. [`substitute`] writes the document with every
//! placeholder replaced by its value into a caller's buffer, without allocation; [`placeholders`]
//! lists the names a document uses.
//!
//! The replacement is textual: a value is inserted as given (the template's per-parameter
//! patterns are the host's to check first). Text that merely resembles a placeholder of another
//! kind (`${aws:iot:s3-presigned-url:…}`) is copied unchanged.

use core::fmt;

/// What opens a placeholder; a `}` closes it.
pub const PREFIX: &str = "${aws:iot:parameter:";

/// Why a document could not be substituted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SubstitutionError<'a> {
    /// A placeholder names a parameter that has no value.
    Missing(&'a str),
    /// A placeholder opened at this byte offset is never closed by `}`.
    Unterminated(usize),
    /// The result does not fit in the output buffer.
    Overflow,
}

impl fmt::Display for SubstitutionError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(name) => write!(f, "the document parameter {name} has no value"),
            Self::Unterminated(at) => {
                write!(f, "the placeholder at byte {at} of the document has no closing }}")
            }
            Self::Overflow => f.write_str("the document after substitution does not fit its buffer"),
        }
    }
}

impl core::error::Error for SubstitutionError<'_> {}

/// One piece of a document: literal text, or a placeholder's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Name(&'a str),
}

/// The byte offset of the first [`PREFIX`] in `s` (a plain scan: `str::find`'s searcher keeps
/// panic paths the optimiser cannot remove).
fn find_prefix(s: &str) -> Option<usize> {
    let (bytes, p) = (s.as_bytes(), PREFIX.as_bytes());
    (0..bytes.len()).find(|&i| bytes.get(i..i.saturating_add(p.len())) == Some(p))
}

/// Splits a document into literal text and placeholder names, in order.
#[derive(Debug, Clone)]
struct Pieces<'a> {
    rest: &'a str,
    /// The byte offset of `rest` in the document.
    at: usize,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Result<Piece<'a>, SubstitutionError<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let Some(open) = find_prefix(self.rest) else {
            let text = self.rest;
            self.rest = "";
            return Some(Ok(Piece::Text(text)));
        };
        if open > 0 {
            let (text, rest) = self.rest.split_at_checked(open)?;
            self.rest = rest;
            self.at = self.at.saturating_add(open);
            return Some(Ok(Piece::Text(text)));
        }
        let after = self.rest.get(PREFIX.len()..)?;
        let Some(close) = after.bytes().position(|b| b == b'}') else {
            let at = self.at;
            self.rest = "";
            return Some(Err(SubstitutionError::Unterminated(at)));
        };
        let name = after.get(..close)?;
        self.rest = after.get(close.saturating_add(1)..)?;
        self.at = self.at.saturating_add(PREFIX.len()).saturating_add(close).saturating_add(1);
        Some(Ok(Piece::Name(name)))
    }
}

/// The names of a document's placeholders, in order (repeated as often as they occur).
///
/// # Errors
/// An item is [`SubstitutionError::Unterminated`] for a placeholder without its `}` (the last
/// item).
pub fn placeholders(document: &str) -> impl Iterator<Item = Result<&str, SubstitutionError<'_>>> {
    Pieces { rest: document, at: 0 }.filter_map(|p| match p {
        Ok(Piece::Name(n)) => Some(Ok(n)),
        Ok(Piece::Text(_)) => None,
        Err(e) => Some(Err(e)),
    })
}

/// Copies `src` into `out` at `pos`; returns the position after it.
fn put(out: &mut [u8], pos: usize, src: &str) -> Result<usize, SubstitutionError<'static>> {
    let end = pos.checked_add(src.len()).ok_or(SubstitutionError::Overflow)?;
    let dst = out.get_mut(pos..end).ok_or(SubstitutionError::Overflow)?;
    for (d, s) in dst.iter_mut().zip(src.bytes()) {
        *d = s;
    }
    Ok(end)
}

/// Writes `document` into `out` with each placeholder `${aws:iot:parameter:NAME}` replaced by
/// `value(NAME)`, and returns the length written; `out[..len]` is UTF-8 (it is made of whole
/// `str` pieces). Nothing is read past the document and nothing is written past `out`.
///
/// # Errors
/// The first problem met in document order: a placeholder whose name has no value
/// ([`SubstitutionError::Missing`]), one without its `}` ([`SubstitutionError::Unterminated`]),
/// or a result longer than `out` ([`SubstitutionError::Overflow`]).
pub fn substitute<'d, 'v>(
    document: &'d str,
    mut value: impl FnMut(&str) -> Option<&'v str>,
    out: &mut [u8],
) -> Result<usize, SubstitutionError<'d>> {
    let mut pos = 0usize;
    for piece in (Pieces { rest: document, at: 0 }) {
        let text = match piece? {
            Piece::Text(t) => t,
            Piece::Name(n) => value(n).ok_or(SubstitutionError::Missing(n))?,
        };
        pos = put(out, pos, text).map_err(|_| SubstitutionError::Overflow)?;
    }
    Ok(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Substitutes into a buffer of `cap` bytes and compares the result with `want`.
    fn check(doc: &str, params: &[(&str, &str)], cap: usize, want: Result<&str, SubstitutionError<'_>>) {
        let mut buf = [0u8; 256];
        let out = buf.get_mut(..cap).unwrap();
        let got = substitute(doc, |k| params.iter().find(|(n, _)| *n == k).map(|(_, v)| *v), out)
            .map(|n| core::str::from_utf8(out.get(..n).unwrap()).unwrap());
        assert_eq!(got, want, "{doc}");
    }

    #[test]
    fn replaces_every_placeholder_and_keeps_other_text() {
        let doc = r#"{"a":"${aws:iot:parameter:x}","b":["${aws:iot:parameter:y}","${aws:iot:parameter:x}"],"c":"${aws:iot:s3-presigned-url:u}"}"#;
        let want = r#"{"a":"1","b":["é/2","1"],"c":"${aws:iot:s3-presigned-url:u}"}"#;
        check(doc, &[("x", "1"), ("y", "é/2")], 256, Ok(want));
        check("no placeholders", &[], 256, Ok("no placeholders"));
        check("", &[], 0, Ok(""));
        check("${aws:iot:parameter:x}", &[("x", "")], 0, Ok(""));
    }

    #[test]
    fn errors_name_the_problem() {
        check("a ${aws:iot:parameter:zz} b", &[], 256, Err(SubstitutionError::Missing("zz")));
        check("ab${aws:iot:parameter:x", &[("x", "1")], 256, Err(SubstitutionError::Unterminated(2)));
        check("${aws:iot:parameter:x}", &[("x", "12345")], 4, Err(SubstitutionError::Overflow));
        check("12345", &[], 4, Err(SubstitutionError::Overflow));
        // Exactly full fits.
        check("1${aws:iot:parameter:x}", &[("x", "234")], 4, Ok("1234"));
    }

    #[test]
    fn errors_display_what_is_wrong() {
        extern crate std;
        use std::string::ToString;
        assert_eq!(SubstitutionError::Missing("zz").to_string(), "the document parameter zz has no value");
        let unterminated = "the placeholder at byte 2 of the document has no closing }";
        assert_eq!(SubstitutionError::Unterminated(2).to_string(), unterminated);
        let overflow = "the document after substitution does not fit its buffer";
        assert_eq!(SubstitutionError::Overflow.to_string(), overflow);
    }

    #[test]
    fn placeholders_in_order() {
        let mut names = placeholders("${aws:iot:parameter:a}-${aws:iot:parameter:b}${aws:iot:parameter:a}");
        assert_eq!(names.next(), Some(Ok("a")));
        assert_eq!(names.next(), Some(Ok("b")));
        assert_eq!(names.next(), Some(Ok("a")));
        assert_eq!(names.next(), None);
        let mut bad = placeholders("x${aws:iot:parameter:a");
        assert_eq!(bad.next(), Some(Err(SubstitutionError::Unterminated(1))));
        assert_eq!(bad.next(), None);
    }
}
