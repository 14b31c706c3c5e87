"""Maintenance windows, exponential rollout, namespace topics and job templates: the core's
rules and tables of them through Python, and the `Registry` applying them in `advance`
(SPEC §2, §6 Rollout, R20, R22, AMBIG-27, AMBIG-28, AMBIG-29, AMBIG-30)."""

from __future__ import annotations

import itertools

import pytest

import iot_jobs_core as j
from iot_jobs_core import conformance as c

BASE = c.WINDOWS_BASE  # 2026-12-01T00:00:00Z, a Tuesday
HOURLY = [("cron(0 * * * ? *)", 10)]  # every hour at :00, for 10 minutes
BOOLS = (False, True)


# -- the tables, row by row, against the rules -----------------------------------------------


def test_windowed_events_every_status_started_and_open():
    """WINDOWED_EVENTS through `schedule_event(..., window=(at, open))`: a status without a row
    does nothing; a live job's timer offers the next look at its windows, not a start."""
    rows = {(r["status"], r["started"], r["open"]): r for r in c.WINDOWED_EVENTS}
    assert len(rows) == len(c.WINDOWED_EVENTS)
    now, look = BASE, BASE + 600
    for status, started, open_ in itertools.product(j.JobStatus, BOOLS, BOOLS):
        row = rows.get((status.value, started, open_))
        got = j.schedule_event(status, now, started=started, window=(look, open_))
        want = (row["start"], row["window"]) if row else (False, None)
        assert (got.start, got.window) == want, (status, started, open_)
        assert not got.batch and got.end is None
        live = status in (j.JobStatus.IN_PROGRESS, j.JobStatus.SCHEDULED)
        assert j.next_job_event(status, started=started, window=(look, open_)) == (look if live else None)
        # Without windows (no `window`), nothing opens or closes.
        assert j.schedule_event(status, now, started=started).window is None
    # Each row's status is seen (every combination was visited above).
    assert {r["status"] for r in c.WINDOWED_EVENTS} == {"SCHEDULED", "IN_PROGRESS"}


def test_starts_in_window_at_creation():
    """AMBIG-28: SCHEDULED while a `startTime` is to come (looked at then), else unless a
    window is open (looked at when that may change)."""
    now = BASE
    assert j.starts_in_window(now, (True, now + 120), start_time=now + 60) == (True, now + 60)
    for start in (None, now - 60):
        assert j.starts_in_window(now, (True, now + 120), start_time=start) == (False, now + 120)
        assert j.starts_in_window(now, (False, now + 120), start_time=start) == (True, now + 120)
        assert j.starts_in_window(now, (False, None), start_time=start) == (True, None)
    # With `maintenance_window`'s answer: open at :05, closed at :15 of an hour.
    at_open = j.maintenance_window(HOURLY, BASE + 300)
    assert at_open == j.WindowAt(True, BASE + 600)
    assert j.starts_in_window(BASE + 300, at_open) == (False, BASE + 600)
    at_closed = j.maintenance_window(HOURLY, BASE + 900)
    assert j.starts_in_window(BASE + 900, at_closed) == (True, BASE + 3600)


@pytest.mark.parametrize("row", c.RAMP, ids=lambda r: r["spec"])
def test_ramp(row):
    rate = (row["base"], row["factor_tenths"], row["notified_criterion"], row["succeeded_criterion"])
    before = j.Ramp(*row["before"])
    after = j.ramp_up(rate, before, row["succeeded"])
    assert (after.rate_milli, after.notified_mark, after.succeeded_mark) == row["after"]
    assert after.notified == before.notified
    assert j.ramp_batch(row["maximum"], after) == row["batch"]


def test_ramp_defaults_and_bad_rates():
    # Before the first batch the ramp starts at baseRatePerMinute.
    assert j.ramp_up((7, 15, 3, None)) == j.Ramp(7000, 0, 0, 0)
    assert j.ramp_batch() is None  # no rate, no ramp: every target
    assert j.ramp_batch(None, j.Ramp(1500, 0, 0, 0)) == 1
    assert j.ramp_batch(None, j.Ramp(0, 0, 0, 0)) == 1  # at least one
    assert j.ramp_batch(3, j.Ramp(9000, 0, 0, 0)) == 3  # never above maximumPerMinute
    for bad in ((0, 20, 1, None), (1001, 20, 1, None), (5, 10, 1, None), (5, 51, 1, None), (5, 20, None, None),
                (5, 20, 0, None), (5, 20, None, 0)):
        with pytest.raises(j.InvalidFieldError):
            j.ramp_up(bad)
    with pytest.raises(OverflowError):
        j.ramp_up((5, 20, 1, None), (-1, 0, 0, 0))


