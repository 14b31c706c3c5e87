//! Every decision function of `iot_jobs_core::rules` on opaque inputs (no error formatting).

use iot_jobs_core::rules::{self, Actor};
use iot_jobs_core::{
    ExecutionNumber, ExecutionState, ExecutionStatus, JobStatus, Plane, Policy, TargetSelection,
    VersionNumber,
};

use crate::{keep, pick};

pub fn exercise(b: &[u8; 1024]) {
    let job = pick(&JobStatus::ALL, b[0], JobStatus::InProgress);
    let exec = pick(&ExecutionStatus::ALL, b[1], ExecutionStatus::Queued);
    let requested = pick(&ExecutionStatus::ALL, b[2], ExecutionStatus::Queued);
    let selection = pick(&TargetSelection::ALL, b[3], TargetSelection::Snapshot);
    let force = b[4] & 1 == 1;
    let version = VersionNumber::new(u64::from_le_bytes([b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12]]))
        .unwrap_or(VersionNumber::INITIAL);
    let expected = VersionNumber::new(u64::from(b[13])).ok();
    let state = ExecutionState { status: exec, version };
    let policy = Policy { force_cancel_escalates: b[14] & 1 == 1, ..Policy::DEFAULT };
    let plane = if b[15] & 1 == 1 { Plane::Data } else { Plane::Control };
    let number = ExecutionNumber::new(u64::from(b[16])).ok();

    keep(rules::cancel_job(job, force, &policy).map(|c| rules::cancel_job_execution_effect(exec, c.scope)));
    keep(rules::delete_job(job, force, usize::from(b[17])));
    keep(rules::cancel_execution(state, force, expected));
    keep(rules::delete_execution(state, force, &policy));
    keep(rules::update_execution(state, requested, expected, &policy));
    keep(rules::start_next(if b[18] & 1 == 1 { Some(state) } else { None }));
    keep(rules::describe_execution(state, plane, &policy));
    keep(rules::version_after(version, Actor::Device, &policy));
    keep(rules::next_execution_number(number, number, &policy));
    keep(rules::associate_targets(job, selection, usize::from(b[19])));
    keep(rules::job_id_available(if b[20] & 1 == 1 { Some(job) } else { None }));
    keep(rules::create_job(force));
    keep(rules::pending_rank(exec));
    keep(rules::remove_target(exec, &policy));
    keep(rules::job_completes(job, selection, force, b[21] & 1 == 1));
    keep(rules::listed_to_device(job, exec));
}
