"""Hostile input raises the documented exceptions; the interpreter never crashes and a Rust
panic (PanicException, a BaseException) never surfaces."""

from __future__ import annotations

import pytest

import iot_jobs_core as j

HOSTILE_STRINGS = ["", "\x00", "a" * 100_000, "\ud800", "é" * 70, "$next", "QUEUED\n", "../../etc"]
HOSTILE_INTS = [-1, -(2**63), 2**63, 2**64, 2**200]
WRONG_TYPES = [None, 1.5, b"QUEUED", ["QUEUED"], {"a": 1}, object()]

# Only these may come out; anything else (PanicException, SystemError...) fails the test.
DOCUMENTED = (j.JobsError, ValueError, TypeError, OverflowError, KeyError)


def run(call):
    try:
        call()
    except DOCUMENTED:
        pass


def test_decisions_with_hostile_strings_and_ints():
    for s in HOSTILE_STRINGS:
        run(lambda: j.update_execution(s, 1, "IN_PROGRESS"))
        run(lambda: j.delete_job(s))
        run(lambda: j.describe_execution("QUEUED", 1, s))
        run(lambda: j.version_after(1, s))
        run(lambda: j.cancel_job_execution_effect("QUEUED", s))
        run(lambda: j.Topic.parse(s))
        run(lambda: str(j.Topic(s, thing=s, job=s, namespace=s, reply=s, event=s)))
        run(lambda: j.conformance.table(s))
        for cls in (j.JobId, j.ThingName, j.NamespaceId, j.ReasonCode):
            run(lambda: cls(s))
    for n in HOSTILE_INTS:
        run(lambda: j.delete_execution("QUEUED", n, force=True))
        run(lambda: j.update_execution("QUEUED", 1, "IN_PROGRESS", expected_version=n))
        run(lambda: j.delete_job("COMPLETED", deleting=n))
        run(lambda: j.next_execution_number(n, n))
        run(lambda: j.version_after(n, "DEVICE"))
        run(lambda: j.associate_targets("IN_PROGRESS", "CONTINUOUS", n))
        run(lambda: j.Policy(pending_cap=n))



def test_time_driven_decisions_with_hostile_input():
    for s in HOSTILE_STRINGS:
        run(lambda: j.window("SCHEDULED", s))
        run(lambda: j.timer_on_status(s, s))
        run(lambda: j.end_behavior(s))
        run(lambda: j.maintenance_window([(s, 60)], 0))
        run(lambda: j.retry("IN_PROGRESS", "FAILED", {s: 1}))
        run(lambda: j.abort_due("IN_PROGRESS", [(s, 1, 1)]))
        run(lambda: j.update_job_config({s: 1}, {}))
        run(lambda: j.update_job_config({}, {s: 1}))
        run(lambda: j.schedule_event(s, 0, end_time=1, end_behavior=s))
    for n in HOSTILE_INTS + [0, 2**64 - 1]:
        run(lambda: j.step_deadline(n, n, n))
        run(lambda: j.in_progress_deadline(n, n))
        run(lambda: j.next_batch_at(n, True))
        run(lambda: j.schedule_bounds(n, n, n))
        run(lambda: j.schedule_event("IN_PROGRESS", n, start_time=n, end_time=n, rollout_at=n))
        run(lambda: j.next_job_event("SCHEDULED", start_time=n, end_time=n, rollout_at=n))
        run(lambda: j.batch_on_start("SCHEDULED", n, rollout_at=n))
        run(lambda: j.abort_due("IN_PROGRESS", [("ALL", n, n)], succeeded=n, failed=n))
        run(lambda: j.retry("IN_PROGRESS", "FAILED", {"ALL": n}, (n, n)))
        run(lambda: j.maintenance_window([("cron(0/20 * * * ? *)", n)], n))
        run(lambda: j.rollout_batch(n))
        run(lambda: j.update_job_config({"start_time": n, "end_time": n}, {"maximum_per_minute": n}))
    for v in WRONG_TYPES:
        run(lambda: j.retry("IN_PROGRESS", "FAILED", v))
        run(lambda: j.abort_due("IN_PROGRESS", v))
        run(lambda: j.maintenance_window(v, 0))
        run(lambda: j.update_job_config(v, {}))
        run(lambda: j.update_job_config({"retry": v}, {}))

def test_window_rollout_template_and_parameter_functions_with_hostile_input():
    reg = j.Registry()
    reg.add_thing("t")
    for s in HOSTILE_STRINGS:
        run(lambda: reg.create_job("w", ["t"], 0, maintenance_windows=[(s, 60)]))
        run(lambda: reg.pending("t", namespace=s))
        run(lambda: reg.next_pending("t", namespace=s))
        run(lambda: j.job_config_from_template({s: 1}, {}))
        run(lambda: j.job_config_from_template({}, {s: 1}))
        run(lambda: j.job_config_from_template({}, {}, maintenance_windows=[(s, 1)], end_behavior=s))
        run(lambda: j.template_sources({s: 1}))
        run(lambda: j.parameters.substitute(s, {s: s}))
        run(lambda: j.parameters.placeholders(s))
    for n in HOSTILE_INTS + [0, 2**64 - 1]:
        run(lambda: j.ramp_up((n, n, n, n), (n, n, n, n), n))
        run(lambda: j.ramp_batch(n, (n, n, n, n)))
        run(lambda: j.starts_in_window(n, (True, n), start_time=n))
        run(lambda: j.schedule_event("SCHEDULED", n, window=(n, True)))
        run(lambda: j.notify_topics(n, n, n))
        run(lambda: reg.create_job("x", ["t"], n, exponential_rate=(n, n, n, n), maintenance_windows=[("x", n)]))
    for v in WRONG_TYPES:
        run(lambda: j.ramp_up(v))
        run(lambda: j.ramp_batch(None, v))
        run(lambda: j.starts_in_window(0, v))
        run(lambda: j.job_config_from_template(v, {}))
        run(lambda: j.job_config_from_template({}, {"exponential_rate": v}))
        run(lambda: j.parameters.substitute("${aws:iot:parameter:a}", v))
        if v is not None:  # None: no windows, a valid job
            run(lambda: reg.create_job("y", ["t"], 0, maintenance_windows=v))
    # Nothing hostile was accepted: no job exists.
    assert reg.jobs() == []


