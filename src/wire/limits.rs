//! Upper bounds of the serialized messages, computed from the field maxima of SPEC §5 / R14.
//!
//! Worst cases per value, as the crate's JSON writer escapes them:
//!
//! * identifiers (`jobId` ≤ 64, `thingName` ≤ 128, statusDetails keys ≤ 128 bytes) are ASCII
//!   from patterns without `"` or `\`: never escaped;
//! * a statusDetails value has at most 1024 UTF-16 code units and no control characters
//!   (R14), so only `"` and `\` are escaped (1 byte → 2). A code unit is at most 3 UTF-8 bytes
//!   (U+0800–U+FFFF; an astral character is 4 bytes for 2 units), hence at most 3 × 1024 bytes
//!   however it is escaped;
//! * a `clientToken` of [`MAX_CLIENT_TOKEN_LEN`] bytes may consist of control characters, each
//!   written as `\u00XX`: 6 × 64 bytes;
//! * timestamps are `u64` (20 digits), version and execution numbers are 0..=`i64::MAX`
//!   (19 digits), `stepTimeoutInMinutes` is at most `10080` (5).
//!
//! The tests build the worst message of each kind and check that it is exactly this long (for
//! [`MAX_RESPONSE_LEN_WITHOUT_DOCUMENT`], the longest of the three messages it covers).

use crate::error::ErrorCode;
use crate::id::{JobId, StatusDetails, ThingName};
use crate::status::ExecutionStatus;

use super::{MAX_CLIENT_TOKEN_LEN, MAX_PENDING_JOBS};

const U64_DIGITS: usize = 20;
const LONG_DIGITS: usize = 19;
const STEP_DIGITS: usize = 5;
/// Most UTF-8 bytes one UTF-16 code unit takes, escaped or not (see the module docs).
const VALUE_BYTES_PER_UNIT: usize = 3;
/// `\u00XX`.
const CONTROL_ESCAPE: usize = 6;

/// A quoted string of `len` bytes.
const fn quoted(len: usize) -> usize {
    len.saturating_add(2)
}

/// `"key":value` plus the comma before it, for a key of `key_len` bytes that needs no escape;
/// [`object`] takes back the first member's comma.
const fn pair(key_len: usize, value: usize) -> usize {
    key_len.saturating_add(4).saturating_add(value)
}

const fn member(name: &str, value: usize) -> usize {
    pair(name.len(), value)
}

/// `{…}` around members measured with [`member`] (at least one).
const fn object(members: usize) -> usize {
    members.saturating_add(1)
}

/// `[…]` of `n` ≥ 1 values of at most `value` bytes each.
const fn array(n: usize, value: usize) -> usize {
    n.saturating_mul(value.saturating_add(1)).saturating_add(1)
}

const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

const fn longest_status() -> usize {
    let (mut all, mut longest): (&[ExecutionStatus], usize) = (&ExecutionStatus::ALL, 0);
    while let [first, rest @ ..] = all {
        longest = max(longest, first.as_str().len());
        all = rest;
    }
    longest
}

const fn longest_code() -> usize {
    let (mut all, mut longest): (&[ErrorCode], usize) = (&ErrorCode::ALL, 0);
    while let [first, rest @ ..] = all {
        longest = max(longest, first.as_str().len());
        all = rest;
    }
    longest
}

const CLIENT_TOKEN: usize = member("clientToken", quoted(MAX_CLIENT_TOKEN_LEN * CONTROL_ESCAPE));
const STATUS: usize = member("status", quoted(longest_status()));

/// `"statusDetails":{…}` with ten longest pairs.
const DETAILS: usize = member(
    "statusDetails",
    object(
        StatusDetails::MAX_PAIRS
            * pair(StatusDetails::MAX_KEY_LEN, quoted(StatusDetails::MAX_VALUE_LEN * VALUE_BYTES_PER_UNIT)),
    ),
);

const SUMMARY: usize = object(
    member("jobId", quoted(JobId::MAX_LEN))
        + member("queuedAt", U64_DIGITS)
        + member("startedAt", U64_DIGITS)
        + member("lastUpdatedAt", U64_DIGITS)
        + member("versionNumber", LONG_DIGITS)
        + member("executionNumber", LONG_DIGITS),
);
const SUMMARIES: usize = array(MAX_PENDING_JOBS, SUMMARY);

/// `executionState` of an Update response or ErrorResponse.
const STATE: usize = object(STATUS + DETAILS + member("versionNumber", LONG_DIGITS));

/// A JobExecution whose `jobDocument` is empty.
const EXECUTION: usize = object(
    member("jobId", quoted(JobId::MAX_LEN))
        + member("thingName", quoted(ThingName::MAX_LEN))
        + member("jobDocument", 0)
        + STATUS
        + DETAILS
        + member("queuedAt", U64_DIGITS)
        + member("startedAt", U64_DIGITS)
        + member("lastUpdatedAt", U64_DIGITS)
        + member("versionNumber", LONG_DIGITS)
        + member("executionNumber", LONG_DIGITS)
        + member("approximateSecondsBeforeTimedOut", U64_DIGITS),
);

