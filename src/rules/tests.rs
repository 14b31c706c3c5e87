//! Unit tests of the rules that the conformance tables do not reach.

use super::*;
use crate::error::{InvalidRequest, Limit, Resource};
use crate::id::ExecutionNumber;
use crate::policy::{Numbering, Policy, VersionBump};
use crate::status::{ExecutionStatus, TargetSelection};

const fn state(status: ExecutionStatus, version: u64) -> ExecutionState {
    ExecutionState {
        status,
        version: match VersionNumber::new(version) {
            Ok(v) => v,
            Err(_) => VersionNumber::INITIAL,
        },
    }
}

fn v(n: u64) -> VersionNumber {
    VersionNumber::new(n).unwrap()
}

#[test]
fn update_checks_status_before_version() {
    let p = Policy::DEFAULT;
    let done = state(ExecutionStatus::Succeeded, 4);
    // Terminal and stale: the status answer comes first.
    assert!(matches!(
        update_execution(done, ExecutionStatus::InProgress, Some(v(1)), &p),
        Err(Rejection::InvalidStateTransition { .. })
    ));
    let running = state(ExecutionStatus::InProgress, 4);
    assert_eq!(
        update_execution(running, ExecutionStatus::Succeeded, Some(v(3)), &p),
        Err(Rejection::VersionMismatch(running))
    );
    assert_eq!(
        update_execution(running, ExecutionStatus::Succeeded, Some(v(4)), &p),
        Ok(ExecutionStatus::Succeeded)
    );
}

#[test]
fn delete_job_limit_is_the_eleventh() {
    assert_eq!(delete_job(JobStatus::Completed, false, 9), Ok(()));
    assert_eq!(
        delete_job(JobStatus::Completed, false, 10),
        Err(Rejection::LimitExceeded(Limit::JobsDeletionInProgress))
    );
    // The state answer wins over the limit.
    assert!(matches!(
        delete_job(JobStatus::InProgress, false, 10),
        Err(Rejection::InvalidStateTransition { .. })
    ));
}

#[test]
fn numbering_reuses_or_not() {
    let p = Policy::DEFAULT;
    let n = |x| ExecutionNumber::new(x).unwrap();
    assert_eq!(next_execution_number(None, None, &p), Ok(ExecutionNumber::FIRST));
    // The newest (3) was deleted: 2 is the highest existing, so 3 is reused.
    assert_eq!(next_execution_number(Some(n(2)), Some(n(3)), &p), Ok(n(3)));
    let mono = Policy { numbering: Numbering::Monotonic, ..p };
    assert_eq!(next_execution_number(Some(n(2)), Some(n(3)), &mono), Ok(n(4)));
    assert_eq!(next_execution_number(None, Some(n(3)), &mono), Ok(n(4)));
    assert_eq!(
        next_execution_number(Some(ExecutionNumber::MAX), None, &p),
        Err(Rejection::LimitExceeded(Limit::Counter))
    );
}

#[test]
fn versions_bump_per_policy() {
    let p = Policy::DEFAULT;
    assert_eq!(version_after(v(1), Actor::ControlPlane, &p), Ok(v(2)));
    let dev_only = Policy { version_bump: VersionBump::DeviceUpdatesOnly, ..p };
    assert_eq!(version_after(v(1), Actor::Service, &dev_only), Ok(v(1)));
    assert_eq!(version_after(v(1), Actor::Device, &dev_only), Ok(v(2)));
    assert_eq!(
        version_after(VersionNumber::MAX, Actor::Device, &p),
        Err(Rejection::LimitExceeded(Limit::Counter))
    );
}

#[test]
fn job_targets_rules() {
    assert_eq!(job_targets(0), Err(Rejection::InvalidRequest(InvalidRequest::NoTargets)));
    assert_eq!(job_targets(1), Ok(()));
    assert_eq!(job_targets(100), Ok(()));
    assert_eq!(job_targets(101), Err(Rejection::LimitExceeded(Limit::TargetsPerJob)));
    assert_eq!(job_targets(usize::MAX), Err(Rejection::LimitExceeded(Limit::TargetsPerJob)));
}

#[test]
fn associate_targets_rules() {
    use TargetSelection::*;
    assert_eq!(associate_targets(JobStatus::InProgress, Continuous, 100, false), Ok(TargetJoin::Queue));
    // SPEC R26: a paced rollout with targets left takes new targets at its pace.
    assert_eq!(associate_targets(JobStatus::InProgress, Continuous, 100, true), Ok(TargetJoin::Rollout));
    for rolling_out in [false, true] {
        assert_eq!(
            associate_targets(JobStatus::InProgress, Continuous, 101, rolling_out),
            Err(Rejection::LimitExceeded(Limit::TargetsPerJob))
        );
        assert_eq!(
            associate_targets(JobStatus::InProgress, Snapshot, 1, rolling_out),
            Err(Rejection::InvalidRequest(InvalidRequest::TargetsNeedContinuousJob))
        );
        assert_eq!(
            associate_targets(JobStatus::Scheduled, Continuous, 1, rolling_out),
            Err(Rejection::InvalidRequest(InvalidRequest::TargetsNeedInProgressJob(JobStatus::Scheduled)))
        );
    }
}

#[test]
fn job_id_reuse_only_after_deletion_completes() {
    assert_eq!(job_id_available(None), Ok(()));
    for s in JobStatus::ALL {
        assert_eq!(job_id_available(Some(s)), Err(Rejection::AlreadyExists(Resource::Job)));
    }
}
