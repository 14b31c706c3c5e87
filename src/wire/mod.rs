//! The JSON messages of the AWS IoT Jobs device API (SPEC §4.3, §4.4, §7.1, §7.2): parsed into
//! borrowed views and serialized into caller buffers, without allocation.
//!
//! Every message type has the same two entry points:
//!
//! * `T::parse(input, scratch)` reads one JSON document. Strings borrow from `input`; a string
//!   that contains JSON escapes is unescaped into `scratch` (unescaping never makes a string
//!   longer, so `input.len()` bytes of scratch always suffice, and no scratch at all is needed
//!   for input without escapes).
//! * `t.serialize(out)` writes the message into `out` and returns the written part, or
//!   [`WireError::BufferTooSmall`]; it never truncates. The `MAX_*_LEN` constants bound the
//!   output, so a buffer of that size always suffices.
//!
//! Parsing follows the service's robustness rules: unknown members are skipped (AWS clients send
//! extras) but must still be valid JSON; a known member given twice, a missing required member,
//! a wrong type, a number out of range, an unknown enumeration string (`"SUCCESS"`, SPEC §1) and
//! every field constraint of SPEC §5 / R14 are errors. [`WireError::error_code`] tells which MQTT
//! ErrorResponse code answers each (SPEC §4.4): `InvalidJson` for input that is not JSON,
//! `InvalidRequest` for JSON with invalid contents.
//!
//! Serializing checks the same constraints, so a hand-built value with, say, an invalid `jobId`
//! is an error, never an invalid message: whatever `serialize` writes, `parse` reads back equal.
//!
//! Timestamps are whole seconds since the epoch (SPEC R18), carried as given: the developer
//! guide's examples that show milliseconds (AMBIG-21) parse as the same `u64`.
//!
//! The HTTPS data plane (`iot-jobs-data`) uses the same bodies without `timestamp` and
//! `clientToken` and carries `jobDocument` as a JSON string (SPEC AMBIG-22). Each message
//! therefore also has `parse_as` and `serialize_as`, which take a [`Flavor`]: the MQTT form
//! (what `parse` and `serialize` use) or the HTTP form, so that both transports share one parser
//! and one renderer. The accepted-response types have an optional `timestamp`, and
//! [`JobDocument`] keeps either form of the document as raw JSON.

use core::fmt;

use crate::error::ErrorCode;
use crate::id::{FieldError, JobId, StatusDetails, ThingName, Timestamp};
pub use crate::json::Error as JsonError;
use crate::json::{self, BufferFull, JsonStr, Kind, Reader, Writer};
use crate::status::ExecutionStatus;

/// Implements `parse` and `serialize` (and their [`Flavor`] forms) for a top-level message with
/// private `read` and `write`; `request` marks a request, which reads an empty input as `{}` in
/// both forms (see [`Flavor`]).
macro_rules! message {
    ($name:ident) => {
        message!($name, false);
    };
    ($name:ident, request) => {
        message!($name, true);
    };
    ($name:ident, $request:literal) => {
        impl<'a> $name<'a> {
            /// Parses one message from `input` in its MQTT form. Strings with JSON escapes are
            /// unescaped into `scratch`; `input.len()` bytes of scratch always suffice.
            pub fn parse(input: &'a [u8], scratch: &'a mut [u8]) -> Result<Self, WireError> {
                Self::parse_as(input, scratch, crate::wire::Flavor::Mqtt)
            }

            /// Parses one message from `input` in the form `flavor` gives it (see [`Flavor`]).
            pub fn parse_as(
                input: &'a [u8],
                scratch: &'a mut [u8],
                flavor: crate::wire::Flavor,
            ) -> Result<Self, WireError> {
                crate::wire::parse(input, scratch, flavor, $request, Self::read)
            }

            /// Writes the message in its MQTT form into `out` and returns the written part, or
            /// [`WireError::BufferTooSmall`] (nothing is truncated).
            pub fn serialize<'b>(&self, out: &'b mut [u8]) -> Result<&'b [u8], WireError> {
                self.serialize_as(out, crate::wire::Flavor::Mqtt)
            }

            /// Writes the message in the form `flavor` gives it (see [`Flavor`]) into `out` and
            /// returns the written part, or [`WireError::BufferTooSmall`].
            pub fn serialize_as<'b>(
                &self,
                out: &'b mut [u8],
                flavor: crate::wire::Flavor,
            ) -> Result<&'b [u8], WireError> {
                crate::wire::serialize(out, |w| self.write(w, flavor))
            }
        }
    };
}

