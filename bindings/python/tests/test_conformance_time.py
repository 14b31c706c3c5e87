"""The service's own decisions (retries, abort, statusDetails writes, UpdateJob, schedule bounds,
schedule events, rollout, maintenance windows, timers) and the §R alternative readings, against
the core's conformance tables.

These mirror the crate's ``tests/conformance/``: the same loops over every combination of
inputs, and the same small domains where an input is numeric. The rows are read from the Rust
constants through ``iot_jobs_core.conformance``.
"""

from __future__ import annotations

import itertools
import random
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

import iot_jobs_core as j
from iot_jobs_core import conformance as c

BOOLS = (False, True)
MAX = 2**64 - 1
"""The core's ``NEVER``: a time the Python functions answer as ``None``."""
NOW = 10_000
JOBS = list(j.JobStatus)
STATUSES = list(j.ExecutionStatus)


def find(rows: List[Dict[str, Any]], **match: Any) -> Dict[str, Any]:
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, match
    return found[0]


def outcome(call: Callable[[], Any]) -> Tuple[Optional[Tuple[str, int]], Any]:
    try:
        return None, call()
    except j.JobsError as e:
        return (e.exception_name, e.http_status()), e


def never(t: int) -> Optional[int]:
    return None if t >= MAX else t


# ---- retries ------------------------------------------------------------------------------


def test_retry_every_status_job_criteria_and_count():
    checked = 0
    for row in c.RETRY_CRITERION:
        # Every number of retries 0..=3 per criterion, every retries-used pair 0..=10.
        for n in range(4):
            config = {f: n for f in row["criteria"]}
            for job in JOBS:
                job_row = find(c.RETRY_JOB, job=job.value)
                for status in STATUSES:
                    s_row = find(c.RETRY_FAILURE, status=status.value)
                    for failed in range(11):
                        for timed_out in range(11):
                            got = j.retry(job, status, config, (failed, timed_out))
                            want = None
                            failure = s_row["failure"]
                            if failure is not None and job_row["applies"] and failed + timed_out < c.RETRY_MAX_TOTAL:
                                if failure == row["failure"]:
                                    applies = row["applies"]
                                else:
                                    applies = find(c.RETRY_CRITERION, failure=failure, criteria=row["criteria"])["applies"]
                                if applies is not None:
                                    spent = {"ALL": failed + timed_out, "FAILED": failed, "TIMED_OUT": timed_out}[applies]
                                    after = (failed + 1, timed_out) if failure == "FAILED" else (failed, timed_out + 1)
                                    if spent < n:
                                        want = (failure, applies, after)
                            assert (None if got is None else (got.failure, got.criterion, tuple(got.used))) == want, (
                                job, status, row, n, failed, timed_out)
                            checked += 1
    assert checked == 12 * 4 * 5 * 8 * 121
    # Without a configuration nothing is retried.
    for status in STATUSES:
        assert j.retry(j.JobStatus.IN_PROGRESS, status) is None
    for r in c.RETRY_FAILURE:
        assert j.retry_failure(r["status"]) == r["failure"], r["spec"]
    for r in c.RETRY_JOB:
        assert j.job_retries(r["job"]) is r["applies"], r["spec"]


def test_retry_answers_named_tuples_and_refuses_bad_configurations():
    r = j.retry("IN_PROGRESS", "TIMED_OUT", {"ALL": 2}, j.RetriesUsed(failed=1))
    assert r == j.Retry("TIMED_OUT", "ALL", j.RetriesUsed(1, 1))
    with pytest.raises(j.InvalidFieldError) as e:
        j.retry("IN_PROGRESS", "FAILED", {"FAILED": 11})
    assert e.value.constraint == "config"
    with pytest.raises(ValueError):
        j.retry("IN_PROGRESS", "FAILED", {"REJECTED": 1})
    with pytest.raises(OverflowError):
        j.retry("IN_PROGRESS", "FAILED", {"FAILED": 1}, (256, 0))


