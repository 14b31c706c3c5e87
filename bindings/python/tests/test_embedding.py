"""The Registry embedded in a host such as moto's IoT backend: `now` checked before anything
changes, time that never goes backwards, a registry that keeps no events, table caps of the
emulator's size, one registry shared by threads, `isConcurrent`, thing-group members, and
errors naming the resource."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Iterable

import pytest

import iot_jobs_core as j
from iot_jobs_core import ExecutionStatus as E
from iot_jobs_core import JobStatus as J

LATEST = 4_291_747_200  # LATEST_TIME, 2106-01-01T00:00:00Z


def registry(things: Iterable[str] = ("a", "b"), **caps: Any) -> j.Registry:
    """A registry with `things` registered."""
    r = j.Registry(**caps)
    for t in things:
        r.add_thing(t)
    return r


@pytest.fixture(name="reg")
def reg_fixture() -> j.Registry:
    return registry()


# ---- now: whole seconds from 0 to LATEST_TIME, checked first -------------------------------


def calls_taking_now(reg: j.Registry, now: object) -> list:
    return [
        lambda: reg.create_job("k", ["a"], now),
        lambda: reg.remove_thing("a", now),
        lambda: reg.update_job_config("j", now),
        lambda: reg.add_targets("c", ["b"], now),
        lambda: reg.add_members("c", ["b"], now),
        lambda: reg.remove_target("j", "a", now),
        lambda: reg.cancel_job("j", now),
        lambda: reg.delete_job("j", now),
        lambda: reg.open_window("j", now),
        lambda: reg.close_window("j", now),
        lambda: reg.cancel_execution("j", "a", now),
        lambda: reg.delete_execution("j", "a", 1, now),
        lambda: reg.start_next("a", now),
        lambda: reg.update_execution("j", "a", "IN_PROGRESS", now),
        lambda: reg.advance(now),
    ]


def snapshot(reg: j.Registry) -> tuple:
    return (reg.jobs(), reg.things(), reg.list_for_thing("a"), reg.list_for_thing("b"))


@pytest.mark.parametrize("now", [int(time.time() * 1000), LATEST + 1, 2**64, -5])
def test_a_now_out_of_range_raises_value_error_naming_the_range_before_any_change(reg, now):
    reg.create_job("j", ["a"], 10)
    reg.create_job("c", ["a"], 10, target_selection="CONTINUOUS")
    reg.drain_events()
    before = snapshot(reg)
    for call in calls_taking_now(reg, now):
        with pytest.raises(ValueError) as info:
            call()
        assert not isinstance(info.value, j.JobsError)  # the host's bug, not an AWS answer
        assert f"from 0 to {LATEST}" in str(info.value) and "2106-01-01T00:00:00Z" in str(info.value)
        assert ("milliseconds" in str(info.value)) is (now > LATEST)
    assert snapshot(reg) == before and reg.drain_events() == []
    assert reg.clock == 10


def test_the_last_now_is_taken_and_a_float_raises_type_error(reg):
    reg.create_job("j", ["a"], LATEST)
    assert reg.job("j").created_at == LATEST
    for now in (1.5, float(10), "10", None):
        for call in calls_taking_now(reg, now):
            with pytest.raises(TypeError, match="now must be an int, whole seconds"):
                call()


# ---- time never goes backwards ---------------------------------------------------------------


def test_an_earlier_now_is_taken_as_the_latest_one(reg):
    reg.create_job("j", ["a"], 1000)
    started = reg.start_next("a", 500)  # freezegun moved the host's clock back
    assert started is not None and (started.queued_at, started.started_at) == (1000, 1000)
    assert reg.update_execution("j", "a", "SUCCEEDED", 400) == (E.SUCCEEDED, 3)
    assert reg.describe_execution("j", "a").last_updated_at == 1000
    assert reg.job("j").completed_at == 1000
    assert reg.clock == 1000
    reg.create_job("k", ["b"], 2000)
    assert reg.clock == 2000


def test_a_refused_call_does_not_move_the_clock_and_clear_resets_it(reg):
    assert reg.clock is None
    reg.create_job("j", ["a"], 100)
    with pytest.raises(j.ResourceAlreadyExistsException):
        reg.create_job("j", ["a"], 5000)
    reg.create_job("k", ["b"], 200)
    assert reg.job("k").created_at == 200  # not 5000
    reg.clear()
    reg.add_thing("a")
    reg.create_job("j", ["a"], 50)
    assert reg.job("j").created_at == 50  # a cleared registry starts again
    assert reg.clock == 50


def test_advance_at_an_earlier_now_applies_what_is_due_at_the_clock(reg):
    reg.create_job("j", ["a"], 0, in_progress_timeout_minutes=1)
    reg.start_next("a", 0)
    reg.create_job("k", ["b"], 120)  # the clock is 120: the timer (due at 60) has passed
    reg.advance(30)
    assert reg.describe_execution("j", "a").status is E.TIMED_OUT


# ---- max_events=None: keep no events ---------------------------------------------------------


def test_a_registry_without_an_event_queue_is_never_throttled():
    things = [f"t{i}" for i in range(60)]
    reg = registry(things, max_events=None)
    for n in range(30):  # 120 events a job, 3,600 in all: past a queue of 1,000
        reg.create_job(f"job-{n}", things, n)
        assert reg.drain_events() == []
    assert reg.start_next("t0", 100) is not None
    assert reg.usage()["executions"] == 30 * 60
    # The same work with a small queue that nobody drains is throttled.
    small = registry(things, max_events=100)
    with pytest.raises(j.ThrottlingException):
        small.create_job("job-0", things, 0)


# ---- default caps: ten times the old ones, and still cheap to construct -----------------------


def resident_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * 4096


def test_the_default_caps_hold_ten_times_the_old_ones_and_a_registry_stays_small():
    # Fill past the old defaults (1,000 things, 10,000 executions): jobs on a group of them all.
    things = [f"t{i}" for i in range(1500)]
    reg = registry(things)
    for n in range(7):
        reg.create_job(f"job-{n}", [], 0, members=things)
    assert reg.usage()["things"] == 1500 and reg.usage()["executions"] == 10_500
    # About 1 MB each (the heap index); a generous bound for shared machines. (The time it
    # takes is the benchmarks', not a test's.)
    before = resident_bytes()
    regs = [j.Registry() for _ in range(40)]
    grown = resident_bytes() - before
    assert len(regs) == 40
    if sys.platform == "linux":
        assert grown < 40 * 2_000_000, f"40 registries took {grown} bytes"


# ---- one registry, many threads ---------------------------------------------------------------


@pytest.mark.parametrize("call", ["snapshot", "pickle"])
def test_a_snapshot_lets_other_threads_run_while_it_encodes(call):
    import pickle

    things = [f"t{i}" for i in range(200)]
    reg = registry(things, max_events=None)
    for n in range(100):
        reg.create_job(f"job-{n}", [], 0, members=things)  # 20,000 executions: some ms to encode
    ticks, running, started = [0], [True], threading.Event()

    def ticker() -> None:
        started.set()
        while running[0]:
            ticks[0] += 1
            time.sleep(0)  # gives the GIL back at once

    # With a 10 s switch interval, the ticker gets the GIL only when this thread gives it up.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(10)
    t = threading.Thread(target=ticker)
    try:
        t.start()
        started.wait()
        # The ticker needs a core as well as the GIL: on a loaded machine one encoding may end
        # before the OS runs it, so a few are tried. Held across the encoding, the GIL would
        # keep it out of every one.
        for _ in range(20):
            before = ticks[0]
            out = reg.snapshot() if call == "snapshot" else pickle.dumps(reg)
            during = ticks[0] - before
            if during:
                break
    finally:
        running[0] = False
        t.join()
        sys.setswitchinterval(interval)
    assert out and during > 0, "the ticker never ran while the snapshot was encoded"


def test_a_registry_shared_by_threads_without_a_lock_gives_the_sequential_result():
    jobs, per_thread, workers = 5, 6, 8
    things = [[f"w{w}-{k}" for k in range(per_thread)] for w in range(workers)]
    every = [t for ts in things for t in ts]
    reg = registry(every, max_events=10**6)  # never drained here
    for n in range(jobs):
        reg.create_job(f"job-{n}", every, 0)
    errors: list = []
    done = threading.Event()

    def device(w: int) -> None:
        try:
            now = 1
            for t in things[w]:
                while (started := reg.start_next(t, now)) is not None:
                    assert started.status is E.IN_PROGRESS
                    state = reg.update_execution(started.job_id, t, "SUCCEEDED", now + 1)
                    assert state == (E.SUCCEEDED, 3)
                    now += 2
        except BaseException as e:  # noqa: BLE001 - every failure is reported below
            errors.append(e)

    def reader() -> None:
        try:
            while not done.is_set():
                for n in range(jobs):
                    page, _ = reg.list_for_job(f"job-{n}", max_results=1000)
                    assert len(page) == len(every)
                assert len(reg.jobs()) == jobs
                reg.pending(every[0])
                repr(reg)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=device, args=(w,)) for w in range(workers)]
        readers = [threading.Thread(target=reader) for _ in range(2)]
        for t in threads + readers:
            t.start()
        for t in threads:
            t.join(60)
        done.set()
        for t in readers:
            t.join(60)
    finally:
        sys.setswitchinterval(old)
    assert errors == []
    # The sequential model: every execution SUCCEEDED at version 3, every job COMPLETED.
    for n in range(jobs):
        job = reg.job(f"job-{n}")
        assert job.status is J.COMPLETED and job.process_details["SUCCEEDED"] == len(every)
        page, _ = reg.list_for_job(f"job-{n}", max_results=1000)
        assert {(x.thing_name, x.status, x.version_number) for x in page} == {(t, E.SUCCEEDED, 3) for t in every}
    assert all(reg.pending(t) == [] for t in every)


# ---- isConcurrent and thing-group members -------------------------------------------------------


def test_job_view_has_is_concurrent(reg):
    reg.create_job("plain", ["a"], 0)
    assert reg.job("plain").is_concurrent is False
    reg.create_job("paced", ["a", "b"], 0, maximum_per_minute=1)  # one batch a minute
    assert reg.job("paced").is_concurrent is True
    reg.advance(60)
    assert reg.job("paced").is_concurrent is False  # every target reached


def test_a_continuous_job_of_a_150_thing_group_rolls_out_to_every_member():
    group = [f"g{i}" for i in range(150)]
    reg = registry(group)
    reg.create_job("fleet", [], 0, members=[], target_selection="CONTINUOUS")  # an empty group
    assert reg.add_members("fleet", group[:120], 1) == 120
    assert reg.add_members("fleet", group[100:], 2) == 30  # members with one pending get none
    page, _ = reg.list_for_job("fleet", max_results=1000)
    assert sorted(x.thing_name for x in page) == sorted(group)
    assert reg.job("fleet").process_details["QUEUED"] == 150
    # AssociateTargetsWithJob counts each thing toward the 100 targets; members do not.
    other = registry(group)
    other.create_job("fleet", [], 0, members=[], target_selection="CONTINUOUS")
    with pytest.raises(j.LimitExceededException):
        other.add_targets("fleet", group, 1)
    with pytest.raises(j.ResourceNotFoundException) as info:
        reg.add_members("nope", group[:1], 3)
    assert info.value.resource_id == "nope"


# ---- errors name the resource -------------------------------------------------------------------


def test_not_found_and_already_exists_name_the_resource(reg):
    reg.create_job("j1", ["a"], 0)
    with pytest.raises(j.ResourceNotFoundException) as info:
        reg.job("j2")
    assert (info.value.message, info.value.resource_id) == ("the job j2 does not exist", "j2")
    with pytest.raises(j.ResourceAlreadyExistsException) as exists:
        reg.create_job("j1", ["a"], 1)
    assert (exists.value.message, exists.value.resource_id) == ("the job j1 already exists", "j1")
    with pytest.raises(j.ResourceNotFoundException) as execution:
        reg.describe_execution("j1", "b")
    assert execution.value.resource_id == "j1/b"
    assert execution.value.message == "the job execution of job j1 on thing b does not exist"
    # Of several things given, the one the registry does not know.
    for call in (lambda: reg.add_members("j1", ["a", "ghost"], 1), lambda: reg.create_job("j3", ["a", "ghost"], 1)):
        with pytest.raises(j.ResourceNotFoundException) as thing:
            call()
        assert (thing.value.message, thing.value.resource_id) == ("the thing ghost does not exist", "ghost")
    # A refusal of another kind, and an exception the host makes, have none.
    with pytest.raises(j.InvalidStateTransitionException) as other:
        reg.update_execution("j1", "a", "QUEUED", 2)
    assert other.value.resource_id is None
    assert j.ResourceNotFoundException("no job").resource_id is None


def test_the_things_of_target_groups_are_members_not_targets():
    # A job created for a thing and a group of 150: every thing gets an execution, 1 target
    # counts; a later member joins, and AssociateTargetsWithJob of a thing and another group's
    # things is one change within the 100.
    group = [f"g{i}" for i in range(150)]
    more = [f"h{i}" for i in range(120)]
    reg = registry(["solo", "late", "other", *group, *more])
    reg.create_job("fleet", ["solo"], 0, members=group, target_selection="CONTINUOUS")
    assert reg.job("fleet").targets == 1
    assert reg.job("fleet").process_details["QUEUED"] == 151
    assert reg.add_members("fleet", ["late"], 1) == 1
    assert reg.add_targets("fleet", ["other"], 2, members=more) == 121
    assert reg.job("fleet").targets == 2
    # Refused whole: 99 more things named would be 101 targets.
    named = [f"n{i}" for i in range(99)]
    for n in named:
        reg.add_thing(n)
    queued = reg.job("fleet").process_details["QUEUED"]
    with pytest.raises(j.LimitExceededException):
        reg.add_targets("fleet", named, 3, members=["late"])
    assert (reg.job("fleet").targets, reg.job("fleet").process_details["QUEUED"]) == (2, queued)