/// Reads an object's members into `Option` slots: each arm `test => slot = value` is tried in
/// order and the first whose `test` holds stores `value` with `put` (a second value for the same
/// member is an error); a member no arm takes is skipped. `$p` and `$key` name the parser and the
/// member's key inside the arms.
macro_rules! read_members {
    ($p:ident, $key:ident { $($test:expr => $slot:ident = $value:expr),+ $(,)? }) => {
        $p.object(|$p, $key| {
            $(
                if $test {
                    return crate::wire::put(&mut $slot, $key, $value);
                }
            )+
            Ok(())
        })
    };
}

mod data;
mod limits;
mod request;
mod response;
#[cfg(test)]
mod tests;

pub(crate) use data::SummaryIdentity;
pub use data::{ExecutionIdentity, JobDocument, JobExecution, JobExecutionState, JobExecutionSummary};
pub use limits::*;
pub use request::{DescribeRequest, GetPendingRequest, StartNextRequest, UpdateRequest};
pub(crate) use response::PendingHead;
pub use response::{
    ErrorResponse, ExecutionResponse, GetPendingResponse, JobExecutionsChanged, NextJobExecutionChanged,
    SummaryList, UpdateResponse,
};

/// The transport whose form of a message is parsed or written (SPEC AMBIG-22).
///
/// The HTTP form differs from the MQTT form only where botocore's `iot-jobs-data` model does;
/// timestamps are whole seconds since the epoch in both (SPEC R18):
///
/// * `jobDocument` is written as a JSON string holding the document's JSON text (a document
///   that already is a JSON string is written as it is); parsing accepts either form.
/// * `clientToken` is not a member: it is not written, and on input it is skipped like any
///   unknown member. The optional `timestamp` of the accepted responses
///   ([`GetPendingResponse`], [`ExecutionResponse`], [`UpdateResponse`]) is treated the same way.
/// * A member whose value is `null` reads as absent, as AWS's JSON protocols read them.
///
/// An input that is empty or only whitespace reads as `{}`: in the HTTP form any message (a
/// request or response without a body), in the MQTT form a request (a request without a
/// payload, which the service takes as a request without members: SPEC err-InvalidJson, AWS's
/// embedded C jobs demo asks for `$next` so). An empty response or notification over MQTT is
/// `InvalidJson`: the service never sends one.
///
/// The messages that exist only over MQTT (ErrorResponse and the notifications) have no other
/// form: apart from `clientToken` and the embedded `jobDocument` they are the same in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Flavor {
    /// The MQTT device API (`$aws/things/T/jobs/…`), as the developer guide documents it.
    #[default]
    Mqtt,
    /// The HTTPS data plane (`iot-jobs-data`), as botocore's REST-JSON model shapes it.
    Http,
}

/// Most summaries in one list of a GetPending response or a `notify` message (SPEC R12,
/// AMBIG-13: the larger cap, 15; equals `crate::policy::PendingCap::MAX`). A longer list is an
/// error, never silently truncated.
pub const MAX_PENDING_JOBS: usize = 15;

/// Longest `clientToken`, in bytes. The Jobs documentation gives no limit (SPEC §5); this is the
/// limit AWS IoT applies to the Device Shadow service's `clientToken`, adopted so that every
/// message has a bound. A longer token is `InvalidRequest`.
pub const MAX_CLIENT_TOKEN_LEN: usize = 64;