def test_wrong_types_raise_type_errors():
    for v in WRONG_TYPES:
        with pytest.raises((TypeError, ValueError)):
            j.update_execution(v, 1, "IN_PROGRESS")
        with pytest.raises((TypeError, ValueError)):
            j.JobId(v)
        with pytest.raises(TypeError):
            j.delete_execution("QUEUED", v if v is not None else "1")
    with pytest.raises(TypeError):
        j.delete_execution("QUEUED", 1, policy="default")


def test_surrogates_and_negative_numbers_are_value_errors():
    with pytest.raises(UnicodeEncodeError):
        j.JobId("\ud800")
    with pytest.raises(OverflowError):
        j.delete_execution("QUEUED", -1)
    with pytest.raises(j.InvalidFieldError) as info:
        j.delete_execution("QUEUED", 2**63)  # a model long: at most i64::MAX
    assert info.value.constraint == "out_of_range"
    with pytest.raises(ValueError, match="not a job execution status"):
        j.update_execution("queued", 1, "IN_PROGRESS")


def test_registry_with_hostile_input_changes_nothing():
    reg = j.Registry()
    reg.add_thing("t1")
    reg.create_job("job-1", ["t1"], 0)
    before = (reg.job("job-1"), reg.describe_execution("job-1", "t1"), reg.usage())
    for s in HOSTILE_STRINGS:
        run(lambda: reg.add_thing(s))
        run(lambda: reg.create_job(s, ["t1"], 0))
        run(lambda: reg.create_job("job-2", [s], 0))
        run(lambda: reg.update_execution("job-1", "t1", s, 1))
        run(lambda: reg.update_execution("job-1", s, "IN_PROGRESS", 1))
        run(lambda: reg.cancel_job("job-1", 1, reason_code=s))
        run(lambda: reg.list_for_job("job-1", status=s))
    for v in WRONG_TYPES[1:]:  # None is a valid "not given" for statusDetails
        run(lambda: reg.create_job("job-3", v, 0))
        run(lambda: reg.update_execution("job-1", "t1", "IN_PROGRESS", 1, status_details=v))
    # A stale or made-up cursor is an InvalidRequestException, not a crash.
    with pytest.raises(j.InvalidRequestException):
        reg.list_for_job("job-1", cursor=(7, 9))
    after = (reg.job("job-1"), reg.describe_execution("job-1", "t1"), reg.usage())
    assert after == before


def test_registry_with_hostile_numbers_and_details():
    # Some of these are valid (`now` is any u64 up to the registry's last time, 2106-01-01;
    # statusDetails allow most characters): only the absence of a crash is checked.
    reg = j.Registry()
    reg.add_thing("t1")
    reg.create_job("job-1", ["t1"], 0)
    for s in HOSTILE_STRINGS:
        run(lambda: reg.update_execution("job-1", "t1", "IN_PROGRESS", 1, status_details={s: s}))
    for n in HOSTILE_INTS:
        run(lambda: reg.update_execution("job-1", "t1", "IN_PROGRESS", n))
        run(lambda: reg.update_execution("job-1", "t1", "IN_PROGRESS", 1, expected_version=n))
        run(lambda: reg.update_execution("job-1", "t1", "IN_PROGRESS", 1, execution_number=n))
        run(lambda: reg.update_execution("job-1", "t1", "IN_PROGRESS", 1, step_timeout_minutes=n))
        run(lambda: reg.describe_execution("job-1", "t1", n))
        run(lambda: reg.list_for_job("job-1", cursor=(n, n)))
        run(lambda: reg.advance(n, budget=n))
    assert reg.describe_execution("job-1", "t1").status in (j.ExecutionStatus.IN_PROGRESS, j.ExecutionStatus.TIMED_OUT)


def test_the_event_queue_has_a_bound_and_refuses_with_throttling():
    reg = j.Registry(max_events=5)
    for t in ("t1", "t2", "t3"):
        reg.add_thing(t)
    reg.create_job("job-1", ["t1", "t2"], 0)  # 4 events
    with pytest.raises(j.ThrottlingException) as info:
        reg.create_job("job-2", ["t3"], 0)  # 2 more do not fit: refused, nothing changed
    assert info.value.http_status("data") == 429 and info.value.mqtt_code == "RequestThrottled"
    with pytest.raises(j.ResourceNotFoundException):
        reg.job("job-2")
    assert len(reg.drain_events()) == 4
    reg.create_job("job-2", ["t3"], 0)


def test_table_caps_are_bounded():
    with pytest.raises(ValueError, match="jobs must be at most"):
        j.Registry(jobs=2**63)
    with pytest.raises(OverflowError):
        j.Registry(executions=-1)
