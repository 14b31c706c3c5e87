"""The job and execution event records carry their subject as of the event (`view`), so that a
host can render AWS's event payloads when it drains them: after the subject changed again, and
after it is gone (a user's report: a deleted execution's record named it only, and by drain time
`describe_execution` raised ResourceNotFound)."""

from __future__ import annotations

import pytest

import iot_jobs_core as j
from iot_jobs_core import ExecutionStatus as E
from iot_jobs_core import JobStatus as J


def changes(events: list) -> dict:
    """The lifecycle records by (job, thing or None, event)."""
    out = {}
    for ev in events:
        if isinstance(ev, j.ExecutionChanged):
            out[(ev.job, ev.thing, ev.event)] = ev
        elif isinstance(ev, j.JobChanged):
            out[(ev.job, None, ev.event)] = ev
    return out


def started(reg: j.Registry, job: str, things: list, now: int, **kw) -> None:
    reg.create_job(job, things, now)
    for t in things:
        reg.start_next(t, now, **kw)


@pytest.fixture
def reg() -> j.Registry:
    r = j.Registry()
    for t in ("a", "b", "c"):
        r.add_thing(t)
    return r


def test_a_deleted_execution_record_carries_its_last_status_and_details_after_the_job_is_gone(reg):
    started(reg, "fw", ["a", "b"], 100, status_details={"step": "download"})
    reg.update_execution("fw", "a", "FAILED", 110, status_details={"reason": "disk full"})
    reg.delete_execution("fw", "a", 1, 120)  # DeleteJobExecution: gone at once
    reg.delete_job("fw", 130, force=True)  # b is IN_PROGRESS: removed by advance
    reg.advance(130)
    events = changes(reg.drain_events())
    with pytest.raises(j.ResourceNotFoundException):
        reg.describe_execution("fw", "b")
    with pytest.raises(j.ResourceNotFoundException):
        reg.job("fw")

    a = events[("fw", "a", "deleted")].view
    assert (a.status, a.status_details, a.version_number) == (E.FAILED, {"reason": "disk full"}, 3)
    assert (a.queued_at, a.started_at, a.last_updated_at, a.execution_number) == (100, 100, 110, 1)
    b = events[("fw", "b", "deleted")].view
    assert (b.status, b.status_details, b.version_number) == (E.IN_PROGRESS, {"step": "download"}, 2)
    assert (b.job_status, b.last_updated_at) == (J.DELETION_IN_PROGRESS, 100)


def test_a_force_deleted_job_record_carries_its_fields(reg):
    reg.create_job("fw", ["a", "b"], 100, target_selection="CONTINUOUS", namespace_id="ns")
    reg.start_next("a", 105)
    reg.update_execution("fw", "a", "SUCCEEDED", 110)
    reg.delete_job("fw", 120, force=True)
    reg.advance(120)
    events = changes(reg.drain_events())

    going = events[("fw", None, "deletion_in_progress")].view
    gone = events[("fw", None, "deleted")].view
    for job in (going, gone):
        assert (job.job_id, job.status, job.target_selection) == ("fw", J.DELETION_IN_PROGRESS, "CONTINUOUS")
        assert (job.created_at, job.last_updated_at, job.completed_at) == (100, 120, None)
        assert (job.namespace_id, job.targets, job.force_canceled) == ("ns", 2, False)
    # As its removal left it: its executions went first.
    assert going.process_details["SUCCEEDED"] == 1 and going.process_details["QUEUED"] == 1
    assert set(gone.process_details.values()) == {0} and gone.is_concurrent is False


