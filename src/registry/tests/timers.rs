//! The timer heap.

use super::*;

/// Three IN_PROGRESS executions whose step timers are reset many times: superseded timers
/// fill a heap of 4 slots, which is then rebuilt from the live deadlines.
#[test]
fn a_full_timer_heap_is_rebuilt_from_the_live_deadlines() {
    let mut r: Registry<Fixed<4, 4, 4, 1, 64>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut log = Log::default();
    for thing in ["a", "b", "c"] {
        r.add_thing(&t(thing)).unwrap();
    }
    let id = j("j1");
    r.create_job(&NewJob::new(&id, TargetSelection::Snapshot), &[t("a"), t("b"), t("c")], T0, &mut log)
        .unwrap();
    for (i, thing) in ["a", "b", "c"].into_iter().enumerate() {
        for m in 1..=5u16 {
            let u = Update {
                step_timeout: Some(StepTimeout::Minutes(m * 10 + i as u16)),
                ..update(ExecutionStatus::InProgress)
            };
            r.update_execution(&id, &t(thing), &u, T0, &mut log).unwrap();
        }
    }
    // Live deadlines: a at 50 min, b at 51, c at 52.
    assert_eq!(r.next_deadline(), Some(T0.saturating_add(50 * 60)));
    r.advance(T0.saturating_add(51 * 60), usize::MAX, &mut log).unwrap();
    let status = |thing: &str| r.describe_execution(&id, &t(thing), None, Plane::Control).unwrap().status();
    assert_eq!(
        (status("a"), status("b"), status("c")),
        (ExecutionStatus::TimedOut, ExecutionStatus::TimedOut, ExecutionStatus::InProgress)
    );
    assert_eq!(r.next_deadline(), Some(T0.saturating_add(52 * 60)));
}

#[cfg(feature = "serde")]
#[test]
fn a_restore_rearms_every_live_timer() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    let id = j("j1");
    let config = JobConfig {
        in_progress_timeout_minutes: mins(10),
        maximum_per_minute: per_minute(1),
        ..JobConfig::default()
    };
    job_with(&mut r, "j1", &["a", "b"], config, T0, &mut log);
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    let text = serde_json::to_string(&r.snapshot()).unwrap();
    let mut back: Reg =
        Registry::restore(Fixed, Policy::DEFAULT, &mut serde_json::Deserializer::from_str(&text)).unwrap();
    // The next rollout batch (60 s) and a's timeout (600 s) are both armed again.
    assert_eq!(back.next_deadline(), Some(T0.saturating_add(60)));
    back.advance(T0.saturating_add(600), usize::MAX, &mut log).unwrap();
    assert_eq!(
        back.describe_execution(&id, &t("a"), None, Plane::Control).unwrap().status(),
        ExecutionStatus::TimedOut
    );
    assert_eq!(back.usage().executions, 2);
}