/// Why a message could not be parsed or serialized.
///
/// [`error_code`](Self::error_code) gives the MQTT ErrorResponse code to answer a request with
/// (SPEC §4.4); `Display` says what was wrong and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum WireError {
    /// The JSON reader's error: malformed JSON, or a value of the wrong type or range, or a
    /// known member given twice ([`JsonError::DuplicateKey`]).
    Json(json::Error),
    /// A field failed its SPEC §5 / R14 constraint.
    Field(FieldError),
    /// A string that is not one of the enumeration's exact values (SPEC §1; e.g. `"SUCCESS"`).
    UnknownValue {
        /// The enumeration, e.g. `"JobExecutionStatus"`.
        what: &'static str,
        /// Byte offset of the string.
        offset: usize,
    },
    /// A required member is absent.
    Missing {
        /// The member's name.
        member: &'static str,
    },
    /// A string or list is longer than this module allows (`clientToken` bytes, summaries per
    /// list).
    TooLong {
        /// The member's name.
        member: &'static str,
        /// The most allowed.
        max: usize,
        /// What was given.
        len: usize,
    },
    /// A member that the message must not carry, e.g. `executionState` in an ErrorResponse
    /// whose code is not `InvalidStateTransition` or `VersionMismatch` (SPEC §4.4).
    NotAllowed {
        /// The member's name.
        member: &'static str,
    },
    /// The parser's `scratch` buffer is too small for the unescaped strings. Give it at least as
    /// many bytes as the input.
    ScratchTooSmall,
    /// The serializer's output buffer is too small. Size it with the `MAX_*_LEN` constants.
    BufferTooSmall,
}

impl WireError {
    /// The MQTT ErrorResponse code that answers a request that failed with this error
    /// (SPEC §4.4): `InvalidJson` when the payload is not JSON, `InvalidRequest` when its
    /// contents are invalid, `InternalError` when the receiver's own buffer was too small.
    #[must_use]
    pub const fn error_code(&self) -> ErrorCode {
        match self {
            Self::Json(e) => match e {
                json::Error::UnexpectedEnd
                | json::Error::UnexpectedByte { .. }
                | json::Error::InvalidUtf8 { .. }
                | json::Error::InvalidEscape { .. }
                | json::Error::TrailingCharacters { .. } => ErrorCode::InvalidJson,
                // Valid JSON whose contents do not fit the message (deeper than this crate reads
                // counts as contents too).
                json::Error::NumberOutOfRange { .. }
                | json::Error::TooDeep { .. }
                | json::Error::ExpectedString { .. }
                | json::Error::ExpectedNumber { .. }
                | json::Error::ExpectedInteger { .. }
                | json::Error::ExpectedBool { .. }
                | json::Error::ExpectedNull { .. }
                | json::Error::ExpectedObject { .. }
                | json::Error::ExpectedArray { .. }
                | json::Error::DuplicateKey { .. } => ErrorCode::InvalidRequest,
                json::Error::BufferTooSmall | json::Error::OutOfOrder { .. } => ErrorCode::InternalError,
            },
            Self::Field(_)
            | Self::UnknownValue { .. }
            | Self::Missing { .. }
            | Self::TooLong { .. }
            | Self::NotAllowed { .. } => ErrorCode::InvalidRequest,
            Self::ScratchTooSmall | Self::BufferTooSmall => ErrorCode::InternalError,
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Json(e) if self.error_code() == ErrorCode::InvalidJson => write!(f, "not valid JSON: {e}"),
            Self::Json(e) => write!(f, "invalid message: {e}"),
            Self::Field(e) => e.fmt(f),
            Self::UnknownValue { what, offset } => write!(f, "not a valid {what} value at byte {offset}"),
            Self::Missing { member } => write!(f, "required member {member} is missing"),
            Self::TooLong { member, max, len } => {
                write!(f, "{member} has length {len}; at most {max} allowed")
            }
            Self::NotAllowed { member } => write!(f, "member {member} is not allowed in this message"),
            Self::ScratchTooSmall => f.write_str("scratch buffer too small for the unescaped strings"),
            Self::BufferTooSmall => f.write_str("output buffer too small for the message"),
        }
    }
}

impl core::error::Error for WireError {}

impl From<json::Error> for WireError {
    fn from(e: json::Error) -> Self {
        // Only `JsonStr::unescape_into` reports it, and only for the scratch buffer.
        if let json::Error::BufferTooSmall = e { Self::ScratchTooSmall } else { Self::Json(e) }
    }
}

impl From<FieldError> for WireError {
    fn from(e: FieldError) -> Self {
        Self::Field(e)
    }
}

