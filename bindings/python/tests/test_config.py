"""Job configuration through the Registry: in-progress timeouts, retries, abort criteria,
schedules, UpdateJob's configuration, and the SPEC §6 ranges."""

from __future__ import annotations

import pytest

import iot_jobs_core as j
from iot_jobs_core import ExecutionStatus as E
from iot_jobs_core import JobStatus as J


@pytest.fixture
def reg() -> j.Registry:
    r = j.Registry()
    for t in ("t", "u"):
        r.add_thing(t)
    return r


def test_in_progress_timeout_then_retry(reg):
    reg.create_job("a", ["t"], 0, in_progress_timeout_minutes=1, retry={"TIMED_OUT": 1})
    reg.start_next("t", 0)
    assert reg.next_deadline() == 60
    reg.drain_events()
    reg.advance(60)
    # SPEC T12: the timed-out execution is retried as a new QUEUED execution, number 2.
    assert reg.describe_execution("a", "t", 1).status is E.TIMED_OUT
    retry = reg.describe_execution("a", "t")
    assert (retry.execution_number, retry.status, retry.retry_attempt, retry.queued_at) == (2, E.QUEUED, 1, 60)
    assert j.ExecutionChanged("a", "t", 1, "timed_out") in reg.drain_events()
    # One retry only: the second timeout is final.
    reg.start_next("t", 70)
    reg.advance(130)
    assert reg.describe_execution("a", "t").status is E.TIMED_OUT
    assert reg.job("a").status is J.COMPLETED


def test_advance_applies_each_deadline_at_its_own_instant(reg):
    reg.create_job("a", ["t"], 0, in_progress_timeout_minutes=1, retry={"TIMED_OUT": 1})
    reg.start_next("t", 0)
    reg.advance(3600)  # an hour later: the timeout came at 60, and its retry with it
    first, retry = reg.describe_execution("a", "t", 1), reg.describe_execution("a", "t")
    assert (first.status, first.last_updated_at) == (E.TIMED_OUT, 60)
    assert (retry.execution_number, retry.queued_at) == (2, 60)
    # A paced rollout's batches a minute apart, however late `advance` comes.
    reg.add_thing("v")
    reg.create_job("p", ["t", "u", "v"], 4000, maximum_per_minute=1)
    reg.advance(9000)
    page, _ = reg.list_for_job("p")
    assert sorted(x.queued_at for x in page) == [4000, 4060, 4120]


def test_advance_with_a_budget_steps_no_further_than_it(reg):
    reg.add_thing("v")
    reg.create_job("p", ["t", "u", "v"], 0, maximum_per_minute=1)  # batches due at 60 and 120
    done = reg.advance(600, budget=1)
    assert (done.work, done.more) == (1, True)
    page, _ = reg.list_for_job("p")
    assert sorted(x.queued_at for x in page) == [0, 60]
    done = reg.advance(600)
    assert done.more is False
    page, _ = reg.list_for_job("p")
    assert sorted(x.queued_at for x in page) == [0, 60, 120]


def test_create_job_without_members_takes_1_to_100_targets(reg):
    with pytest.raises(j.InvalidRequestException):
        reg.create_job("none", [], 0)
    with pytest.raises(j.LimitExceededException):
        reg.create_job("many", ["t"] * 101, 0)
    reg.create_job("hundred", ["t"] * 100, 0)  # 100 ARNs, one thing
    reg.create_job("empty-group", [], 0, members=[])  # the host counted the group's ARN
    assert reg.job("empty-group").status is J.COMPLETED
    assert [x.job_id for x in reg.jobs()] == ["hundred", "empty-group"]


@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.update_execution("a", "t", "SUCCESS", 1),
        lambda r: r.list_for_job("a", status="DONE"),
        lambda r: r.list_for_thing("t", status="done"),
    ],
)
def test_a_status_member_that_is_no_status_is_a_client_error(reg, call):
    reg.create_job("a", ["t"], 0)
    with pytest.raises(j.InvalidFieldError) as info:
        call(reg)
    e = info.value
    assert isinstance(e, ValueError) and isinstance(e, j.InvalidRequestException)
    assert (e.field, e.constraint, e.http_status(j.Plane.DATA)) == ("status", "unknown_value", 400)
    assert "SUCCEEDED" in str(e)  # the message lists the statuses
    assert reg.describe_execution("a", "t").version_number == 1  # nothing changed


