"""Registry.snapshot / Registry.restore, and copy, deepcopy and pickle through them."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

import iot_jobs_core as j
from iot_jobs_core import ExecutionStatus as E


def world() -> j.Registry:
    """Two things, a job with a timeout run by one device, one with retries, a deleted one."""
    r = j.Registry(policy=j.Policy(numbering="MONOTONIC"), jobs=50, things=20, executions=200,
                   status_details=100, deletion_delay=120, max_events=None)
    for t in ("t1", "t2"):
        r.add_thing(t)
    r.create_job("fw-1", ["t1", "t2"], 100, in_progress_timeout_minutes=5)
    r.start_next("t1", 110, status_details={"step": "download"})
    r.create_job("fw-2", ["t2"], 120, retry={"FAILED": 2})
    r.create_job("gone", ["t1"], 130)
    r.delete_job("gone", 140, force=True)
    return r


def views(r: j.Registry) -> list:
    """What a host can read: every job, every execution of every thing, the clock and usage."""
    out = [r.clock, r.usage(), r.jobs_deleting(), r.next_deadline(), sorted(r.things())]
    for job in r.jobs():
        out.append(job)
        out.append(r.list_for_job(job.job_id, max_results=250)[0])
    for t in sorted(r.things()):
        out.append(r.list_for_thing(t, max_results=250)[0])
    return out


def test_a_restored_registry_reads_and_goes_on_as_the_original():
    a = world()
    b = j.Registry.restore(a.snapshot(), policy=j.Policy(numbering="MONOTONIC"), jobs=50,
                           things=20, executions=200, status_details=100, max_events=None)
    assert views(b) == views(a)
    assert b.describe_execution("fw-1", "t1").status_details == {"step": "download"}
    # The same calls afterwards give the same results: the timer, the deletion delay (in the
    # snapshot), the retry, the clock (a `now` before it runs at it).
    for r in (a, b):
        r.update_execution("fw-2", "t2", "FAILED", 125)  # before the clock (140): runs at 140
        r.advance(100_000)
    assert views(b) == views(a)
    assert b.describe_execution("fw-1", "t1").status is E.TIMED_OUT
    assert b.describe_execution("fw-2", "t2").execution_number == 2  # retried
    assert b.describe_execution("fw-2", "t2", 1).last_updated_at == 140
    assert "gone" not in {x.job_id for x in b.jobs()}  # its deletion came due


def test_a_snapshot_is_json_with_its_format_and_clock():
    s = json.loads(world().snapshot())
    assert (s["format"], s["clock"], sorted(s)) == ("iot-jobs-core-py/1", 140, ["clock", "format", "registry"])
    assert s["registry"]["deletionDelay"] == 120
    # str is taken as well as bytes.
    assert views(j.Registry.restore(json.dumps(s), max_events=None)) == views(j.Registry.restore(world().snapshot(), max_events=None))


@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy, lambda r: pickle.loads(pickle.dumps(r))],
                         ids=["copy", "deepcopy", "pickle"])
def test_copy_deepcopy_and_pickle_keep_the_state_caps_policy_and_max_events(copier):
    a = world()
    b = copier(a)
    assert b is not a and views(b) == views(a)
    assert b.policy == a.policy and b.policy.numbering == "MONOTONIC"
    # Independent: a change to the copy leaves the original alone.
    b.update_execution("fw-1", "t1", "SUCCEEDED", 150)
    assert a.describe_execution("fw-1", "t1").status is E.IN_PROGRESS
    # The caps came along: the copy holds 20 things, not the default 10 000.
    for n in range(18):
        b.add_thing(f"x{n}")
    with pytest.raises(j.LimitExceededException):
        b.add_thing("one-too-many")
    # max_events=None came along: no events are kept.
    assert b.drain_events() == []


def test_a_registry_with_pending_events_is_not_copied_or_pickled():
    r = j.Registry()
    r.add_thing("t")
    r.create_job("j", ["t"], 1)
    for copier in (copy.copy, copy.deepcopy, pickle.dumps):
        with pytest.raises(ValueError, match="2 pending events cannot be copied or pickled .* drain_events"):
            copier(r)
    r.drain_events()
    assert pickle.loads(pickle.dumps(r)).describe_execution("j", "t").status is E.QUEUED


@pytest.mark.parametrize(
    "snapshot, message",
    [
        (b"", "not a registry snapshot: EOF while parsing"),
        (b"[]", "not a registry snapshot: invalid length 0, expected struct Saved"),
        (b'{"format": "other/9", "clock": null, "registry": {}}', 'its format is "other/9"'),
        (b'{"format": "iot-jobs-core-py/1", "clock": 99999999999, "registry": {}}', "its clock is past LATEST_TIME"),
        (b'{"format": "iot-jobs-core-py/1", "clock": null, "registry": {}, "x": 1}', "unknown field `x`"),
        (b'{"format": "iot-jobs-core-py/1", "clock": null, "registry": {"format": 1}}', "not a registry snapshot: "),
    ],
)
def test_a_bad_snapshot_is_a_value_error_that_says_what_is_wrong(snapshot, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        j.Registry.restore(snapshot)


def test_a_snapshot_bigger_than_the_caps_is_refused():
    with pytest.raises(ValueError, match="not a registry snapshot: .*"):
        j.Registry.restore(world().snapshot(), things=1)
    with pytest.raises(ValueError, match="things must be at most 2000000"):
        j.Registry.restore(world().snapshot(), things=10**9)
    with pytest.raises(TypeError, match="snapshot must be bytes .* not int"):
        j.Registry.restore(5)