def test_notify_topics_every_input():
    rows = {(r["namespaced"], r["list_changed"], r["head_changed"]): r for r in c.NOTIFY_TOPICS}
    assert len(rows) == 8
    for key, r in rows.items():
        want = j.NotifyTopics(r["notify"], r["notify_next"], r["notify_namespace"], r["notify_next_namespace"])
        assert j.notify_topics(*key) == want, key


@pytest.mark.parametrize("row", c.NAMESPACE_PAYLOAD, ids=lambda r: str(r["job_namespace"]))
def test_namespace_payload_through_the_registry(row):
    """A namespace topic's payload (`pending`/`next_pending` with `namespace=`) lists only the
    executions of jobs created in that namespace."""
    reg = j.Registry()
    reg.add_thing("t")
    reg.create_job("job", ["t"], 0, namespace_id=row["job_namespace"])
    ns = row["topic_namespace"]
    listed = [e.job_id for e in reg.pending("t", namespace=ns)]
    assert listed == (["job"] if row["listed"] else [])
    head = reg.next_pending("t", namespace=ns)
    assert (head is not None and head.job_id == "job") is row["listed"]
    # The plain topics carry every job (SPEC R15).
    assert [e.job_id for e in reg.pending("t")] == ["job"]
    with pytest.raises(j.InvalidFieldError):
        reg.pending("t", namespace="bad ns")


# -- the registry applies them ---------------------------------------------------------------


def test_registry_namespaced_job_notifies_on_its_namespace_topics():
    reg = j.Registry()
    reg.add_thing("t")
    reg.create_job("a", ["t"], 0, namespace_id="ns")
    assert reg.drain_events() == [
        j.Notify("t"),
        j.NotifyNext("t"),
        j.NotifyNamespace("t", "ns"),
        j.NotifyNextNamespace("t", "ns"),
    ]
    # A job without a namespace changes the list (not its head): only `notify`.
    reg.create_job("b", ["t"], 1)
    assert reg.drain_events() == [j.Notify("t")]
    assert [e.job_id for e in reg.pending("t", namespace="ns")] == ["a"]
    # Each execution says which namespace its job was created in.
    assert reg.describe_execution("a", "t").job_namespace_id == "ns"
    assert reg.describe_execution("b", "t").job_namespace_id is None
    # The head finishes: both lists and both heads change; the namespace's list empties.
    reg.start_next("t", 2)
    reg.drain_events()
    reg.update_execution("a", "t", "SUCCEEDED", 3)
    events = reg.drain_events()
    assert j.NotifyNamespace("t", "ns") in events and j.NotifyNextNamespace("t", "ns") in events
    assert reg.pending("t", namespace="ns") == [] and reg.next_pending("t", namespace="ns") is None
    assert reg.next_pending("t").job_id == "b"


def test_registry_windowed_job_opens_and_closes_through_advance():
    reg = j.Registry()
    reg.add_thing("t1")
    # Created at :30, between windows: SCHEDULED, nothing listed, looked at again at the next :00.
    reg.create_job("w", ["t1"], BASE + 1800, maintenance_windows=HOURLY)
    assert reg.job("w").status == j.JobStatus.SCHEDULED
    assert reg.pending("t1") == [] and reg.drain_events() == []
    assert reg.next_deadline() == BASE + 3600
    # Nothing is due before the window.
    reg.advance(BASE + 3599)
    assert reg.job("w").status == j.JobStatus.SCHEDULED
    # The window opens: IN_PROGRESS, its first batch queued and listed, the close looked at.
    reg.advance(BASE + 3600)
    assert reg.job("w").status == j.JobStatus.IN_PROGRESS
    assert [e.status for e in reg.pending("t1")] == [j.ExecutionStatus.QUEUED]
    assert reg.drain_events() == [j.Notify("t1"), j.NotifyNext("t1")]
    assert reg.next_deadline() == BASE + 4200
    # It closes: back to SCHEDULED, the QUEUED execution kept but not listed (AMBIG-13).
    reg.advance(BASE + 4200)
    assert reg.job("w").status == j.JobStatus.SCHEDULED
    assert reg.pending("t1") == []
    assert [e.status for e in reg.list_for_job("w")[0]] == [j.ExecutionStatus.QUEUED]
    assert reg.drain_events() == [j.Notify("t1"), j.NotifyNext("t1")]
    # The next window opens it again.
    assert reg.next_deadline() == BASE + 7200
    reg.advance(BASE + 7200)
    assert reg.job("w").status == j.JobStatus.IN_PROGRESS
    assert len(reg.pending("t1")) == 1