def test_abort_criteria_cancel_the_job(reg):
    reg.create_job("a", ["t", "u"], 0, abort=[("FAILED", 5000, 1)])  # 50 %, after 1 execution
    reg.update_execution("a", "t", "FAILED", 5)
    reg.advance(5)
    job = reg.job("a")
    assert (job.status, job.reason_code) == (J.CANCELED, "ABORT_CRITERIA_MET")
    assert reg.describe_execution("a", "u").status is E.CANCELED


def test_schedule_start_time(reg):
    reg.create_job("s", ["u"], 0, start_time=100)
    assert reg.job("s").status is J.SCHEDULED
    assert reg.pending("u") == []
    assert reg.next_deadline() == 100
    reg.advance(99)
    assert reg.job("s").status is J.SCHEDULED
    reg.advance(100)
    assert reg.job("s").status is J.IN_PROGRESS
    assert [x.job_id for x in reg.pending("u")] == ["s"]


def test_update_job_config_applies_to_executions_not_started(reg):
    reg.create_job("c", ["t"], 0)
    reg.update_job_config("c", 1, in_progress_timeout_minutes=2)
    reg.start_next("t", 10)
    assert reg.describe_execution("c", "t").deadline == 130
    with pytest.raises(j.ResourceNotFoundException):
        reg.update_job_config("nope", 1, in_progress_timeout_minutes=2)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"in_progress_timeout_minutes": 0},
        {"in_progress_timeout_minutes": 10081},
        {"retry": {"FAILED": 11}},
        {"retry": {}},
        {"abort": [("FAILED", 10001, 1)]},
        {"abort": [("FAILED", 50, 0)]},
        {"start_time": 10, "end_time": 10},
        {"maximum_per_minute": 0},
    ],
)
def test_out_of_range_configuration_is_refused(reg, kwargs):
    with pytest.raises(j.InvalidFieldError) as info:
        reg.create_job("d", ["t"], 0, **kwargs)
    assert (info.value.field, info.value.constraint) == ("job configuration", "config")
    with pytest.raises(j.ResourceNotFoundException):
        reg.job("d")


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"retry": {"REJECTED": 1}}, "jobExecutionsRetryConfig.criteriaList.failureType"),
        ({"abort": [("NOPE", 1, 1)]}, "abortConfig.criteriaList.failureType"),
        ({"end_time": 5, "end_behavior": "STOP"}, "schedulingConfig.endBehavior"),
        ({"end_behavior": "STOP"}, "schedulingConfig.endBehavior"),
        ({"target_selection": "SOMETIMES"}, "targetSelection"),
    ],
)
def test_unknown_configuration_values_name_the_aws_member(reg, kwargs, field):
    with pytest.raises(j.InvalidFieldError) as info:
        reg.create_job("d", ["t"], 0, **kwargs)
    e = info.value
    assert isinstance(e, ValueError) and isinstance(e, j.InvalidRequestException)
    assert (e.field, e.constraint, e.kind, e.http_status()) == (field, "unknown_value", "InvalidField", 400)
    assert field in e.message
    with pytest.raises(j.ResourceNotFoundException):
        reg.job("d")


@pytest.mark.parametrize("behavior", ["STOP_ROLLOUT", "CANCEL", "FORCE_CANCEL"])
def test_end_behavior_without_end_time_is_ignored(reg, behavior):
    # SPEC lim-scheduling: endBehavior applies only when endTime is set; AWS and the emulator
    # accept it without one (moto's tests send schedulingConfig={"endBehavior": "FORCE_CANCEL"}).
    reg.create_job("d", ["t"], 0, end_behavior=behavior)
    assert reg.job("d").status == j.JobStatus.IN_PROGRESS
    assert j.end_passed(0, end_behavior=behavior) is False
    assert j.starts_scheduled(0, end_behavior=behavior) is False
    assert j.update_job_config({"end_behavior": behavior}, {})["end_behavior"] is None
    reg.advance(10**9)
    assert reg.job("d").status == j.JobStatus.IN_PROGRESS
