"""What the mini backend gets right by delegating to iot_jobs_core, where moto does not.

The moto behaviour cited in comments was read in moto's ``moto/iot/models.py`` (the 5.x source;
the issue reports it for 5.2.5): ``FakeJobExecution`` sets ``execution_number = 123`` and
``version_number = 123`` for every execution; ``delete_job`` removes the job at once (no
DELETION_IN_PROGRESS, no limit of 10); ``cancel_job`` sets CANCELED whatever the status;
``delete_job_execution`` and ``cancel_job_execution`` accept every status but IN_PROGRESS without
force, and ``cancel_job_execution`` ignores ``expectedVersion``. moto is not installed here: the
tests assert the service's rules (SPEC rows in comments) on the mini backend.
"""

from __future__ import annotations

import pytest

from mini_backend import JobsServiceError, MiniJobsBackend


class Clock:
    def __init__(self) -> None:
        self.now = 1_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def backend(clock: Clock) -> MiniJobsBackend:
    b = MiniJobsBackend(clock=clock, deletion_delay=300)
    for t in ("pump-1", "pump-2"):
        b.create_thing(t)
    return b


def refused(call) -> JobsServiceError:
    with pytest.raises(JobsServiceError) as info:
        call()
    return info.value


def test_delete_job_goes_through_deletion_in_progress(backend, clock):
    backend.create_job("fw-1", ["arn:aws:iot:eu-west-1:123456789012:thing/pump-1"])
    # SPEC 4.2 DeleteJob: an IN_PROGRESS job needs force.
    e = refused(lambda: backend.delete_job("fw-1"))
    assert (e.code, e.status) == ("InvalidStateTransitionException", 409)
    backend.delete_job("fw-1", force=True)
    # moto deletes the job at once; the service shows DELETION_IN_PROGRESS until it is gone.
    assert backend.describe_job("fw-1")["job"]["status"] == "DELETION_IN_PROGRESS"
    # SPEC R4: deleting again is refused; the id is not reusable yet.
    assert refused(lambda: backend.delete_job("fw-1", force=True)).code == "InvalidStateTransitionException"
    assert refused(lambda: backend.create_job("fw-1", ["pump-1"])).code == "ResourceAlreadyExistsException"
    # SEED-CLI: the device no longer sees it.
    assert backend.start_next_pending_job_execution("pump-1") == {}
    clock.now += 300
    assert refused(lambda: backend.describe_job("fw-1")).code == "ResourceNotFoundException"
    backend.create_job("fw-1", ["pump-1"])


def test_cancel_job_keeps_terminal_jobs(backend):
    backend.create_job("fw-1", ["pump-1"])
    backend.start_next_pending_job_execution("pump-1")
    backend.update_job_execution("fw-1", "pump-1", "SUCCEEDED")
    assert backend.describe_job("fw-1")["job"]["status"] == "COMPLETED"
    # SPEC R3: CancelJob of a COMPLETED job is InvalidRequestException (moto sets CANCELED).
    e = refused(lambda: backend.cancel_job("fw-1"))
    assert (e.code, e.status) == ("InvalidRequestException", 400)
    assert backend.describe_job("fw-1")["job"]["status"] == "COMPLETED"


def test_deletion_in_progress_limit_of_ten(backend):
    for i in range(11):
        backend.create_job(f"job-{i}", ["pump-1"])
    for i in range(10):
        backend.delete_job(f"job-{i}", force=True)
    # SPEC §6: the 11th concurrent deletion is LimitExceededException, 410 (moto has no limit).
    e = refused(lambda: backend.delete_job("job-10", force=True))
    assert (e.code, e.status) == ("LimitExceededException", 410)
    assert backend.describe_job("job-10")["job"]["status"] == "IN_PROGRESS"