def test_a_canceled_job_record_carries_its_reason_code_and_counts(reg):
    reg.create_job("fw", ["a", "b"], 100)
    reg.start_next("a", 101)
    reg.cancel_job("fw", 110, force=True, reason_code="BAD_IMAGE")
    reg.delete_job("fw", 120)
    reg.advance(120)
    events = changes(reg.drain_events())
    for event in ("cancellation_in_progress", "canceled"):
        job = events[("fw", None, event)].view
        assert (job.status, job.reason_code, job.force_canceled, job.last_updated_at) == (
            J.CANCELED,
            "BAD_IMAGE",
            True,
            110,
        )
        assert job.process_details["CANCELED"] == 2
    assert events[("fw", "a", "canceled")].view.force_canceled is True
    assert events[("fw", None, "deleted")].view.reason_code == "BAD_IMAGE"


def test_one_advance_over_several_timeouts_gives_each_record_its_own_step():
    """Each unit of work's records show the state it left, not the call's final state."""
    reg = j.Registry()
    for t in ("a", "b", "c"):
        reg.add_thing(t)
    reg.create_job("fw", ["a", "b", "c"], 0, retry={"TIMED_OUT": 1})
    reg.start_next("a", 0, step_timeout_minutes=1)  # times out at 60, retried then
    reg.start_next("b", 0, step_timeout_minutes=2)  # at 120
    reg.start_next("c", 0, step_timeout_minutes=2)  # at 120 too
    reg.drain_events()
    reg.advance(10_000)
    records = [ev for ev in reg.drain_events() if isinstance(ev, (j.ExecutionChanged, j.JobChanged))]
    assert [(getattr(ev, "thing", None), ev.event) for ev in records] == [
        ("a", "timed_out"),
        ("b", "timed_out"),
        ("c", "timed_out"),
    ]
    a, b, c = (ev.view for ev in records)
    assert (a.status, a.last_updated_at, a.version_number) == (E.TIMED_OUT, 60, 3)
    assert (b.last_updated_at, c.last_updated_at) == (120, 120)
    # The retry of a (queued at 60) is still pending: the job is not complete.
    assert reg.describe_execution("fw", "a").execution_number == 2
    assert [x.job_status for x in (a, b, c)] == [J.IN_PROGRESS] * 3


def test_the_record_of_the_timeout_that_completes_a_job_shows_it_completed_and_not_before():
    reg = j.Registry()
    for t in ("a", "b"):
        reg.add_thing(t)
    started(reg, "fw", ["a", "b"], 0, step_timeout_minutes=1)  # both due at 60
    reg.drain_events()
    reg.advance(60)
    events = changes(reg.drain_events())
    assert events[("fw", "a", "timed_out")].view.job_status is J.IN_PROGRESS
    assert events[("fw", "b", "timed_out")].view.job_status is J.COMPLETED
    done = events[("fw", None, "completed")].view
    assert (done.status, done.completed_at, done.process_details["TIMED_OUT"]) == (J.COMPLETED, 60, 2)


def test_an_execution_timed_out_as_its_job_deletion_comes_due_is_deleted_timed_out():
    """One `advance` changes the execution twice: each record shows its own step."""
    reg = j.Registry(deletion_delay=60)
    reg.add_thing("a")
    started(reg, "fw", ["a"], 0, step_timeout_minutes=1)  # due at 60
    reg.delete_job("fw", 0, force=True)  # removal due at 60 too, after the timer
    reg.drain_events()
    reg.advance(60)
    events = changes(reg.drain_events())
    timed_out = events[("fw", "a", "timed_out")].view
    deleted = events[("fw", "a", "deleted")].view
    assert (timed_out.status, timed_out.version_number, timed_out.last_updated_at) == (E.TIMED_OUT, 3, 60)
    assert deleted == timed_out
    # The timeout, after the deletion began, is the job's last update.
    assert events[("fw", None, "deleted")].view.last_updated_at == 60


