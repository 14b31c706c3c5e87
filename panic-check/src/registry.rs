//! Every registry operation, on names, statuses and flags taken from opaque bytes.

use core::hint::black_box;

use iot_jobs_core::config::{
    ExponentialRate, JobConfig, MaintenanceWindow, MaintenanceWindows, RateIncrease, RetryConfig,
    RetryCriterion, RolloutRate,
};
use iot_jobs_core::cron::Cron;
use iot_jobs_core::registry::{Cursor, Discard, Event, EventSink, Fixed, NewJob, Registry, Update};
use iot_jobs_core::{
    ExecutionNumber, ExecutionStatus, JobId, NamespaceId, Plane, Policy, ReasonCode, RetryableFailureType,
    StatusDetails, StepTimeout, TargetSelection, ThingName, TimeoutMinutes, Timestamp, VersionNumber,
};

use crate::{keep, pick, text};

/// A bounded queue, so the `Throttled` paths are reachable too.
struct Queue(heapless::Deque<Event, 4>);

impl EventSink for Queue {
    fn room(&self) -> usize {
        self.0.capacity().saturating_sub(self.0.len())
    }
    fn push(&mut self, e: Event) {
        let _ = self.0.push_back(e);
    }
}

pub fn exercise(b: &[u8; 1024]) {
    // A device's choice: statusDetails maps of at most 1 KiB.
    let mut r: Registry<Fixed<2, 2, 4, 1, 16, 1024>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut q = Queue(heapless::Deque::new());
    let Ok(thing) = ThingName::new(text(&b[0..8])).or_else(|_| ThingName::new("t")) else { return };
    keep(r.add_thing(&thing));
    let Ok(job) = JobId::new(text(&b[8..16])) else { return };
    let now = Timestamp(u64::from_le_bytes([b[16], b[17], b[18], b[19], b[20], b[21], b[22], b[23]]));
    let selection = pick(&TargetSelection::ALL, b[24], TargetSelection::Snapshot);
    let retry =
        RetryConfig::new(&[RetryCriterion { failure: RetryableFailureType::All, retries: b[98] }]).ok();
    let config = JobConfig {
        in_progress_timeout_minutes: TimeoutMinutes::new(u16::from_le_bytes([b[95], b[96]])).ok(),
        maximum_per_minute: RolloutRate::new(u32::from(b[97])).ok(),
        retry,
        windows: Cron::parse(text(&b[200..240]))
            .ok()
            .and_then(|c| MaintenanceWindow::new(c, u16::from_le_bytes([b[240], b[241]])).ok())
            .and_then(|w| MaintenanceWindows::new(&[w]).ok()),
        exponential: ExponentialRate::new(
            u16::from_le_bytes([b[242], b[243]]),
            b[244],
            RateIncrease { notified: Some(u32::from(b[245])), succeeded: Some(u32::from(b[246])) },
        )
        .ok(),
        ..JobConfig::default()
    };
    let namespace = NamespaceId::new(text(&b[100..108])).ok();
    let new = NewJob { id: &job, selection, namespace: namespace.as_ref(), config };
    keep(r.create_job(&new, core::slice::from_ref(&thing), now, &mut q));
    keep(r.add_targets(&job, core::slice::from_ref(&thing), now, &mut Discard));
    keep(r.add_members(&job, core::slice::from_ref(&thing), now, &mut q));
    let one = core::slice::from_ref(&thing);
    keep(r.create_job_with_members(
        &new,
        one.get(..usize::from(b[247] & 1)).unwrap_or_default(),
        one,
        now,
        &mut q,
    ));
    keep(r.add_targets_and_members(&job, one, one, now, &mut Discard));
    let pairs = [(text(&b[32..40]), text(&b[40..80]))];
    let details = StatusDetails::new(&pairs).ok();
    let status = pick(&ExecutionStatus::ALL, b[25], ExecutionStatus::InProgress);
    let expected = VersionNumber::new(u64::from(b[26])).ok();
    let number = ExecutionNumber::new(u64::from(b[27])).ok();
    let step = StepTimeout::from_wire(i64::from(i16::from_le_bytes([b[28], b[29]])), true).ok();
    keep(
        r.start_next(&thing, details.as_ref(), step, now, &mut q)
            .map(|h| h.map(|h| r.execution(h).map(|v| v.version()))),
    );
    let update = Update {
        status,
        status_details: details.as_ref(),
        expected_version: expected,
        execution_number: number,
        step_timeout: step,
    };
    keep(r.update_execution(&job, &thing, &update, now, &mut q));
    keep(
        r.describe_execution(&job, &thing, number, Plane::Data)
            .map(|v| (v.state(), v.status_details().count())),
    );
    keep(r.pending(&thing, |v| keep(v.number())));
    keep(r.next_pending(&thing).map(|v| v.map(|v| v.queued_at())));
    if let Some(ns) = &namespace {
        keep(r.pending_in_namespace(&thing, ns, |v| keep(v.number())));
        keep(r.next_pending_in_namespace(&thing, ns).map(|v| v.map(|v| v.queued_at())));
    }
    let cursor = Some(Cursor::from_parts(u32::from(b[30]), u32::from(b[31])));
    keep(r.list_for_job(&job, Some(status), cursor, usize::from(b[80]), |v| keep(v.started_at())));
    keep(r.list_for_thing(&thing, None, None, usize::from(b[81]), |v| keep(v.last_updated_at())));
    keep(r.cancel_execution(&job, &thing, b[82] & 1 == 1, expected, details.as_ref(), now, &mut q));
    let reason = ReasonCode::new(text(&b[84..92])).ok();
    keep(r.cancel_job(&job, b[83] & 1 == 1, reason.as_ref(), now, &mut q));
    keep(r.delete_execution(
        &job,
        &thing,
        number.unwrap_or(ExecutionNumber::FIRST),
        b[83] & 2 == 2,
        now,
        &mut q,
    ));
    keep(
        r.describe_execution(&job, &thing, None, Plane::Control)
            .map(|v| (v.deadline(), v.approximate_seconds_before_timed_out(now))),
    );
    keep(r.close_window(&job, now, &mut q));
    keep(r.open_window(&job, now, &mut q));
    keep(r.remove_target(&job, &thing, now, &mut q));
    keep(r.delete_job(&job, b[83] & 4 == 4, now, &mut q));
    r.set_deletion_delay(u64::from(b[94]));
    keep(r.next_deadline());
    keep(r.advance(now, usize::from(b[93]), &mut q));
    keep(r.advance_through(now.saturating_add(u64::from(b[94])), usize::from(b[95]), &mut q));
    keep(r.job(&job).map(|j| (j.status(), j.process_details().pending(), j.targets())));
    keep(r.remove_thing(&thing, now, &mut q));
    keep(r.usage());
    keep(r.jobs().count());
    keep(r.things().count());
    black_box(&q.0);
    r.clear();
}