impl From<BufferFull> for WireError {
    fn from(_: BufferFull) -> Self {
        Self::BufferTooSmall
    }
}

// ---- Parsing -------------------------------------------------------------------------------

/// A JSON reader plus the bump allocator for unescaped strings.
struct Parser<'a> {
    r: Reader<'a>,
    /// The unused part of the caller's scratch buffer.
    scratch: &'a mut [u8],
    /// The transport whose form is read.
    flavor: Flavor,
}

/// Reads one top-level value with `read` and checks that only whitespace follows.
fn parse<'a, T>(
    input: &'a [u8],
    scratch: &'a mut [u8],
    flavor: Flavor,
    request: bool,
    read: fn(&mut Parser<'a>) -> Result<T, WireError>,
) -> Result<T, WireError> {
    // A message without a body is an empty object: over HTTP any, over MQTT a request (see
    // `Flavor`).
    let empty_is_object = match flavor {
        Flavor::Http => true,
        Flavor::Mqtt => request,
    };
    let input =
        if empty_is_object && input.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { input };
    let mut p = Parser { r: Reader::new(input), scratch, flavor };
    let e = match read(&mut p) {
        Ok(value) => match p.r.finish() {
            Ok(()) => return Ok(value),
            Err(e) => WireError::from(e),
        },
        Err(e) => e,
    };
    // SPEC §4.4: a payload that is not JSON at all is `InvalidJson`, even where reading stopped
    // earlier at invalid contents (`nope` fails `{` as a misspelt `null`; `{"status":5,x` fails
    // at the 5).
    if e.error_code() == ErrorCode::InvalidRequest
        && let Err(syntax) = Reader::new(input).finish()
        && WireError::from(syntax).error_code() == ErrorCode::InvalidJson
    {
        return Err(syntax.into());
    }
    Err(e)
}

/// Stores a member's value; a second value for the same known member is an error.
fn put<T>(slot: &mut Option<T>, key: JsonStr<'_>, value: T) -> Result<(), WireError> {
    match slot.replace(value) {
        None => Ok(()),
        Some(_) => Err(WireError::Json(json::Error::DuplicateKey { offset: key.offset() })),
    }
}

/// The value of a required member.
fn required<T>(slot: Option<T>, member: &'static str) -> Result<T, WireError> {
    slot.ok_or(WireError::Missing { member })
}

impl<'a> Parser<'a> {
    /// Reads an object, calling `member` with each key; values it does not read are skipped
    /// (and validated) by the reader.
    fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, JsonStr<'a>) -> Result<(), WireError>,
    ) -> Result<(), WireError> {
        self.r.begin_object()?;
        while let Some(key) = self.r.next_member()? {
            // An HTTP member whose value is `null` is absent (see `Flavor`).
            if self.flavor == Flavor::Http && self.r.peek_kind()? == Kind::Null {
                self.r.read_null()?;
                continue;
            }
            member(self, key)?;
        }
        Ok(())
    }

    /// Whether `key` is a `clientToken` this flavour reads (the HTTPS bodies have none).
    fn is_client_token(&self, key: JsonStr<'_>) -> bool {
        self.flavor == Flavor::Mqtt && key.eq_str("clientToken")
    }

    /// Whether `key` is the optional `timestamp` of an accepted response in this flavour (the
    /// HTTPS bodies have none).
    fn is_response_timestamp(&self, key: JsonStr<'_>) -> bool {
        self.flavor == Flavor::Mqtt && key.eq_str("timestamp")
    }

    /// The string's text: borrowed from the input, or unescaped into the scratch buffer.
    fn text(&mut self, s: JsonStr<'a>) -> Result<&'a str, WireError> {
        if let Some(plain) = s.as_str() {
            return Ok(plain);
        }
        let buf = core::mem::take(&mut self.scratch);
        let len = s.unescape_into(&mut *buf)?.len();
        let (used, rest) = buf.split_at_mut_checked(len).ok_or(WireError::ScratchTooSmall)?;
        self.scratch = rest;
        let used: &'a [u8] = used;
        // Cannot fail (the bytes were just unescaped into a `str`), but avoids `unsafe`.
        core::str::from_utf8(used)
            .map_err(|_| WireError::Json(json::Error::InvalidUtf8 { offset: s.offset() }))
    }

    fn string(&mut self) -> Result<&'a str, WireError> {
        let s = self.r.read_str()?;
        self.text(s)
    }

    /// A string that must be one of `all`, compared unescaped and exactly (SPEC §1).
    fn one_of<T: Copy>(
        &mut self,
        all: &[T],
        name: fn(T) -> &'static str,
        what: &'static str,
    ) -> Result<T, WireError> {
        let s = self.r.read_str()?;
        all.iter()
            .copied()
            .find(|v| s.eq_str(name(*v)))
            .ok_or(WireError::UnknownValue { what, offset: s.offset() })
    }

    /// `status`: all eight JobExecutionStatus values (SPEC §1).
    fn status(&mut self) -> Result<ExecutionStatus, WireError> {
        self.one_of(&ExecutionStatus::ALL, ExecutionStatus::as_str, "JobExecutionStatus")
    }

    /// Whole seconds since the epoch (SPEC R18).
    fn timestamp(&mut self) -> Result<Timestamp, WireError> {
        Ok(Timestamp(self.r.read_u64()?))
    }

    fn bool(&mut self) -> Result<bool, WireError> {
        Ok(self.r.read_bool()?)
    }

    /// `clientToken`: any string of at most [`MAX_CLIENT_TOKEN_LEN`] bytes.
    fn client_token(&mut self) -> Result<&'a str, WireError> {
        let token = self.string()?;
        check_client_token(token)?;
        Ok(token)
    }
}

