//! Every device-API message parser: never panics, and what parses serializes and parses back
//! equal (parse → serialize → parse), with serialization idempotent and `error_code` total.
//! `ExecutionIdentity`, which salvages an execution's identity from such a message, never
//! panics either, and reads what the message's own parser reads wherever that parser accepts it.
#![no_main]

use iot_jobs_core::wire::{
    DescribeRequest, ErrorResponse, ExecutionIdentity, ExecutionResponse, GetPendingRequest,
    GetPendingResponse, JobExecution, JobExecutionsChanged, NextJobExecutionChanged, StartNextRequest,
    UpdateRequest, UpdateResponse, WireError,
};
use libfuzzer_sys::fuzz_target;

macro_rules! round_trip {
    ($ty:ident, $input:expr) => {{
        let input: &[u8] = $input;
        let mut scratch = vec![0u8; input.len()];
        match $ty::parse(input, &mut scratch) {
            Ok(first) => {
                let mut out = vec![0u8; 4 * input.len() + 256];
                let written = first.serialize(&mut out).expect("a parsed message serializes");
                let written = written.to_vec();
                let mut scratch2 = vec![0u8; written.len()];
                let second = $ty::parse(&written, &mut scratch2).unwrap_or_else(|e| {
                    panic!("re-parse of {:?} failed: {e:?}", String::from_utf8_lossy(&written))
                });
                assert_eq!(first, second, "parse(serialize(parse(x))) != parse(x)");
                let mut out2 = vec![0u8; written.len() + 16];
                assert_eq!(second.serialize(&mut out2).map(<[u8]>::to_vec), Ok(written.clone()));
                // Exactly the written length suffices; one byte less is refused, not truncated.
                let mut exact = vec![0u8; written.len()];
                assert!(second.serialize(&mut exact).is_ok());
                if !written.is_empty() {
                    let mut short = vec![0u8; written.len() - 1];
                    assert_eq!(second.serialize(&mut short), Err(WireError::BufferTooSmall));
                }
            }
            Err(e) => {
                let _ = e.error_code();
                let _ = e.to_string();
            }
        }
    }};
}

/// What `ExecutionIdentity` reads of a message whose parser gave `execution` and, where the
/// message has one, the clientToken `token` (a notification has none: its parser skips one).
fn identity_agrees(input: &[u8], execution: Option<&JobExecution<'_>>, token: Option<Option<&str>>) {
    let mut scratch = vec![0u8; input.len()];
    let id = ExecutionIdentity::parse(input, &mut scratch);
    match (execution, id) {
        (Some(x), Ok(id)) => {
            let token = token.unwrap_or(id.client_token);
            let want = (x.job_id, x.status, x.version_number, x.execution_number, token);
            assert_eq!((id.job_id, id.status, id.version_number, id.execution_number, id.client_token), want);
        }
        (None, Err(WireError::Missing { member: "execution" })) => {}
        (x, id) => panic!("the parser read {x:?}, ExecutionIdentity {id:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, input)) = data.split_first() else { return };
    match which % 10 {
        0 => round_trip!(GetPendingRequest, input),
        1 => round_trip!(StartNextRequest, input),
        2 => round_trip!(DescribeRequest, input),
        3 => round_trip!(UpdateRequest, input),
        4 => round_trip!(GetPendingResponse, input),
        5 => {
            round_trip!(ExecutionResponse, input);
            let mut scratch = vec![0u8; input.len()];
            match ExecutionResponse::parse(input, &mut scratch) {
                Ok(m) => identity_agrees(input, m.execution.as_ref(), Some(m.client_token)),
                Err(_) => drop(ExecutionIdentity::parse(input, &mut vec![0u8; input.len()])),
            }
        }
        6 => round_trip!(UpdateResponse, input),
        7 => round_trip!(ErrorResponse, input),
        8 => round_trip!(JobExecutionsChanged, input),
        _ => {
            round_trip!(NextJobExecutionChanged, input);
            let mut scratch = vec![0u8; input.len()];
            match NextJobExecutionChanged::parse(input, &mut scratch) {
                Ok(m) => identity_agrees(input, m.execution.as_ref(), None),
                Err(_) => drop(ExecutionIdentity::parse(input, &mut vec![0u8; input.len()])),
            }
        }
    }
});