def test_registry_job_created_inside_a_window_starts_at_once():
    reg = j.Registry()
    reg.add_thing("t1")
    reg.create_job("w", ["t1"], BASE + 300, maintenance_windows=HOURLY)
    assert reg.job("w").status == j.JobStatus.IN_PROGRESS
    assert reg.next_deadline() == BASE + 600


def test_registry_bad_windows_change_nothing():
    reg = j.Registry()
    reg.add_thing("t1")
    for bad, exc in (
        ([("cron(0 * * * * *)", 10)], j.InvalidRequestException),  # both day fields given
        ([("cron(0 * * * ? *)", 0)], j.InvalidFieldError),
        ([("cron(0 * * * ? *)", 1431)], j.InvalidFieldError),
        ([], j.InvalidFieldError),
        (HOURLY * 5, j.InvalidFieldError),  # more than 4 windows
    ):
        with pytest.raises(exc):
            reg.create_job("w", ["t1"], BASE, maintenance_windows=bad)
    assert reg.jobs() == [] and reg.drain_events() == []


def test_registry_exponential_rollout_batch_sizes():
    """baseRatePerMinute 2, incrementFactor 2.0, every 2 things notified: batches of 2, 4 (2
    notified since the last increase), 16 (4 more: two increases), then the rest, one a
    minute; each as `ramp_up`/`ramp_batch` say."""
    reg = j.Registry()
    things = [f"t{i}" for i in range(40)]
    for t in things:
        reg.add_thing(t)
    rate = (2, 20, 2, None)
    reg.create_job("x", things, 0, exponential_rate=rate)
    sizes, now = [], 0
    while True:
        queued = len(reg.list_for_job("x", max_results=100)[0])
        sizes.append(queued - sum(sizes))
        nxt = reg.next_deadline()
        if nxt is None:
            break
        assert nxt == now + 60
        now = nxt
        reg.advance(now)
    assert sizes == [2, 4, 16, 18]
    # The rules give the same sizes, capped by the targets left.
    ramp, left, want = j.Ramp(), 40, []
    while left:
        ramp = j.ramp_up(rate, ramp)
        n = min(j.ramp_batch(None, ramp), left)
        want.append(n)
        left -= n
        ramp = ramp._replace(notified=ramp.notified + n)
    assert want == sizes
    # maximumPerMinute caps the ramp.
    capped = j.Registry()
    for t in things:
        capped.add_thing(t)
    capped.create_job("x", things, 0, exponential_rate=rate, maximum_per_minute=3)
    capped.advance(60)
    capped.advance(120)
    assert len(capped.list_for_job("x")[0]) == 2 + 3 + 3


def test_registry_update_job_config_replaces_the_rollout():
    reg = j.Registry()
    things = [f"t{i}" for i in range(10)]
    for t in things:
        reg.add_thing(t)
    reg.create_job("x", things, 0, exponential_rate=(1, 50, 100, None))
    assert len(reg.list_for_job("x")[0]) == 1
    # UpdateJob gives every rollout member: a plain maximumPerMinute replaces the ramp.
    reg.update_job_config("x", 30, maximum_per_minute=4)
    reg.advance(60)
    assert len(reg.list_for_job("x")[0]) == 5
    with pytest.raises(j.InvalidFieldError):
        reg.update_job_config("x", 61, exponential_rate=(1, 60, 1, None))