/// SPEC §5 `clientToken` (see [`MAX_CLIENT_TOKEN_LEN`]).
fn check_client_token(token: &str) -> Result<(), WireError> {
    if token.len() > MAX_CLIENT_TOKEN_LEN {
        return Err(WireError::TooLong {
            member: "clientToken",
            max: MAX_CLIENT_TOKEN_LEN,
            len: token.len(),
        });
    }
    Ok(())
}

/// SPEC §5 `jobId`, full match (R17).
fn check_job_id(id: &str) -> Result<(), WireError> {
    JobId::new(id).map(drop).map_err(WireError::Field)
}

/// SPEC §5 `thingName`, full match (R17).
fn check_thing_name(name: &str) -> Result<(), WireError> {
    ThingName::new(name).map(drop).map_err(WireError::Field)
}

// ---- Serializing ---------------------------------------------------------------------------

/// Runs `write` on a writer over `out` and returns the written bytes.
fn serialize<'b>(
    out: &'b mut [u8],
    write: impl FnOnce(&mut Writer<'b>) -> Result<(), WireError>,
) -> Result<&'b [u8], WireError> {
    let mut w = Writer::new(out);
    write(&mut w)?;
    Ok(w.finish()?)
}

fn put_str(w: &mut Writer<'_>, name: &str, value: &str) -> Result<(), BufferFull> {
    w.key(name)?;
    w.string(value)
}

fn put_u64(w: &mut Writer<'_>, name: &str, value: u64) -> Result<(), BufferFull> {
    w.key(name)?;
    w.u64(value)
}

fn put_opt_u64(w: &mut Writer<'_>, name: &str, value: Option<u64>) -> Result<(), BufferFull> {
    value.map_or(Ok(()), |v| put_u64(w, name, v))
}

/// The optional `timestamp` of an accepted response: not a member of the HTTPS bodies.
fn put_response_timestamp(
    w: &mut Writer<'_>,
    at: Option<Timestamp>,
    flavor: Flavor,
) -> Result<(), BufferFull> {
    match flavor {
        Flavor::Mqtt => put_opt_u64(w, "timestamp", at.map(Timestamp::secs)),
        Flavor::Http => Ok(()),
    }
}

/// `clientToken`: not a member of the HTTPS bodies.
fn put_client_token(w: &mut Writer<'_>, token: Option<&str>, flavor: Flavor) -> Result<(), WireError> {
    if let (Some(token), Flavor::Mqtt) = (token, flavor) {
        check_client_token(token)?;
        put_str(w, "clientToken", token)?;
    }
    Ok(())
}

/// Most statusDetails pairs (SPEC R14).
const PAIRS: usize = StatusDetails::MAX_PAIRS;