def test_force_rules_of_execution_operations(backend):
    backend.create_job("fw-1", ["pump-1", "pump-2"])
    # SPEC R2: a QUEUED execution needs force to be deleted (moto deletes it without).
    e = refused(lambda: backend.delete_job_execution("fw-1", "pump-1", 1))
    assert (e.code, e.status) == ("InvalidStateTransitionException", 409)
    backend.delete_job_execution("fw-1", "pump-1", 1, force=True)
    # SPEC T9: an IN_PROGRESS execution needs force to be canceled.
    backend.start_next_pending_job_execution("pump-2")
    assert refused(lambda: backend.cancel_job_execution("fw-1", "pump-2")).code == "InvalidStateTransitionException"
    backend.cancel_job_execution("fw-1", "pump-2", force=True)
    x = backend.describe_job_execution("fw-1", "pump-2")["execution"]
    assert (x["status"], x["forceCanceled"]) == ("CANCELED", True)
    # SPEC R16: a terminal execution is never canceled again (moto cancels it again).
    e = refused(lambda: backend.cancel_job_execution("fw-1", "pump-2", force=True))
    assert e.code == "InvalidStateTransitionException"
    assert e.execution_state == {"status": "CANCELED", "versionNumber": 3}
    # SPEC T6: nor updated by the device.
    e = refused(lambda: backend.update_job_execution("fw-1", "pump-2", "SUCCEEDED"))
    assert (e.code, e.status) == ("InvalidStateTransitionException", 409)


def test_execution_numbers_are_counted_and_reused(backend):
    backend.create_job("cont", ["pump-1"], targetSelection="CONTINUOUS")
    backend.create_job("snap", ["pump-1"])
    # SPEC R7: numbers start at 1 per (job, thing) (moto: 123 for every execution).
    assert backend.describe_job_execution("cont", "pump-1")["execution"]["executionNumber"] == 1
    assert backend.describe_job_execution("snap", "pump-1")["execution"]["executionNumber"] == 1
    backend.update_job_execution("cont", "pump-1", "FAILED")
    backend.registry.add_targets("cont", ["pump-1"], 1_001)  # T13: a new execution
    assert backend.describe_job_execution("cont", "pump-1")["execution"]["executionNumber"] == 2
    assert backend.describe_job_execution("cont", "pump-1", 1)["execution"]["status"] == "FAILED"
    backend.delete_job_execution("cont", "pump-1", 2, force=True)
    backend.registry.add_targets("cont", ["pump-1"], 1_002)
    # SPEC R7: after a delete, 1 + the highest number that still exists.
    assert backend.describe_job_execution("cont", "pump-1")["execution"]["executionNumber"] == 2


def test_versions_grow_and_conflicts_are_refused(backend):
    backend.create_job("fw-1", ["pump-1"])
    # SPEC R6: version 1 when queued, +1 per accepted change (moto: always 123).
    assert backend.describe_job_execution("fw-1", "pump-1")["execution"]["versionNumber"] == 1
    started = backend.start_next_pending_job_execution("pump-1")["execution"]
    assert started["versionNumber"] == 2
    # SPEC §8, R13: a stale expectedVersion on the data plane is a 409 carrying the state.
    e = refused(lambda: backend.update_job_execution("fw-1", "pump-1", "SUCCEEDED", expectedVersion=1))
    assert (e.code, e.status) == ("InvalidStateTransitionException", 409)
    assert e.execution_state == {"status": "IN_PROGRESS", "versionNumber": 2}
    # and VersionConflictException on the control plane (moto ignores expectedVersion).
    e = refused(lambda: backend.cancel_job_execution("fw-1", "pump-1", force=True, expectedVersion=1))
    assert (e.code, e.status) == ("VersionConflictException", 409)
    out = backend.update_job_execution("fw-1", "pump-1", "SUCCEEDED", expectedVersion=2, statusDetails={"v": "2.1"})
    assert out["executionState"] == {"status": "SUCCEEDED", "statusDetails": {"v": "2.1"}, "versionNumber": 3}


def test_step_timeout_is_applied_by_the_clock(backend, clock):
    backend.create_job("fw-1", ["pump-1"])
    backend.start_next_pending_job_execution("pump-1", stepTimeoutInMinutes=1)
    clock.now += 60
    # SPEC §3 timers: the execution times out; the next call sees TIMED_OUT.
    assert backend.describe_job_execution("fw-1", "pump-1")["execution"]["status"] == "TIMED_OUT"
    # SPEC R1: TIMED_OUT deletes without force.
    backend.delete_job_execution("fw-1", "pump-1", 1)