# ---- abort --------------------------------------------------------------------------------


def test_abort_every_job_criterion_and_small_count():
    thresholds = [0, 1, 3_333, 5_000, 6_667, 10_000]
    for job in JOBS:
        applies = find(c.ABORT_JOB, job=job.value)["applies"]
        for row in c.ABORT_FAILURES:
            for threshold in thresholds:
                for minimum in (1, 2, 4):
                    criterion = j.AbortCriterion(row["failure"], threshold, minimum)
                    for n in range(4**4):
                        e = dict(succeeded=n % 4, failed=n // 4 % 4, rejected=n // 16 % 4, timed_out=n // 64)
                        executed = sum(e.values())
                        failures = (row["failed"] * e["failed"] + row["rejected"] * e["rejected"]
                                    + row["timed_out"] * e["timed_out"])
                        met = executed >= minimum and failures > 0 and failures * 100 * 100 >= threshold * executed
                        want = criterion if applies and met else None
                        assert j.abort_due(job, [criterion], **e) == want, (job, row, threshold, minimum, e)
        assert j.abort_due(job, None, failed=5) is None
    # The first criterion met, in configuration order, is the answer.
    a = ("REJECTED", 5_000, 1)
    b = ("ALL", 1, 1)
    assert j.abort_due("IN_PROGRESS", [a, b], failed=1) == b
    assert j.abort_due("IN_PROGRESS", [a, b], rejected=1) == a
    for r in c.ABORT_JOB:
        assert j.job_aborts(r["job"]) is r["applies"], r["spec"]
    # Counts up to u32::MAX do not overflow.
    big = 2**32 - 1
    assert j.abort_due("IN_PROGRESS", [("ALL", 7_500, 1)], succeeded=big, failed=big, rejected=big, timed_out=big) == (
        "ALL", 7_500, 1)
    with pytest.raises(j.InvalidFieldError):
        j.abort_due("IN_PROGRESS", [("FAILED", 10_001, 1)])


# ---- statusDetails writes and the §R alternative readings -----------------------------------

KEYS = [f"k{i}" for i in range(20)]


def test_details_write_every_overlap_and_size():
    assert c.DETAILS_MAX_PAIRS == 10
    for write in ("REPLACE", "MERGE"):
        policy = j.Policy(details_write=write)

        def rule(key: str) -> str:
            return find(c.DETAILS_WRITE, details_write=write, key=key)["after"]

        # Stored: keys [0, s); update: keys [o, o + u); every size 0..=10 and offset 0..=20.
        for s in range(11):
            for u in range(11):
                for o in range(21 - u):
                    stored = {k: "old" for k in KEYS[:s]}
                    update = {k: "new" for k in KEYS[o:o + u]}
                    want: List[Tuple[str, str]] = []
                    for k in stored:
                        if rule("BOTH" if k in update else "STORED_ONLY") == "STORED_VALUE":
                            want.append((k, "old"))
                    for k in update:
                        assert rule("BOTH" if k in stored else "UPDATE_ONLY") == "UPDATE_VALUE"
                        want.append((k, "new"))
                    if len(want) <= c.DETAILS_MAX_PAIRS:
                        assert list(j.merge_details(stored, update, policy).items()) == want, (write, s, u, o)
                    else:
                        refused, e = outcome(lambda: j.merge_details(stored, update, policy))
                        assert refused == ("InvalidRequestException", 400)
                        assert isinstance(e, j.InvalidFieldError) and e.constraint == "too_many_pairs"
                        assert f"has {len(want)} pairs; at most 10" in e.message, (write, s, u, o)


# The policy with one §R knob set to its alternative, by the delta's `reading`.
ALTERNATIVE = {
    "R1": dict(delete_timed_out_without_force=False),
    "R2": dict(delete_queued_without_force=True),
    "R3": dict(force_cancel_escalates=True),
    "R9": dict(device_may_skip_in_progress=False),
    "R10": dict(remove_in_progress=False),
    "R11": dict(data_plane_describes_terminal=True),
}
ISTE = ("InvalidStateTransitionException", 409)


def cell(table: str, row: int, column: int, policy: j.Policy) -> Tuple[Any, Any]:
    """The decision's answer for one cell of a table: ``(outcome, becomes)``."""
    if table == "DELETE_JOB_EXECUTION":
        r = c.DELETE_JOB_EXECUTION[row]
        return outcome(lambda: j.delete_execution(r["status"], 4, r["force"], policy))[0], None
    if table == "CANCEL_JOB":
        r = c.CANCEL_JOB[row]
        return outcome(lambda: j.cancel_job(r["job"], r["force"], policy))[0], None
    if table == "UPDATE_JOB_EXECUTION":
        r = c.UPDATE_JOB_EXECUTION[row]
        requested = STATUSES[column]
        return outcome(lambda: j.update_execution(r["current"], 7, requested, None, policy))[0], None
    if table == "REMOVE_TARGET":
        becomes = j.remove_target(c.REMOVE_TARGET[row]["status"], policy)
        return None, None if becomes is None else becomes.value
    assert table == "DESCRIBE_JOB_EXECUTION"
    r = c.DESCRIBE_JOB_EXECUTION[row]
    return outcome(lambda: j.describe_execution(r["status"], 3, "data", policy))[0], None


def default_cell(table: str, row: int, column: int) -> Tuple[Any, Any]:
    """The table's own answer for one cell (SPEC's default readings)."""
    if table == "UPDATE_JOB_EXECUTION":
        to = list(c.UPDATE_JOB_EXECUTION[row]["requested"].values())[column]
        return (None if to is not None else ISTE), None
    if table == "REMOVE_TARGET":
        return None, c.REMOVE_TARGET[row]["becomes"]
    if table == "DESCRIBE_JOB_EXECUTION":
        return c.DESCRIBE_JOB_EXECUTION[row]["data"], None
    return c.table(table)[row]["outcome"], None


def cells(table: str):
    columns = len(STATUSES) if table == "UPDATE_JOB_EXECUTION" else 1
    return itertools.product(range(len(c.table(table))), range(columns))


def test_every_delta_changes_its_cell():
    # A delta that restates the default is not a change and must not be listed.
    for d in c.POLICY_DELTAS:
        assert default_cell(d["table"], d["row"], d["column"]) != (d["alternative"], d["becomes"]), d


@pytest.mark.parametrize("reading", sorted({d["reading"] for d in c.POLICY_DELTAS}))
def test_each_alternative_reading_changes_exactly_its_cells(reading):
    policy = j.Policy(**ALTERNATIVE[reading])
    deltas = [d for d in c.POLICY_DELTAS if d["reading"] == reading]
    for table in sorted({d["table"] for d in deltas}):
        changed = {(d["row"], d["column"]): (d["alternative"], d["becomes"]) for d in deltas if d["table"] == table}
        for row, column in cells(table):
            assert cell(table, row, column, j.Policy()) == default_cell(table, row, column), (table, row, column)
            want = changed.get((row, column), default_cell(table, row, column))
            assert cell(table, row, column, policy) == want, (reading, table, row, column)


# ---- UpdateJob and the schedule's bounds ----------------------------------------------------

CONFIG_KEYS = ["in_progress_timeout_minutes", "retry", "abort", "start_time", "end_time", "end_behavior",
               "maximum_per_minute", "maintenance_windows", "exponential_rate"]


def full(config: Dict[str, Any]) -> Dict[str, Any]:
    return {k: config.get(k) for k in CONFIG_KEYS}


def test_update_job_config_every_member_given_or_not():
    old = full(dict(in_progress_timeout_minutes=5, retry={"FAILED": 1}, start_time=100, maximum_per_minute=3))
    new = full(dict(retry={"ALL": 4}, abort=[("ALL", 100, 2)], exponential_rate=(5, 20, 10, None)))
    rows = {r["member"]: r for r in c.UPDATE_JOB_CONFIG}
    updatable_members = [m for m, r in rows.items() if r["updatable"]]
    assert [rows[m]["keys"] for m in updatable_members] == [["in_progress_timeout_minutes"], ["retry"], ["abort"],
                                                            ["maximum_per_minute", "exponential_rate"]]
    assert sorted(k for r in rows.values() for k in r["keys"]) == sorted(CONFIG_KEYS)
    for mask in range(16):
        given = [m for bit, m in enumerate(updatable_members) if mask & (1 << bit)]
        update = {k: new[k] for m in given for k in rows[m]["keys"]}
        want: Dict[str, Any] = {}
        for member, r in rows.items():
            source = new if (member in given or (member == "schedulingConfig" and r["updatable"])) else old
            want.update({k: source[k] for k in r["keys"]})
        assert j.update_job_config(old, update) == full(want), f"{mask:04b}"
        # Swapped roles: every member given takes the request's value.
        every = {k: old[k] for m in updatable_members for k in rows[m]["keys"]}
        assert j.update_job_config(new, every) == {**old, "start_time": None}
    # The members are validated as CreateJob's: an update cannot carry a value outside SPEC §6.
    for bad in ({"maximum_per_minute": 0}, {"in_progress_timeout_minutes": 0}):
        with pytest.raises(j.InvalidFieldError):
            j.update_job_config(old, bad)
    with pytest.raises(ValueError):
        j.update_job_config(old, {"start_time": 5})
    with pytest.raises(ValueError):
        j.update_job_config({"schedule": 1}, {})


def test_job_config_from_template_every_member_given_or_not():
    """TEMPLATE_JOB_CONFIG through `job_config_from_template`: each member the request gives
    replaces the template's whole member (even with an absent value), the others are the
    template's (SPEC R22, AMBIG-30)."""
    windows = [("cron(0 2 ? * SUN *)", 60)]
    template = full(dict(in_progress_timeout_minutes=5, retry={"FAILED": 1}, abort=[("FAILED", 5000, 1)],
                         maximum_per_minute=3, exponential_rate=(2, 15, None, 4), maintenance_windows=windows))
    del template["start_time"], template["end_time"], template["end_behavior"]
    request = full(dict(retry={"ALL": 4}, maximum_per_minute=50, start_time=10_000, end_time=20_000,
                        end_behavior="CANCEL", maintenance_windows=[("cron(30 * * * ? *)", 10)]))
    rows = {r["member"]: r for r in c.TEMPLATE_JOB_CONFIG}
    assert sorted(k for r in rows.values() for k in r["keys"]) == sorted(CONFIG_KEYS)
    members = [m for m, r in rows.items() if r["updatable"]]
    assert len(members) == 6
    schedule_keys = {"start_time", "end_time", "end_behavior", "maintenance_windows"}
    for mask in range(1 << len(members)):
        given = [m for bit, m in enumerate(members) if mask & (1 << bit)]
        keys = [k for m in given for k in rows[m]["keys"]]
        body = {k: request[k] for k in keys if k not in schedule_keys}
        sched = {k: request[k] for k in keys if k in schedule_keys}
        want = {k: (request if k in keys else template).get(k) for k in CONFIG_KEYS}
        assert j.job_config_from_template(template, body, **sched) == want, given
        sources = j.template_sources(body, windows_given="maintenance_windows" in sched)
        want_sources = {k: ("REQUEST" if k in keys else "TEMPLATE") for k in CONFIG_KEYS}
        # A template has no schedule: its times are always the request's.
        for k in ("start_time", "end_time", "end_behavior"):
            assert want_sources.pop(k) == ("REQUEST" if "schedulingConfig" in given else "TEMPLATE")
        want_sources["schedule"] = "REQUEST" if rows["schedulingConfig"]["updatable"] else "TEMPLATE"
        assert sources == want_sources, given
    # A member given as None is given: the template's is dropped.
    assert j.job_config_from_template(template, {"retry": None})["retry"] is None
    assert j.job_config_from_template(template, {})["retry"] == {"FAILED": 1}
    # A template has no schedule; the members are validated as CreateJob's.
    with pytest.raises(ValueError):
        j.job_config_from_template({"start_time": 5}, {})
    with pytest.raises(ValueError):
        j.job_config_from_template(template, {"start_time": 5})
    with pytest.raises(j.InvalidFieldError):
        j.job_config_from_template(template, {"exponential_rate": (5, 60, 1, None)})
    with pytest.raises(j.InvalidFieldError):
        j.job_config_from_template(template, {}, maintenance_windows=[("cron(0 2 ? * SUN *)", 1431)])
    with pytest.raises(j.InvalidRequestException):
        j.job_config_from_template(template, {}, maintenance_windows=[("cron(0 2 * * * *)", 60)])


def test_schedule_bounds_every_offset_near_a_bound():
    start_row, end_row = c.SCHEDULE_BOUNDS
    assert start_row["start_time"] and not end_row["start_time"]
    assert (start_row["min_from"], end_row["min_from"]) == ("NOW", "START_OR_NOW")
    offsets = [0]
    for b in (1_800, 3_600, start_row["max_secs"], start_row["max_secs"] + 1_800, end_row["max_secs"]):
        offsets += [b - 1, b, b + 1]
    for now in (0, 1_000, MAX - 70_000_000):
        times = [None] + [now + o for o in offsets]
        for start in times:
            for end in times:
                def ok(row: Dict[str, Any], t: int) -> bool:
                    base = now if row["min_from"] == "NOW" else (now if start is None else start)
                    return base + row["min_secs"] <= t <= now + row["max_secs"]

                if start is not None and not ok(start_row, start):
                    want = "schedulingConfig startTime"
                elif end is not None and not ok(end_row, end):
                    want = "schedulingConfig endTime"
                else:
                    want = None
                refused, e = outcome(lambda: j.schedule_bounds(now, start, end))
                if want is None:
                    assert refused is None, (now, start, end)
                else:
                    assert refused == ("InvalidRequestException", 400), (now, start, end)
                    assert e.kind == "InvalidRequest" and e.message.startswith(want), (now, start, end, e.message)


# ---- maintenance windows ------------------------------------------------------------------


def test_window_every_input():
    for change in ("OPEN", "CLOSE"):
        for job in JOBS:
            row = find(c.WINDOW, change=change, job=job.value)
            refused, got = outcome(lambda: j.window(job, change))
            assert refused == row["outcome"], row
            assert (got.value if refused is None else None) == row["becomes"], row
    with pytest.raises(ValueError):
        j.window("SCHEDULED", "AJAR")


def test_maintenance_window_cases():
    for row in c.MAINTENANCE_WINDOW:
        at = j.maintenance_window(row["windows"], c.WINDOWS_BASE + row["now"])
        assert at.open is row["open"], row
        assert at.recheck == (None if row["recheck"] is None else c.WINDOWS_BASE + row["recheck"]), row
    daily = "cron(0 2 * * ? *)"
    for minutes, ok in ((0, False), (1431, False), (1430, True)):
        refused, _ = outcome(lambda: j.maintenance_window([(daily, minutes)], 0))
        assert (refused is None) is ok, minutes
    with pytest.raises(j.InvalidRequestException):
        j.maintenance_window([("cron(0 2 * *)", 60)], 0)


def test_maintenance_window_against_a_scan():
    """Open exactly when an occurrence started in the last ``durationInMinutes``, and the
    answer holds every minute until ``recheck`` (scanned up to 6 hours), over the random windows
    of the crate's scan test. An occurrence starts at minute ``m`` exactly when a 1-minute
    window of the same expression is open at ``m``."""
    crons = ["cron(0 2 * * ? *)", "cron(0/20 * * * ? *)", "cron(30 1-3 ? * TUE-THU *)", "cron(0 0 L * ? *)"]
    rng = random.Random(0x9E3779B97F4A7C15)
    for _ in range(100):
        ws = [(rng.choice(crons), rng.choice([1, 20, 45, 90, 300])) for _ in range(1 + rng.randrange(2))]
        now = c.WINDOWS_BASE + rng.randrange(3 * 86_400)
        at = j.maintenance_window(ws, now)
        until = min(at.recheck, now + 6 * 3600) if at.recheck is not None else now + 6 * 3600
        assert until > now
        lo = (now - 301 * 60) // 60 * 60
        starts = {cron: {m for m in range(lo, until + 1, 60) if j.maintenance_window([(cron, 1)], m).open}
                  for cron, _ in ws}

        def open_by_scan(t: int) -> bool:
            return any(
                any(m in starts[cron] for m in range(-(-(t + 1 - minutes * 60) // 60) * 60, t + 1, 60))
                for cron, minutes in ws)

        assert at.open is open_by_scan(now), (ws, now)
        for t in range(-(-now // 60) * 60, until, 60):
            assert open_by_scan(t) is at.open, (ws, now, until, t)


# ---- schedule events and rollout ----------------------------------------------------------

KINDS = ("ABSENT", "PAST", "NOW", "LATER")


def at(kind: str, past: int, later: int) -> Optional[int]:
    return {"ABSENT": None, "PAST": past, "NOW": NOW, "LATER": later}[kind]


def fires(row: Dict[str, Any], clock: Dict[str, Any], due: bool, end_passed: bool, start_fires: bool) -> bool:
    return (due and clock["status"] in row["statuses"]
            and (not row["needs_not_started"] or not clock["started"])
            and (not row["needs_not_ended"] or not clock["ended"])
            and (not row["needs_end_not_passed"] or not end_passed)
            and (not row["needs_no_start"] or not start_fires))


def test_schedule_events_every_input():
    rows = {r["event"]: r for r in c.SCHEDULE_EVENTS}
    start_row, batch_row, end_row = rows["START"], rows["BATCH"], rows["END"]
    checked = 0
    for status, started, ended, s, e, r, b in itertools.product(
            JOBS, BOOLS, BOOLS, KINDS, KINDS, KINDS, c.END_BEHAVIOR):
        start = at(s, 5_000, 20_000)
        end = at(e, 6_000, 30_000)
        times = dict(start_time=start, end_time=end, end_behavior=None if end is None else b["behavior"])
        try:
            j.starts_scheduled(NOW, **times)
        except j.InvalidFieldError:
            continue  # not a valid schedule (SPEC §6: endTime after startTime)
        rollout_at = at(r, 7_000, 10_060)
        clock = dict(status=status.value, started=started, ended=ended)
        kw = dict(times, started=started, ended=ended, rollout_at=rollout_at)
        end_passed = end is not None and end <= NOW

        def due(t: Optional[int]) -> bool:
            return t is not None and t <= NOW

        want_start = fires(start_row, clock, due(start), end_passed, False)
        want_batch = fires(batch_row, clock, due(rollout_at), end_passed, want_start)
        # The end fires in any status (the timer offers it for live jobs).
        end_fires = due(end) and not ended
        got = j.schedule_event(status, NOW, **kw)
        assert (got.start, got.batch) == (want_start, want_batch), kw
        assert got.end == (b["behavior"] if end_fires else None), kw
        assert j.end_passed(NOW, **times) is end_passed

        # The timer offers the earliest event its row allows.
        def offered(row: Dict[str, Any], t: Optional[int]) -> Optional[int]:
            row = dict(row, needs_not_ended=row["offered_needs_not_ended"])
            return t if fires(row, clock, t is not None, False, False) else None

        candidates = [offered(start_row, start), offered(batch_row, rollout_at), offered(end_row, end)]
        want_next = min((t for t in candidates if t is not None), default=None)
        assert j.next_job_event(status, **kw) == want_next, kw
        checked += 1
    assert checked == 2_880
    # A time that never comes is never offered.
    assert j.next_job_event("IN_PROGRESS", started=True, rollout_at=MAX) is None
    for row in c.END_BEHAVIOR:
        scope = "QUEUED_AND_IN_PROGRESS" if row["cancels_in_progress"] else "QUEUED"
        assert (j.cancel_job_execution_effect("IN_PROGRESS", scope) is not None) is row["cancels_in_progress"]


def test_rollout_pacing():
    assert j.rollout_batch() is None
    for m in (1, 2, 1_000, 2**32 - 1):
        assert j.rollout_batch(m) == m
    with pytest.raises(j.InvalidFieldError):
        j.rollout_batch(0)
    assert j.next_batch_at(NOW, True) == NOW + 60
    assert j.next_batch_at(NOW, False) is None
    assert j.next_batch_at(MAX - 1, True) is None  # saturates at "never"
    checked = 0
    for registered in BOOLS:
        for had_execution in BOOLS:
            row = find(c.ROLLOUT_REACH, registered=registered, had_execution=had_execution)
            assert j.rollout_reaches(registered, had_execution) is row["reaches"], row["spec"]
            checked += 1
    assert checked == len(c.ROLLOUT_REACH)


def test_group_join_every_row():
    for row in c.GROUP_JOIN:
        args = (row["job"], "CONTINUOUS", row["started"], row["ended"], row["rolling_out"])
        if row["join"] is None:
            with pytest.raises(j.InvalidRequestException):
                j.group_join(*args)
        else:
            assert j.group_join(*args) == row["join"], row["spec"]
        with pytest.raises(j.InvalidRequestException):
            j.group_join(row["job"], "SNAPSHOT", *args[2:])
    assert {row["job"] for row in c.GROUP_JOIN} == {s.value for s in j.JobStatus}


def test_group_leave_every_row():
    for row in c.GROUP_LEAVE:
        assert j.group_leave(row["selection"]) is row["leaves"], row["spec"]
    assert {row["selection"] for row in c.GROUP_LEAVE} == {"SNAPSHOT", "CONTINUOUS"}


def test_associate_targets_waits_for_a_rollout_with_targets_left():
    assert j.associate_targets("IN_PROGRESS", "CONTINUOUS", 100) == "QUEUE"
    assert j.associate_targets("IN_PROGRESS", "CONTINUOUS", 100, rolling_out=True) == "ROLLOUT"
    with pytest.raises(j.LimitExceededException):
        j.associate_targets("IN_PROGRESS", "CONTINUOUS", 101, rolling_out=True)


def test_batch_on_start_every_input():
    checked = 0
    for status in JOBS:
        for started, ended in ((False, False), (True, False), (True, True), (False, True)):
            for rollout_at in (None, MAX, NOW + 1, NOW, NOW - 60):
                due = "NONE" if rollout_at is None else ("LATER" if rollout_at > NOW else "COME")
                # A job that never started has no batch of its own yet: its start is its first.
                row = find(c.BATCH_ON_START, started=started, due=due if started else "NONE")
                got = j.batch_on_start(status, NOW, started=started, ended=ended, rollout_at=rollout_at)
                assert got is row["batch"], (status, started, ended, rollout_at, row["spec"])
                checked += 1
    assert checked == len(JOBS) * 4 * 5


# ---- timers -------------------------------------------------------------------------------


def test_timers_every_status_change_and_small_durations():
    for to in STATUSES:
        row = find(c.TIMER_ON_STATUS, to=to.value)
        for frm in STATUSES:
            want = row["from_queued"] if frm is j.ExecutionStatus.QUEUED else row["from_other"]
            assert j.timer_on_status(frm, to) == want, (frm, to, row["spec"])
    for now in (0, 1, NOW, MAX - 100, MAX):
        assert j.in_progress_deadline(now, None) is None
        for m in (1, 2, 59, 10_080):
            deadline = min(now + m * 60, MAX)
            assert j.in_progress_deadline(now, m) == never(deadline)
            for cap in (0, now, min(now + 60, MAX), min(now + 120, MAX), MAX):
                cap_arg = never(cap)
                # AMBIG-15: a step timer never runs past the in-progress deadline.
                assert j.step_deadline(now, m, cap_arg) == never(min(deadline, cap)), (now, m, cap)
                assert j.step_deadline(now, -1, cap_arg) == cap_arg
    assert j.timer_on_status("QUEUED", "IN_PROGRESS") == "START"
    for bad in (0, -2, 10_081):
        with pytest.raises(j.InvalidFieldError):
            j.step_deadline(NOW, bad)
    with pytest.raises(j.InvalidFieldError):
        j.in_progress_deadline(NOW, 0)


# ---- end behaviour, creation, citations ---------------------------------------------------


def test_end_behaviour_and_creation_every_input():
    for r in c.END_BEHAVIOR:
        got = j.end_behavior(r["behavior"])
        assert (got is not None) is r["cancels_queued"], r["spec"]
        scope = None if got is None else got.scope
        queued = scope is not None and j.cancel_job_execution_effect("QUEUED", scope) is not None
        in_progress = scope is not None and j.cancel_job_execution_effect("IN_PROGRESS", scope) is not None
        assert (queued, in_progress) == (r["cancels_queued"], r["cancels_in_progress"])
        assert (got is not None and got.force_canceled) is r["cancels_in_progress"], r["spec"]
    with pytest.raises(j.InvalidFieldError) as info:
        j.end_behavior("PAUSE")
    assert info.value.field == "schedulingConfig.endBehavior"
    # SPEC 4.2 CreateJob: SCHEDULED only while startTime is to come.
    for start, scheduled in ((None, False), (NOW - 1, False), (NOW, False), (NOW + 1, True)):
        assert j.starts_scheduled(NOW, start_time=start) is scheduled, start
    assert not j.starts_scheduled(NOW, end_time=NOW + 1, end_behavior="CANCEL")
    assert not j.starts_scheduled(NOW)
    # An endBehavior without an endTime is ignored (SPEC lim-scheduling), as AWS does.
    assert not j.starts_scheduled(NOW, end_behavior="CANCEL")
    assert j.starts_scheduled(NOW, start_time=NOW + 1, end_behavior="CANCEL")


def test_lifecycle_rows_cite_the_spec():
    tables = [c.RETRY_JOB, c.RETRY_FAILURE, c.RETRY_CRITERION, c.ABORT_JOB, c.ABORT_FAILURES, c.CONCURRENT_JOB, c.WINDOW,
              c.SCHEDULE_EVENTS, c.BATCH_ON_START, c.END_BEHAVIOR, c.TIMER_ON_STATUS, c.DEVICE_ACCESS,
              c.UNKNOWN_THING, c.QUEUE_ON_REJOIN, c.DETAILS_WRITE, c.UPDATE_JOB_CONFIG, c.SCHEDULE_BOUNDS,
              c.NOTIFY, c.REMOVE_THING_JOB]
    for rows in tables:
        for r in rows:
            assert r["spec"].startswith(("SPEC ", "AMBIG-", "SEED-")), r


def test_is_concurrent_for_every_job_status_and_input():
    """SPEC §2 job facts: a live job while its rollout has targets left, a deleting one while it
    has executions left; the table says which statuses can be concurrent at all."""
    for row in c.CONCURRENT_JOB:
        for rolling_out in (False, True):
            for executions_left in (False, True):
                on = executions_left if row["job"] == "DELETION_IN_PROGRESS" else rolling_out
                got = j.job_is_concurrent(row["job"], rolling_out=rolling_out, executions_left=executions_left)
                assert got == (row["applies"] and on), (row, rolling_out, executions_left)
