//! Every identifier and field validator, and every enumeration's `FromStr`: never panics; what
//! is accepted round-trips through `as_str`/`Display`; and acceptance equals the SPEC §5 patterns
//! as the reference model restates them (full matches, R17).
#![no_main]

#[path = "../../tests/model/mod.rs"]
#[allow(dead_code, unused_imports)]
mod model;

use std::str::FromStr;

use iot_jobs_core::id::{check_details_key, check_details_value, is_other_category};
use iot_jobs_core::topic::{JobIdRef, JobSelector, NamespaceIdRef, ThingNameRef};
use iot_jobs_core::{
    Comment, ErrorCode, ExecutionNumber, ExecutionStatus, FailureType, JobEndBehavior, JobId, JobStatus,
    NamespaceId, ReasonCode, RetryableFailureType, StatusDetails, StepTimeout, TargetSelection, ThingName,
    VersionNumber,
};
use libfuzzer_sys::fuzz_target;

fn enum_round_trip<T: FromStr + Copy + PartialEq + core::fmt::Debug>(
    s: &str,
    all: &[T],
    name: fn(T) -> &'static str,
) {
    let parsed = T::from_str(s).ok();
    let expected = all.iter().copied().find(|v| name(*v) == s);
    assert_eq!(parsed, expected, "FromStr of {s:?}");
}

fn long_round_trip(s: &str) {
    // SPEC §5: a `long` of digits, 0..=i64::MAX.
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let in_range = digits && s.parse::<u64>().is_ok_and(model::valid_long);
    let n = ExecutionNumber::try_from(s);
    let v = VersionNumber::try_from(s);
    assert_eq!(n.is_ok(), in_range, "ExecutionNumber {s:?}");
    assert_eq!(v.is_ok(), in_range, "VersionNumber {s:?}");
    if let Ok(n) = n {
        assert_eq!(ExecutionNumber::try_from(n.to_string().as_str()), Ok(n));
        assert_eq!(s.parse::<u64>().ok(), Some(n.get()));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(s) = std::str::from_utf8(rest) else {
        // Raw numbers for the integer constructors.
        if let Ok(bytes) = <[u8; 8]>::try_from(rest) {
            let n = i64::from_le_bytes(bytes);
            let step = StepTimeout::from_wire(n, selector & 1 == 1);
            assert_eq!(step.is_ok(), model::valid_step(n, selector & 1 == 1), "step {n}");
            let u = u64::from_le_bytes(bytes);
            assert_eq!(ExecutionNumber::new(u).is_ok(), model::valid_long(u));
            assert_eq!(VersionNumber::try_from(n).is_ok(), n >= 0);
        }
        return;
    };
    match selector % 8 {
        0 => {
            let id = JobId::new(s);
            assert_eq!(id.is_ok(), model::valid_job_id(s), "JobId {s:?}");
            if let Ok(id) = id {
                assert_eq!(id.as_str(), s);
                assert_eq!(id.to_string(), s);
                assert_eq!(JobIdRef::new(s).map(JobIdRef::as_str), Ok(s));
                assert_eq!(JobSelector::new(s).map(JobSelector::as_str), Ok(s));
            } else {
                assert_eq!(JobSelector::new(s).is_ok(), s == "$next");
            }
            let ns = NamespaceId::new(s);
            assert_eq!(ns.is_ok(), model::valid_job_id(s), "NamespaceId {s:?}");
            assert_eq!(NamespaceIdRef::new(s).is_ok(), ns.is_ok());
        }
        1 => {
            let t = ThingName::new(s);
            assert_eq!(t.is_ok(), model::valid_thing_name(s), "ThingName {s:?}");
            if let Ok(t) = t {
                assert_eq!(t.as_str(), s);
                assert_eq!(ThingName::from_str(&t.to_string()).as_ref(), Ok(&t));
            }
            assert_eq!(ThingNameRef::new(s).is_ok(), model::valid_thing_name(s));
            // A statusDetails key has the thing-name pattern (SPEC §5 DetailsKey).
            assert_eq!(check_details_key(s).is_ok(), model::valid_thing_name(s), "key {s:?}");
        }
        2 => {
            let r = ReasonCode::new(s);
            assert_eq!(r.is_ok(), model::valid_reason_code(s), "ReasonCode {s:?}");
            if let Ok(r) = r {
                assert_eq!(r.as_str(), s);
            }
        }
        3 => {
            // Free text: 1..=N UTF-16 units, none in category C.
            let units = s.encode_utf16().count();
            let clean = !s.chars().any(is_other_category);
            assert_eq!(check_details_value(s).is_ok(), (1..=1024).contains(&units) && clean, "value {s:?}");
            let c = Comment::new(s);
            assert_eq!(c.is_ok(), (1..=2028).contains(&units) && clean, "comment {s:?}");
            if let Ok(c) = c {
                assert_eq!(c.as_str(), s);
            }
            // What the model calls control characters are category C for the crate too.
            assert!(!s.chars().any(char::is_control) || !clean);
        }
        4 => {
            enum_round_trip(s, &ExecutionStatus::ALL, ExecutionStatus::as_str);
            enum_round_trip(s, &JobStatus::ALL, JobStatus::as_str);
            enum_round_trip(s, &TargetSelection::ALL, TargetSelection::as_str);
            enum_round_trip(s, &FailureType::ALL, FailureType::as_str);
            enum_round_trip(s, &RetryableFailureType::ALL, RetryableFailureType::as_str);
            enum_round_trip(s, &JobEndBehavior::ALL, JobEndBehavior::as_str);
            enum_round_trip(s, &ErrorCode::ALL, ErrorCode::as_str);
        }
        5 => long_round_trip(s),
        _ => {
            // A statusDetails map from `k=v` lines.
            let pairs: Vec<(&str, &str)> = s.lines().map(|l| l.split_once('=').unwrap_or((l, ""))).collect();
            let owned: Vec<(String, String)> =
                pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
            let crate_ok = StatusDetails::new(&pairs).is_ok();
            let clean = pairs.iter().all(|(_, v)| !v.chars().any(is_other_category));
            assert_eq!(crate_ok, model::valid_details(&owned) && clean, "statusDetails {pairs:?}");
            if let Ok(d) = StatusDetails::new(&pairs) {
                assert_eq!(d.pairs(), &pairs[..]);
                assert_eq!(d.len(), pairs.len());
            }
        }
    }
});