def test_a_deletion_advanced_a_unit_at_a_time_keeps_every_deleted_record_whole(reg):
    started(reg, "fw", ["a", "b", "c"], 0, status_details={"n": "1"})
    reg.delete_job("fw", 10, force=True)
    reg.drain_events()
    assert reg.advance(10, budget=1) == j.Advanced(1, True)
    reg.cancel_execution("fw", "c", 11, force=True)  # another operation between the steps
    while reg.advance(12, budget=1).more:
        pass
    events = changes(reg.drain_events())
    assert {t: events[("fw", t, "deleted")].view.status for t in "abc"} == {
        "a": E.IN_PROGRESS,
        "b": E.IN_PROGRESS,
        "c": E.CANCELED,
    }
    assert all(events[("fw", t, "deleted")].view.status_details == {"n": "1"} for t in "abc")
    assert events[("fw", None, "deleted")].view.last_updated_at == 11


def test_records_of_subjects_that_still_exist_show_them_as_the_call_left_them(reg):
    """The view is the subject as `describe_execution` / `job` show it right after the call;
    a record still equals, and hashes as, one made by hand from its names."""
    reg.create_job("fw", ["a", "b", "c"], 100, retry={"FAILED": 1})
    calls = [
        lambda: reg.start_next("a", 101, status_details={"p": "1"}),
        lambda: reg.update_execution("fw", "a", "SUCCEEDED", 102, status_details={"p": "2"}),
        lambda: reg.cancel_execution("fw", "b", 103, status_details={"why": "x"}),
        lambda: reg.start_next("c", 104),
        lambda: reg.update_execution("fw", "c", "FAILED", 105),
        lambda: reg.remove_thing("c", 106),
        lambda: reg.delete_execution("fw", "a", 1, 107),
    ]
    seen = 0
    for call in calls:
        call()
        for ev in reg.drain_events():
            if isinstance(ev, j.ExecutionChanged) and ev.event != "deleted":
                assert ev.view == reg.describe_execution(ev.job, ev.thing, ev.number)
                assert ev == j.ExecutionChanged(ev.job, ev.thing, ev.number, ev.event)
                assert hash(ev) == hash(j.ExecutionChanged(ev.job, ev.thing, ev.number, ev.event))
                seen += 1
            elif isinstance(ev, j.JobChanged):
                assert ev.view == reg.job(ev.job) and ev == j.JobChanged(ev.job, ev.event)
                seen += 1
            else:
                assert isinstance(ev, (j.Notify, j.NotifyNext, j.ExecutionChanged))
    # succeeded, canceled, failed, removed (c's retry), completed (after the deletion).
    assert seen == 5


def test_stepping_does_the_work_advance_through_does():
    """`advance` runs a unit at a time to resolve records: the same work, the same `more`, as a
    registry that keeps no events (the core's `advance_through` in one call)."""

    def world(max_events):
        reg = j.Registry(max_events=max_events, deletion_delay=30)
        for t in ("a", "b", "c", "d"):
            reg.add_thing(t)
        started(reg, "x", ["a", "b", "c"], 0, step_timeout_minutes=1)
        reg.create_job("y", ["d"], 0, maximum_per_minute=1)
        reg.delete_job("x", 45, force=True)
        reg.create_job("z", ["a", "b", "c", "d"], 50)
        reg.delete_job("z", 50, force=True)
        return reg

    kept, bare = world(100_000), world(None)
    for now, budget in [(60, 1), (60, 2), (70, 3), (80, None), (200, 1), (200, None)]:
        assert kept.advance(now, budget) == bare.advance(now, budget), (now, budget)
    assert kept.snapshot() == bare.snapshot()


def test_a_throttled_advance_resolves_the_records_it_queued():
    reg = j.Registry(max_events=8)
    for t in ("a", "b", "c"):
        reg.add_thing(t)
    reg.create_job("fw", ["a", "b", "c"], 0)
    for t in ("a", "b", "c"):
        reg.drain_events()
        reg.start_next(t, 0, step_timeout_minutes=1)
    reg.drain_events()
    with pytest.raises(j.ThrottlingException):
        reg.advance(60)
    queued = [ev for ev in reg.drain_events() if isinstance(ev, j.ExecutionChanged)]
    assert queued and all(ev.view is not None and ev.view.status is E.TIMED_OUT for ev in queued)