/// Longest [`GetPendingRequest`](super::GetPendingRequest).
pub const MAX_GET_PENDING_REQUEST_LEN: usize = object(CLIENT_TOKEN);

/// Longest [`StartNextRequest`](super::StartNextRequest).
pub const MAX_START_NEXT_REQUEST_LEN: usize =
    object(DETAILS + member("stepTimeoutInMinutes", STEP_DIGITS) + CLIENT_TOKEN);

/// Longest [`DescribeRequest`](super::DescribeRequest).
pub const MAX_DESCRIBE_REQUEST_LEN: usize = object(
    member("executionNumber", LONG_DIGITS) + member("includeJobDocument", "false".len()) + CLIENT_TOKEN,
);

/// Longest [`UpdateRequest`](super::UpdateRequest).
pub const MAX_UPDATE_REQUEST_LEN: usize = object(
    STATUS
        + DETAILS
        + member("expectedVersion", LONG_DIGITS)
        + member("executionNumber", LONG_DIGITS)
        + member("includeJobExecutionState", "true".len())
        + member("includeJobDocument", "true".len())
        + member("stepTimeoutInMinutes", STEP_DIGITS)
        + CLIENT_TOKEN,
);

/// Longest [`GetPendingResponse`](super::GetPendingResponse).
pub const MAX_GET_PENDING_RESPONSE_LEN: usize = object(
    member("inProgressJobs", SUMMARIES)
        + member("queuedJobs", SUMMARIES)
        + member("timestamp", U64_DIGITS)
        + CLIENT_TOKEN,
);

/// Longest [`JobExecutionsChanged`](super::JobExecutionsChanged) (`notify`).
pub const MAX_JOB_EXECUTIONS_CHANGED_LEN: usize = object(
    member("timestamp", U64_DIGITS)
        + member("jobs", object(member("IN_PROGRESS", SUMMARIES) + member("QUEUED", SUMMARIES))),
);

/// Longest [`ExecutionResponse`](super::ExecutionResponse),
/// [`UpdateResponse`](super::UpdateResponse) or
/// [`NextJobExecutionChanged`](super::NextJobExecutionChanged), **not counting** the bytes of its
/// `jobDocument`: size the buffer as this plus `document.as_bytes().len()`, or
/// [`document.max_len(flavor)`](super::JobDocument::max_len) for the HTTP form. (A job
/// document has no fixed bound: SPEC §5 limits it to 32768 characters of the model's string
/// form.) The HTTP form of every message is never longer than its MQTT form but for the
/// document, so every constant here bounds both.
pub const MAX_RESPONSE_LEN_WITHOUT_DOCUMENT: usize = max(
    object(member("execution", EXECUTION) + member("timestamp", U64_DIGITS) + CLIENT_TOKEN),
    max(
        object(
            member("executionState", STATE)
                + member("jobDocument", 0)
                + member("timestamp", U64_DIGITS)
                + CLIENT_TOKEN,
        ),
        object(member("timestamp", U64_DIGITS) + member("execution", EXECUTION)),
    ),
);

/// Longest [`ErrorResponse`](super::ErrorResponse) with an empty `message`; a message of `n`
/// bytes adds at most `6 × n` (control characters are written as `\u00XX`).
pub const MAX_ERROR_RESPONSE_LEN_WITHOUT_MESSAGE: usize = object(
    member("code", quoted(longest_code()))
        + member("message", quoted(0))
        + CLIENT_TOKEN
        + member("timestamp", U64_DIGITS)
        + member("executionState", STATE),
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Writer;

    /// The size helpers, run at run time against what the writer really produces (the constants
    /// above are evaluated at compile time, where coverage and mutation testing cannot see them).
    #[test]
    fn size_helpers_match_the_writer() {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        w.begin_object().unwrap();
        w.key("ab").unwrap();
        w.string("xyz").unwrap();
        w.key("cd").unwrap();
        w.begin_array().unwrap();
        w.u64(1).unwrap();
        w.u64(2).unwrap();
        w.end_array().unwrap();
        w.end_object().unwrap();
        let out = w.finish().unwrap();
        assert_eq!(out, br#"{"ab":"xyz","cd":[1,2]}"#);
        let members = member("ab", quoted(3)) + member("cd", array(2, 1));
        assert_eq!(object(members), out.len());
        assert_eq!(quoted(3), 5);
        assert_eq!(pair(2, 5), 11);
        assert_eq!(array(2, 1), "[1,2]".len());
        assert_eq!((max(3, 4), max(4, 3)), (4, 4));
        assert_eq!(longest_status(), "IN_PROGRESS".len());
        assert_eq!(longest_code(), "InvalidStateTransition".len());
    }
}
