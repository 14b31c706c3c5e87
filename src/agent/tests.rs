//! Unit tests of the agent's private helpers; the scenarios are in `tests/agent/`.

extern crate std;

use super::machine::{decimal, jitter_seed, jittered};
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

#[test]
fn jitter_is_an_fnv1a_seeded_xorshift32() {
    // FNV-1a's published vectors: the seed of a first token 0 is the name's hash.
    assert_eq!(jitter_seed(b"", 0), 0x811c_9dc5);
    assert_eq!(jitter_seed(b"a", 0), 0xe40c_292c);
    assert_eq!(jitter_seed(b"foobar", 0), 0xbf9c_f968);
    // The first token is mixed in by a multiple of the golden ratio; a seed of 0, where
    // xorshift would stay, is 1.
    assert_eq!(jitter_seed(b"a", 1), 0xe40c_292c ^ 0x9e37_79b9);
    assert_eq!(jitter_seed(b"a", 2), 0xe40c_292c ^ 0x3c6e_f372);
    assert_eq!(jitter_seed(b"", 0x56a9_1a6d), 1);
    // Marsaglia's xorshift32 from 1; a delay of 2^34 leaves the draw whole above its floor.
    let mut rng = 1;
    for want in [270_369_u64, 67_634_689, 2_647_435_461] {
        assert_eq!(jittered(1 << 34, &mut rng), (1 << 33) + want);
        assert_eq!(u64::from(rng), want);
    }
    // Small delays: the draw modulo the upper half's width, above the floor.
    let mut rng = 1;
    assert_eq!(jittered(2, &mut rng), 1 + 270_369 % 2);
    assert_eq!(jittered(7, &mut rng), 3 + 67_634_689 % 5);
    assert_eq!(jittered(0, &mut rng), 0);
    let most = jittered(u64::MAX, &mut rng);
    assert_eq!(most, u64::MAX / 2 + u64::from(rng));
}
