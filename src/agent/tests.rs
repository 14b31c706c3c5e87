//! Unit tests of the agent's private helpers; the scenarios are in `tests/agent/`.

extern crate std;

use super::machine::decimal;
use super::*;

#[test]
fn decimal_writes_every_width() {
    let mut buf = [0; 10];
    for (n, s) in [(0, "0"), (7, "7"), (10, "10"), (4_000_000_000, "4000000000"), (u32::MAX, "4294967295")] {
        assert_eq!(decimal(n, &mut buf), s);
    }
}

#[test]
fn details_round_trip_and_refuse_what_does_not_fit() {
    let pairs = [("a", "1"), ("key:x", "ünïcode \"quoted\"")];
    let d = keep_details(&StatusDetails::new(&pairs).unwrap()).unwrap();
    assert_eq!(kept_details(&d).unwrap().pairs(), &pairs);
    let big = "v".repeat(MAX_DETAILS_BYTES);
    let e = keep_details(&StatusDetails::new(&[("k", big.as_str())]).unwrap()).unwrap_err();
    assert_eq!(e, AgentError::DetailsTooLarge { len: MAX_DETAILS_BYTES + 4, capacity: MAX_DETAILS_BYTES });
    let exact = "v".repeat(MAX_DETAILS_BYTES - 4);
    assert!(keep_details(&StatusDetails::new(&[("k", exact.as_str())]).unwrap()).is_ok());
}

#[test]
fn tokens_of_every_transmission_of_a_request_match_across_wrap_around() {
    let mut o = Outbox::new(Request::StartNext);
    assert!(!o.answers(Some("1")), "not sent yet");
    assert!(!o.answers(None));
    o.first_token = Some(u32::MAX);
    o.last_token = 1;
    for t in ["4294967295", "0", "1"] {
        assert!(o.answers(Some(t)), "{t}");
    }
    for t in ["2", "4294967294", "-1", "", "01x", "01", "+1", "00", "4294967295 "] {
        assert!(!o.answers(Some(t)), "{t}");
    }
    assert!(o.answers(None), "a reply without clientToken is taken by its topic");
}

#[test]
fn agent_is_small_enough_for_a_device() {
    // The document buffer plus about 4 KiB of bookkeeping (scratch, three statusDetails copies,
    // the event queue, the identifiers).
    let size = core::mem::size_of::<Agent<0>>();
    assert!(size < 4096, "{size}");
}
