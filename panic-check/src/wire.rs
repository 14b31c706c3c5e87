//! The wire module: every public parser and serializer on opaque bytes.

use core::fmt::Write as _;
use core::hint::black_box;

use iot_jobs_core::error::{ErrorCode, ExecutionState};
use iot_jobs_core::id::{StatusDetails, VersionNumber};
use iot_jobs_core::status::ExecutionStatus;
use iot_jobs_core::wire::{
    DescribeRequest, ErrorResponse, ExecutionResponse, Flavor, GetPendingRequest, GetPendingResponse,
    JobDocument, JobExecutionState, JobExecutionsChanged, NextJobExecutionChanged, StartNextRequest,
    UpdateRequest, UpdateResponse, WireError,
};

use crate::Fmt;

/// Turns a result into a plain integer (never black-box an enum itself): the output length, or
/// the error's message and code.
fn code(r: Result<&[u8], WireError>) -> usize {
    match r {
        Ok(bytes) => {
            black_box(bytes);
            bytes.len()
        }
        Err(e) => error(e),
    }
}

fn error(e: WireError) -> usize {
    let mut text = Fmt::<96>::new();
    let _ = write!(text, "{e}");
    black_box(&text.buf);
    black_box(e.error_code().as_str()).len()
}

/// A value chosen by an opaque byte, through the public `ALL` arrays.
fn pick<T: Copy>(all: &[T], b: u8, fallback: T) -> T {
    all.get(usize::from(b) % all.len().max(1)).copied().unwrap_or(fallback)
}

/// Parses `input` as every message and serializes what parsed into `out`, in the flavour an
/// opaque byte picks; also builds the values a host builds (statusDetails, documents, error
/// responses) from the same bytes.
pub fn exercise(input: &[u8], scratch: &mut [u8], out: &mut [u8]) {
    let flavor = pick(&[Flavor::Mqtt, Flavor::Http], input.last().copied().unwrap_or(0), Flavor::Mqtt);
    macro_rules! round_trip {
        ($($ty:ident),+) => {$(
            let n = match $ty::parse_as(input, &mut *scratch, flavor) {
                Ok(message) => code(message.serialize_as(&mut *out, flavor)),
                Err(e) => error(e),
            };
            black_box(n);
        )+};
    }
    round_trip!(
        GetPendingRequest,
        StartNextRequest,
        DescribeRequest,
        UpdateRequest,
        GetPendingResponse,
        ExecutionResponse,
        UpdateResponse,
        ErrorResponse,
        JobExecutionsChanged,
        NextJobExecutionChanged
    );

    let text = core::str::from_utf8(input.get(..64).unwrap_or(input)).unwrap_or("k");
    let (key, value) = text.split_at_checked(text.len() / 2).unwrap_or(("k", "v"));
    let pairs = [(key, value), (value, key)];
    let n = usize::from(input.first().copied().unwrap_or(0) % 3);
    let details = StatusDetails::new(pairs.get(..n).unwrap_or_default());
    if let Ok(d) = &details {
        black_box((d.get("k"), d.pairs().len()));
    }
    let document = JobDocument::new(input);
    match document {
        Ok(doc) => {
            black_box((doc.as_bytes(), doc.is_string(), doc.max_len(flavor)));
        }
        Err(e) => {
            black_box(error(e));
        }
    }

    let b = |i: usize| input.get(i).copied().unwrap_or(0);
    let status = pick(&ExecutionStatus::ALL, b(1), ExecutionStatus::Queued);
    let version = VersionNumber::new(u64::from(b(2))).unwrap_or(VersionNumber::INITIAL);
    let mut state = JobExecutionState::from(ExecutionState { status, version });
    state.status_details = details.ok();
    let response = ErrorResponse {
        code: pick(&ErrorCode::ALL, b(3), ErrorCode::InternalError),
        message: text,
        client_token: Some(key),
        timestamp: iot_jobs_core::id::Timestamp(u64::from(b(4))),
        execution_state: Some(state.clone()),
    };
    black_box(code(response.serialize(&mut *out)));
    let update = UpdateResponse {
        execution_state: Some(state),
        job_document: document.ok(),
        timestamp: None,
        client_token: None,
    };
    black_box(code(update.serialize_as(&mut *out, flavor)));
    let request = UpdateRequest { client_token: Some(value), ..UpdateRequest::new(status) };
    black_box(code(request.serialize(&mut *out)));
    black_box(code(DescribeRequest::default().serialize(&mut *out)));
}
