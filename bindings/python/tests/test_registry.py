"""The Registry class through a full lifecycle: things, jobs, executions, device calls,
advance(now), events, DELETION_IN_PROGRESS, number reuse, version conflicts and timers."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

import iot_jobs_core as j
from iot_jobs_core import ExecutionStatus as E
from iot_jobs_core import JobStatus as J


@pytest.fixture
def reg() -> j.Registry:
    r = j.Registry()
    for t in ("t1", "t2"):
        r.add_thing(t)
    return r


def test_create_job_queues_one_execution_per_target_and_notifies(reg):
    reg.create_job("job-1", ["t1", "t2"], 100)
    assert reg.drain_events() == [j.Notify("t1"), j.NotifyNext("t1"), j.Notify("t2"), j.NotifyNext("t2")]
    assert reg.drain_events() == []
    job = reg.job("job-1")
    assert (job.status, job.targets, job.created_at) == (J.IN_PROGRESS, 2, 100)
    assert job.process_details["QUEUED"] == 2
    for t in ("t1", "t2"):
        x = reg.describe_execution("job-1", t)
        assert (x.execution_number, x.status, x.version_number, x.queued_at) == (1, E.QUEUED, 1, 100)
    assert "job-1" in repr(job) and "IN_PROGRESS" in repr(job)


def test_device_lifecycle_versions_and_completion(reg):
    reg.create_job("job-1", ["t1"], 100)
    reg.drain_events()
    started = reg.start_next("t1", 110, status_details={"step": "download"})
    assert (started.status, started.version_number, started.started_at) == (E.IN_PROGRESS, 2, 110)
    assert started.status_details == {"step": "download"}
    assert reg.start_next("t1", 111).status is E.IN_PROGRESS  # T3: resumed, unchanged
    assert reg.describe_execution("job-1", "t1").version_number == 2

    state = reg.update_execution("job-1", "t1", "SUCCEEDED", 120, expected_version=2)
    assert state == j.ExecutionState(E.SUCCEEDED, 3)
    events = reg.drain_events()
    assert j.ExecutionChanged("job-1", "t1", 1, "succeeded") in events
    assert j.JobChanged("job-1", "completed") in events
    assert reg.job("job-1").status is J.COMPLETED
    assert reg.job("job-1").completed_at == 120
    assert reg.pending("t1") == []
    assert reg.next_pending("t1") is None
    assert reg.start_next("t1", 130) is None


def test_version_conflict_changes_nothing_and_carries_the_state(reg):
    reg.create_job("job-1", ["t1"], 100)
    reg.start_next("t1", 110)
    reg.drain_events()
    with pytest.raises(j.InvalidStateTransitionException) as info:  # data plane shape (R13)
        reg.update_execution("job-1", "t1", "SUCCEEDED", 120, expected_version=1)
    e = info.value
    assert (e.kind, e.mqtt_code, e.http_status(), e.execution_state) == (
        "VersionMismatch",
        "VersionMismatch",
        409,
        j.ExecutionState(E.IN_PROGRESS, 2),
    )
    assert reg.describe_execution("job-1", "t1").status is E.IN_PROGRESS
    assert reg.drain_events() == []
    with pytest.raises(j.VersionConflictException) as info:  # control plane shape
        reg.cancel_execution("job-1", "t1", 130, force=True, expected_version=5)
    assert info.value.execution_state == (E.IN_PROGRESS, 2)
    assert reg.cancel_execution("job-1", "t1", 130, force=True, expected_version=2) == (E.CANCELED, 3)
    assert reg.describe_execution("job-1", "t1").force_canceled is True


def test_refused_transitions(reg):
    reg.create_job("job-1", ["t1"], 100)
    reg.start_next("t1", 110)
    with pytest.raises(j.InvalidStateTransitionException):
        reg.cancel_execution("job-1", "t1", 111)  # T9: IN_PROGRESS needs force
    with pytest.raises(j.InvalidStateTransitionException):
        reg.delete_execution("job-1", "t1", 1, 111)  # SEED-DJE: IN_PROGRESS needs force
    with pytest.raises(j.InvalidStateTransitionException):
        reg.update_execution("job-1", "t1", "QUEUED", 111)  # R9
    with pytest.raises(j.InvalidStateTransitionException):
        reg.delete_job("job-1", 111)  # not terminal, no force
    reg.update_execution("job-1", "t1", "FAILED", 112)
    with pytest.raises(j.InvalidStateTransitionException) as info:
        reg.update_execution("job-1", "t1", "SUCCEEDED", 113)  # T6
    assert info.value.execution_state == (E.FAILED, 3)
    with pytest.raises(j.InvalidRequestException):
        reg.cancel_job("job-1", 114)  # R3: COMPLETED


def test_cancel_job_with_force_cancels_running_executions(reg):
    reg.create_job("job-1", ["t1", "t2"], 100)
    reg.start_next("t1", 110)
    reg.drain_events()
    reg.cancel_job("job-1", 120, force=True, reason_code="OPERATOR_STOP")
    job = reg.job("job-1")
    assert (job.status, job.force_canceled, job.reason_code) == (J.CANCELED, True, "OPERATOR_STOP")
    assert reg.describe_execution("job-1", "t1").status is E.CANCELED
    assert reg.describe_execution("job-1", "t2").status is E.CANCELED
    events = reg.drain_events()
    assert j.ExecutionChanged("job-1", "t1", 1, "canceled") in events
    assert any(isinstance(ev, j.JobChanged) and ev.job == "job-1" for ev in events)


def test_execution_numbers_are_reused_after_delete_by_default():
    reg = j.Registry()
    reg.add_thing("t1")
    reg.create_job("cont", ["t1"], 100, target_selection="CONTINUOUS")
    reg.update_execution("cont", "t1", "SUCCEEDED", 101)
    assert reg.add_targets("cont", ["t1"], 102) == 1  # T13: a new execution after a terminal one
    assert reg.describe_execution("cont", "t1").execution_number == 2
    reg.update_execution("cont", "t1", "REJECTED", 103)
    reg.delete_execution("cont", "t1", 2, 104)
    with pytest.raises(j.ResourceNotFoundException):
        reg.describe_execution("cont", "t1", 2)
    reg.add_targets("cont", ["t1"], 105)
    assert reg.describe_execution("cont", "t1").execution_number == 2  # R7: 1 + highest existing


def test_monotonic_numbering_never_reuses():
    reg = j.Registry(policy=j.Policy(numbering="MONOTONIC"))
    reg.add_thing("t1")
    reg.create_job("cont", ["t1"], 100, target_selection="CONTINUOUS")
    reg.update_execution("cont", "t1", "SUCCEEDED", 101)
    reg.add_targets("cont", ["t1"], 102)
    reg.update_execution("cont", "t1", "REJECTED", 103)
    reg.delete_execution("cont", "t1", 2, 104)
    reg.add_targets("cont", ["t1"], 105)
    assert reg.describe_execution("cont", "t1").execution_number == 3


def test_deletion_in_progress_limit_and_completion():
    reg = j.Registry(deletion_delay=60)
    reg.add_thing("t1")
    for i in range(11):
        reg.create_job(f"job-{i}", ["t1"], 100)
    for i in range(10):
        reg.delete_job(f"job-{i}", 200, force=True)
    assert reg.jobs_deleting() == 10
    assert reg.job("job-0").status is J.DELETION_IN_PROGRESS
    with pytest.raises(j.LimitExceededException) as info:
        reg.delete_job("job-10", 201, force=True)
    assert (info.value.http_status(), info.value.kind) == (410, "LimitExceeded")
    assert reg.job("job-10").status is J.IN_PROGRESS  # refused: nothing changed
    with pytest.raises(j.InvalidStateTransitionException):
        reg.delete_job("job-0", 202, force=True)  # R4: already being deleted
    with pytest.raises(j.ResourceAlreadyExistsException):
        reg.create_job("job-0", ["t1"], 203)  # the id is not free until the deletion completes
    # SEED-CLI: devices lose access at once; the control plane still describes.
    assert [x.job_id for x in reg.pending("t1")] == ["job-10"]
    with pytest.raises(j.ResourceNotFoundException):
        reg.describe_execution("job-0", "t1", plane="data")
    assert reg.describe_execution("job-0", "t1").job_status is J.DELETION_IN_PROGRESS
    reg.drain_events()

    assert reg.next_deadline() == 260
    reg.advance(259)
    assert reg.jobs_deleting() == 10
    done = reg.advance(260)
    assert done.work > 0 and done.more is False
    assert reg.jobs_deleting() == 0
    assert j.JobChanged("job-0", "deleted") in reg.drain_events()
    with pytest.raises(j.ResourceNotFoundException):
        reg.job("job-0")
    reg.create_job("job-0", ["t1"], 300)  # reusable once deleted
    reg.delete_job("job-10", 301, force=True)


def test_step_timer_times_out_on_advance(reg):
    reg.create_job("job-1", ["t1"], 1000)
    x = reg.start_next("t1", 1000, step_timeout_minutes=2)
    assert x.deadline == 1120
    assert reg.next_deadline() == 1120
    reg.drain_events()
    assert reg.advance(1119).work == 0
    assert reg.describe_execution("job-1", "t1").status is E.IN_PROGRESS
    reg.advance(1120)
    x = reg.describe_execution("job-1", "t1")
    assert (x.status, x.deadline) == (E.TIMED_OUT, None)
    assert j.ExecutionChanged("job-1", "t1", 1, "timed_out") in reg.drain_events()
    # R1: TIMED_OUT deletes without force.
    reg.delete_execution("job-1", "t1", 1, 1200)


def test_advance_with_a_budget_reports_more():
    reg = j.Registry()
    for t in ("a", "b", "c"):
        reg.add_thing(t)
    reg.create_job("job-1", ["a", "b", "c"], 0)
    for t in ("a", "b", "c"):
        reg.start_next(t, 0, step_timeout_minutes=1)
    first = reg.advance(60, budget=1)
    assert first == j.Advanced(1, True)
    rest = reg.advance(60)
    assert rest.more is False
    assert [reg.describe_execution("job-1", t).status for t in ("a", "b", "c")] == [E.TIMED_OUT] * 3


def test_step_timeout_cancel_and_range(reg):
    reg.create_job("job-1", ["t1"], 0)
    reg.start_next("t1", 0, step_timeout_minutes=5)
    reg.update_execution("job-1", "t1", "IN_PROGRESS", 10, step_timeout_minutes=-1)
    assert reg.describe_execution("job-1", "t1").deadline is None
    with pytest.raises(j.InvalidFieldError) as info:
        reg.update_execution("job-1", "t1", "IN_PROGRESS", 10, step_timeout_minutes=10081)
    assert info.value.constraint == "out_of_range"
    with pytest.raises(j.InvalidFieldError):
        reg.start_next("t2", 0, step_timeout_minutes=-1)  # -1 only for UpdateJobExecution


def test_remove_thing_removes_pending_executions(reg):
    reg.create_job("job-1", ["t1"], 0)
    reg.remove_thing("t1", 5)
    assert reg.describe_execution("job-1", "t1").status is E.REMOVED
    assert "t1" not in reg.things()


def test_listing_with_cursor_and_status_filter():
    reg = j.Registry()
    names = [f"t{i}" for i in range(5)]
    for t in names:
        reg.add_thing(t)
    reg.create_job("job-1", names, 0)
    reg.start_next("t0", 1)
    page, cursor = reg.list_for_job("job-1", max_results=2)
    seen = [x.thing_name for x in page]
    while cursor is not None:
        page, cursor = reg.list_for_job("job-1", max_results=2, cursor=cursor)
        seen += [x.thing_name for x in page]
    assert sorted(seen) == names
    running, _ = reg.list_for_job("job-1", status="IN_PROGRESS")
    assert [x.thing_name for x in running] == ["t0"]
    mine, more = reg.list_for_thing("t0")
    assert ([x.job_id for x in mine], more) == (["job-1"], None)


def test_a_cursor_goes_on_only_in_its_own_listing_and_a_page_holds_one_at_least():
    reg = j.Registry()
    for t in ("t1", "t2", "t3"):
        reg.add_thing(t)
    reg.create_job("a", ["t1", "t2", "t3"], 0)
    reg.create_job("b", ["t1"], 0)
    _, of_a = reg.list_for_job("a", max_results=1)
    with pytest.raises(j.InvalidRequestException, match="another listing"):
        reg.list_for_job("b", cursor=of_a)
    with pytest.raises(j.InvalidRequestException, match="another listing"):
        reg.list_for_thing("t1", cursor=of_a)
    for listing in (lambda: reg.list_for_job("a", max_results=0), lambda: reg.list_for_thing("t1", max_results=0)):
        with pytest.raises(ValueError, match="at least 1"):
            listing()


def test_status_details_merge_policy_and_limits(reg):
    merge = j.Registry(policy=j.Policy(details_write="MERGE"))
    merge.add_thing("t1")
    merge.create_job("job-1", ["t1"], 0)
    merge.update_execution("job-1", "t1", "IN_PROGRESS", 1, status_details={"a": "1"})
    merge.update_execution("job-1", "t1", "IN_PROGRESS", 2, status_details={"b": "2"})
    assert merge.describe_execution("job-1", "t1").status_details == {"a": "1", "b": "2"}

    reg.create_job("job-1", ["t1"], 0)
    reg.update_execution("job-1", "t1", "IN_PROGRESS", 1, status_details={"a": "1"})
    reg.update_execution("job-1", "t1", "IN_PROGRESS", 2, status_details={"b": "2"})
    assert reg.describe_execution("job-1", "t1").status_details == {"b": "2"}  # R14 default
    with pytest.raises(j.InvalidFieldError) as info:
        reg.update_execution("job-1", "t1", "IN_PROGRESS", 3, status_details={f"k{i}": "v" for i in range(11)})
    assert info.value.constraint == "too_many_pairs"
    assert reg.describe_execution("job-1", "t1").version_number == 3  # refused: unchanged


def test_unknown_things_and_jobs(reg):
    with pytest.raises(j.ResourceNotFoundException):
        reg.job("nope")
    with pytest.raises(j.ResourceNotFoundException):
        reg.create_job("job-1", ["unregistered"], 0)
    assert reg.pending("unregistered") == []  # R19 default: as a thing with no executions
    strict = j.Registry(policy=j.Policy(unknown_thing="NOT_FOUND"))
    with pytest.raises(j.ResourceNotFoundException):
        strict.pending("unregistered")


def test_full_tables_refuse_without_change():
    reg = j.Registry(jobs=1, things=2)
    reg.add_thing("t1")
    reg.create_job("job-1", ["t1"], 0)
    with pytest.raises(j.LimitExceededException) as info:
        reg.create_job("job-2", ["t1"], 0)
    assert info.value.kind == "CapacityExhausted"
    assert [x.job_id for x in reg.jobs()] == ["job-1"]


def test_clear_and_usage(reg):
    reg.create_job("job-1", ["t1"], 0)
    assert reg.usage()["jobs"] == 1 and reg.usage()["executions"] == 1
    reg.clear()
    assert reg.usage()["jobs"] == 0 and reg.things() == [] and reg.drain_events() == []
    assert repr(reg).startswith("Registry(")


def test_a_cursor_from_before_clear_is_refused_after_it():
    # The same calls after clear() put the new executions where the old ones were; a cursor of
    # the old state must not page through the new one.
    reg = j.Registry()

    def fill():
        for t in ("t1", "t2", "t3"):
            reg.add_thing(t)
        for job in ("a", "b"):
            reg.create_job(job, ["t1", "t2", "t3"], 0)

    fill()
    _, of_job = reg.list_for_job("a", max_results=1)
    _, of_thing = reg.list_for_thing("t1", max_results=1)
    reg.clear()
    fill()
    for listing in (lambda: reg.list_for_job("a", cursor=of_job), lambda: reg.list_for_thing("t1", cursor=of_thing)):
        with pytest.raises(j.InvalidRequestException, match="no longer valid") as info:
            listing()
        assert (info.value.kind, info.value.http_status()) == ("InvalidRequest", 400)
    # The new state's own cursors go on as before.
    page, cursor = reg.list_for_job("a", max_results=1)
    rest, end = reg.list_for_job("a", cursor=cursor)
    assert sorted(x.thing_name for x in page + rest) == ["t1", "t2", "t3"] and end is None


def test_the_deletion_delay_is_bounded_by_the_last_time_the_registry_stores():
    # advance() goes no further than LATEST_TIME, so a delay past it is refused, naming the
    # bound.
    assert j.LATEST_TIME == 4_291_747_200  # 2106-01-01T00:00:00Z
    reg = j.Registry()
    for bad in (j.LATEST_TIME + 1, 2**64 - 1, 2**64, -1, -(2**70)):
        for call in (lambda: reg.set_deletion_delay(bad), lambda: j.Registry(deletion_delay=bad)):
            with pytest.raises(ValueError, match=f"from 0 to {j.LATEST_TIME} seconds \\(LATEST_TIME") as info:
                call()
            assert f"not {bad}" in str(info.value)
    for wrong in ("60", 1.5, None):
        with pytest.raises(TypeError):
            reg.set_deletion_delay(wrong)
    # The bound itself is accepted and comes due at LATEST_TIME.
    reg.set_deletion_delay(j.LATEST_TIME)
    reg.add_thing("t1")
    reg.create_job("job-1", ["t1"], 0)
    reg.delete_job("job-1", 0, force=True)
    assert reg.next_deadline() == j.LATEST_TIME
    reg.advance(j.LATEST_TIME - 1)
    assert reg.job("job-1").status is J.DELETION_IN_PROGRESS
    reg.advance(j.LATEST_TIME)
    with pytest.raises(j.ResourceNotFoundException):
        reg.job("job-1")


def test_a_deletion_due_after_the_last_time_the_registry_stores_ends_at_it():
    # A delay longer than what is left until LATEST_TIME ends at LATEST_TIME, the last time
    # advance() goes to: the job does not hold one of the 10 places for ever.
    reg = j.Registry(deletion_delay=100)
    reg.add_thing("t1")
    reg.create_job("job-1", ["t1"], 0)
    reg.delete_job("job-1", j.LATEST_TIME - 10, force=True)
    assert reg.next_deadline() == j.LATEST_TIME
    reg.advance(j.LATEST_TIME - 1)
    assert reg.job("job-1").status is J.DELETION_IN_PROGRESS and reg.jobs_deleting() == 1
    reg.advance(j.LATEST_TIME)
    assert reg.jobs_deleting() == 0
    with pytest.raises(j.ResourceNotFoundException):
        reg.job("job-1")


def test_maintenance_windows(reg):
    reg.create_job("job-1", ["t1"], 0)
    reg.close_window("job-1", 10)
    assert reg.job("job-1").status is J.SCHEDULED
    assert reg.pending("t1") == []  # AMBIG-13: QUEUED executions of a SCHEDULED job are hidden
    with pytest.raises(j.InvalidRequestException):
        reg.close_window("job-1", 11)
    reg.open_window("job-1", 20)
    assert reg.job("job-1").status is J.IN_PROGRESS
    assert [x.job_id for x in reg.pending("t1")] == ["job-1"]


# --- threads: a Registry may be shared by threads, with or without a lock (README, "Threads") ---


def test_a_registry_shared_under_a_lock_serves_several_threads():
    reg, lock, errors = j.Registry(), threading.Lock(), []

    def worker(n: int) -> None:
        try:
            for i in range(50):
                thing = f"t{n}-{i}"
                with lock:
                    reg.add_thing(thing)
                    reg.create_job(f"j{n}-{i}", [thing], 0)
                with lock:
                    assert len(reg.jobs()) >= i + 1
                    assert reg.start_next(thing, 1) is not None
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(switch)
    assert errors == []
    assert len(reg.things()) == 200
    assert {job.job_id for job in reg.jobs()} == {f"j{n}-{i}" for n in range(4) for i in range(50)}
    assert all(reg.describe_execution(f"j{n}-{i}", f"t{n}-{i}").status is E.IN_PROGRESS
               for n in range(4) for i in range(50))


def test_a_call_whose_argument_runs_python_does_not_hold_the_registry():
    # Deterministic: the reader's argument's __index__ waits until the writer has run. Arguments
    # are read before the registry's lock is taken, so the writer is not blocked (nor refused
    # with RuntimeError("Already borrowed"), as a registry without its own lock was).
    reg = j.Registry()
    reg.add_thing("t")
    reg.create_job("j1", ["t"], 0)
    reading, wrote = threading.Event(), threading.Event()

    class SlowNumber:
        def __index__(self) -> int:
            reading.set()
            assert wrote.wait(10)
            return 1

    out = {}
    reader = threading.Thread(target=lambda: out.update(execution=reg.describe_execution("j1", "t", SlowNumber())))
    reader.start()
    try:
        assert reading.wait(10)
        reg.add_thing("u")  # a writer while the reader converts its arguments
    finally:
        wrote.set()
        reader.join()
    assert out["execution"].status is E.QUEUED and out["execution"].execution_number == 1
    assert sorted(reg.things()) == ["t", "u"]


def test_a_finalizer_that_calls_the_registry_during_one_of_its_calls_is_refused_not_hung():
    # Building a call's records allocates, so the garbage collector may run any object's __del__
    # while the registry's lock is held on this thread. A __del__ that calls the same registry
    # waited for ever on that lock; it now raises RuntimeError, and the call in progress goes on.
    # In a child process, so that a hang fails the test instead of hanging the suite.
    code = """
import gc, iot_jobs_core as j
r = j.Registry()
for i in range(50):
    r.add_thing(f"t{i}")
r.create_job("job", [f"t{i}" for i in range(50)], 1)
calls = []
class Finalised:
    def __init__(self):
        self.me = self  # a cycle: only the cyclic collector frees it
    def __del__(self):
        try:
            calls.append(len(r.things()))
        except RuntimeError as e:
            calls.append(str(e))
gc.set_threshold(1)
for _ in range(200):
    Finalised()
    assert len(r.list_for_job("job", max_results=50)[0]) == 50
gc.collect()
print(sum(c == 50 for c in calls), sum("not re-entrant" in str(c) for c in calls), len(calls))
print(repr(r))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    counts, rep = out.stdout.splitlines()
    outside, refused, total = map(int, counts.split())
    assert refused > 0 and outside + refused == total == 200, out.stdout
    assert rep.startswith("Registry(jobs=1, things=50, executions=50, deleting=0, "), rep
