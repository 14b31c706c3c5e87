"""Every exposed decision against the core's conformance tables.

The rows come from ``iot_jobs_core.conformance``, which reads the Rust constants
(``iot_jobs_core::conformance``): the same data the crate's own tests check the rules against.
Each test calls the Python-exposed decision for every row and compares the answer, exception
name, HTTP status and MQTT code with the row.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

import pytest

import iot_jobs_core as j
from iot_jobs_core import conformance as c

ERRORS_BY_KIND = {row["rejection"]: row for row in c.ERRORS}


def answer(call: Callable[[], Any]) -> Tuple[Optional[Tuple[str, int]], Any]:
    """Runs a decision: ``(None, result)`` when accepted, ``((name, http), exc)`` when refused."""
    try:
        return None, call()
    except j.JobsError as e:
        return (e.exception_name, e.http_status()), e


def check_error_shape(e: j.JobsError) -> None:
    """The exception's shapes on both planes and its MQTT code are the ERRORS row of its kind."""
    row = ERRORS_BY_KIND[e.kind]
    assert e.exception_name_on(j.Plane.CONTROL) == row["control_name"]
    assert e.http_status(j.Plane.CONTROL) == row["control_http"]
    assert e.exception_name_on(j.Plane.DATA) == row["data_name"]
    assert e.http_status(j.Plane.DATA) == row["data_http"]
    assert e.mqtt_code == row["mqtt"]
    assert type(e).exception_name == e.exception_name


# The core's conformance module, in this repository: `pub const NAME: [Row; N]` is a table,
# any other `pub const` a constant.
CORE_CONFORMANCE = Path(__file__).resolve().parents[3] / "src" / "conformance"
CORE_CONST = re.compile(r"^pub const ([A-Z][A-Z0-9_]*): (\[[A-Za-z]+; (\d+)\]|[^=\[]+) =", re.MULTILINE)
# A constant the module gives inside a table's rows rather than on its own.
IN_ROWS = {"COMPLETES_FROM": "JOB_COMPLETION"}


def core_conformance() -> Tuple[Dict[str, int], set]:
    """The core's tables (name -> rows) and constants, read from its source."""
    files = sorted(CORE_CONFORMANCE.glob("*.rs"))
    assert files, f"the core's conformance module is not at {CORE_CONFORMANCE}"
    tables: Dict[str, int] = {}
    constants = set()
    for f in files:
        for m in CORE_CONST.finditer(f.read_text(encoding="utf-8")):
            if m.group(3) is not None:
                tables[m.group(1)] = int(m.group(3))
            else:
                constants.add(m.group(1))
    return tables, constants


def test_the_module_exposes_every_table_and_constant_of_the_core():
    """A table or constant the core adds fails here by name until the module exposes it."""
    tables, constants = core_conformance()
    assert len(tables) >= 40, sorted(tables)  # the parse found the module's tables
    missing = sorted(set(tables) - set(c.TABLES))
    assert not missing, f"the core has conformance tables the module does not expose: {missing}"
    unknown = sorted(set(c.TABLES) - set(tables))
    assert not unknown, f"the module lists tables the core does not have: {unknown}"
    for name, rows in tables.items():
        assert len(c.table(name)) == rows, name
    exposed = set(dict(j._native.conformance_constants())) | set(IN_ROWS)
    missing = sorted(constants - exposed)
    assert not missing, f"the core has conformance constants the module does not expose: {missing}"
    assert exposed <= constants, sorted(exposed - constants)
    assert [r["job"] for r in c.JOB_COMPLETION] == ["IN_PROGRESS"] * len(c.JOB_COMPLETION)


# The core's decisions: every `pub fn` (or `pub const fn`) of `src/rules/`.
CORE_RULES = Path(__file__).resolve().parents[3] / "src" / "rules"
CORE_FN = re.compile(r"^pub (?:const )?fn ([a-z_0-9]+)", re.MULTILINE)


def test_the_module_exposes_every_decision_of_the_core():
    """A rule function the core adds fails here by name until the module exposes it."""
    files = sorted(CORE_RULES.glob("*.rs"))
    assert files, f"the core's rules module is not at {CORE_RULES}"
    names = {m.group(1) for f in files for m in CORE_FN.finditer(f.read_text(encoding="utf-8"))}
    assert len(names) >= 50, sorted(names)  # the parse found the module's functions
    missing = sorted(n for n in names if not callable(getattr(j, n, None)))
    assert not missing, f"the core has decisions the module does not expose: {missing}"


@pytest.mark.parametrize("row", c.JOB_EVENT_STATUS, ids=lambda r: r["event"])
def test_job_event_status(row):
    assert j.job_event_status(row["event"]) == row["status"], row["spec"]


def test_job_event_status_refuses_an_unknown_event():
    with pytest.raises(ValueError, match="not a job event"):
        j.job_event_status("finished")


@pytest.mark.parametrize("row", c.NAMESPACE_PAYLOAD, ids=lambda r: f'{r["job_namespace"]}-{r["topic_namespace"]}')
def test_listed_in_namespace(row):
    assert j.listed_in_namespace(row["job_namespace"], row["topic_namespace"]) is row["listed"], row["spec"]


def test_job_targets():
    assert j.job_targets(1) is None and j.job_targets(100) is None
    with pytest.raises(j.InvalidRequestException):
        j.job_targets(0)
    with pytest.raises(j.LimitExceededException):
        j.job_targets(101)


def test_every_table_is_exposed_and_not_empty():
    for name in c.TABLES:
        assert getattr(c, name) == c.table(name), name
        assert c.table(name), name
    with pytest.raises(KeyError):
        c.table("NO_SUCH_TABLE")


def test_enums_match_the_core_statuses_in_order():
    assert [s.value for s in j.JobStatus] == list(j._native.job_statuses())
    assert [s.value for s in j.ExecutionStatus] == list(j._native.execution_statuses())


@pytest.mark.parametrize("row", c.JOB_STATUSES, ids=lambda r: r["status"])
def test_job_statuses(row):
    assert j.JobStatus(row["status"]).is_terminal is row["terminal"]


@pytest.mark.parametrize("row", c.EXECUTION_STATUSES, ids=lambda r: r["status"])
def test_execution_statuses(row):
    s = j.ExecutionStatus(row["status"])
    assert (s.is_terminal, s.is_pending, s.is_device_settable, s.is_retriable) == (
        row["terminal"],
        row["pending"],
        row["device_settable"],
        row["retriable"],
    )
    assert j.pending_rank(s) == ({"IN_PROGRESS": 0, "QUEUED": 1}.get(s.value) if row["pending"] else None)


@pytest.mark.parametrize("row", c.CANCEL_JOB, ids=lambda r: f'{r["job"]}-force{r["force"]}')
def test_cancel_job(row):
    refused, out = answer(lambda: j.cancel_job(row["job"], force=row["force"]))
    assert refused == row["outcome"]
    if refused is None:
        assert out.force_canceled is row["force_canceled"]
        cancelled = [s.value for s in j.ExecutionStatus if j.cancel_job_execution_effect(s, out.scope) is not None]
        assert cancelled == row["cancels"]
    else:
        check_error_shape(out)
        assert out.kind == "InvalidRequest"


@pytest.mark.parametrize("row", c.CANCEL_JOB_EFFECT, ids=lambda r: f'{r["status"]}-force{r["force"]}')
def test_cancel_job_effect(row):
    scope = "QUEUED_AND_IN_PROGRESS" if row["force"] else "QUEUED"
    becomes = j.cancel_job_execution_effect(row["status"], scope)
    assert (None if becomes is None else becomes.value) == row["becomes"]


@pytest.mark.parametrize("row", c.DELETE_JOB, ids=lambda r: f'{r["job"]}-force{r["force"]}-{r["deleting"]}')
def test_delete_job(row):
    refused, out = answer(lambda: j.delete_job(row["job"], force=row["force"], deleting=row["deleting"]))
    assert refused == row["outcome"]
    if refused is not None:
        check_error_shape(out)


@pytest.mark.parametrize("row", c.DELETE_JOB_EXECUTION, ids=lambda r: f'{r["status"]}-force{r["force"]}')
def test_delete_job_execution(row):
    refused, out = answer(lambda: j.delete_execution(row["status"], 4, force=row["force"]))
    assert refused == row["outcome"]
    if refused is not None:
        check_error_shape(out)
        assert out.execution_state == j.ExecutionState(j.ExecutionStatus(row["status"]), 4)


@pytest.mark.parametrize("row", c.CANCEL_JOB_EXECUTION, ids=lambda r: f'{r["status"]}-force{r["force"]}')
def test_cancel_job_execution(row):
    refused, out = answer(lambda: j.cancel_execution(row["status"], 2, force=row["force"]))
    assert refused == row["outcome"]
    if refused is None:
        assert out is row["force"]
    else:
        check_error_shape(out)
        assert out.execution_state.status.value == row["status"]


@pytest.mark.parametrize("row", c.UPDATE_JOB_EXECUTION, ids=lambda r: r["current"])
def test_update_job_execution(row):
    assert list(row["requested"]) == [s.value for s in j.ExecutionStatus]
    for requested, to in row["requested"].items():
        for expected in (None, 7):
            refused, out = answer(lambda: j.update_execution(row["current"], 7, requested, expected_version=expected))
            if to is None:
                assert refused == ("InvalidStateTransitionException", 409), (requested, expected)
                check_error_shape(out)
                assert out.mqtt_code == "InvalidStateTransition"
                assert out.execution_state == (j.ExecutionStatus(row["current"]), 7)
            else:
                assert refused is None, (requested, out)
                assert out is j.ExecutionStatus(to)


@pytest.mark.parametrize("row", c.VERSION_CHECKS, ids=lambda r: f'{r["operation"]}-{r["expected"]}')
def test_version_checks(row):
    stored = 5
    expected = stored if row["expected"] == "absent or equal" else stored + 1
    if row["operation"] == "UpdateJobExecution":
        call = lambda: j.update_execution("IN_PROGRESS", stored, "SUCCEEDED", expected_version=expected)  # noqa: E731
    else:
        assert row["operation"] == "CancelJobExecution"
        call = lambda: j.cancel_execution("QUEUED", stored, expected_version=expected)  # noqa: E731
    refused, out = answer(call)
    if row["control"] is None:
        assert refused is None
        return
    assert isinstance(out, j.JobsError) and out.kind == "VersionMismatch"
    assert (out.exception_name_on(j.Plane.CONTROL), out.http_status(j.Plane.CONTROL)) == row["control"]
    assert (out.exception_name_on(j.Plane.DATA), out.http_status(j.Plane.DATA)) == row["data"]
    assert out.mqtt_code == row["mqtt"]
    assert out.execution_state.version == stored
    check_error_shape(out)


@pytest.mark.parametrize("row", c.DESCRIBE_JOB_EXECUTION, ids=lambda r: r["status"])
def test_describe_job_execution(row):
    for plane, key in ((j.Plane.CONTROL, "control"), (j.Plane.DATA, "data")):
        refused, out = answer(lambda: j.describe_execution(row["status"], 3, plane))
        assert refused == row[key], plane
        if refused is not None:
            check_error_shape(out)


@pytest.mark.parametrize("row", c.START_NEXT, ids=lambda r: str(r["head"]))
def test_start_next(row):
    effect = j.start_next(row["head"], 1)
    expected = {None: "NOTHING", "QUEUED": "START", "IN_PROGRESS": "RESUME"}[row["head"]]
    assert effect == expected
    if row["becomes"] is not None:
        assert {"START": "IN_PROGRESS", "RESUME": "IN_PROGRESS"}[effect] == row["becomes"]


def test_start_next_refuses_a_terminal_head():
    with pytest.raises(j.InvalidStateTransitionException):
        j.start_next("SUCCEEDED", 1)


@pytest.mark.parametrize("row", c.REMOVE_TARGET, ids=lambda r: r["status"])
def test_remove_target(row):
    becomes = j.remove_target(row["status"])
    assert (None if becomes is None else becomes.value) == row["becomes"]


@pytest.mark.parametrize("row", c.REMOVE_THING_JOB, ids=lambda r: r["job"])
def test_remove_thing(row):
    for status in j.ExecutionStatus:
        expected = j.remove_target(status) if row["applies"] else None
        assert j.remove_thing(row["job"], status) == expected


@pytest.mark.parametrize("row", c.JOB_HOLDS, ids=lambda r: f'{r["job"]}-{r["force_canceled"]}')
def test_job_holds(row):
    for status in j.ExecutionStatus:
        assert j.job_holds(row["job"], row["force_canceled"], status) is (status.value in row["holds"])


@pytest.mark.parametrize("row", c.JOB_COMPLETION, ids=lambda r: f'{r["selection"]}-{r["all_terminal"]}-{r["end_passed"]}')
def test_job_completion(row):
    for job in j.JobStatus:
        completes = j.job_completes(job, row["selection"], row["all_terminal"], row["end_passed"])
        assert completes is (row["completes"] if job.value == row["job"] else False)


@pytest.mark.parametrize("row", c.DEVICE_ACCESS, ids=lambda r: f'{r["job"]}-{r["plane"]}')
def test_device_access(row):
    refused, out = answer(lambda: j.device_access(row["job"], row["plane"]))
    assert refused == row["outcome"]
    if refused is not None:
        check_error_shape(out)


@pytest.mark.parametrize("row", c.UNKNOWN_THING, ids=lambda r: r["unknown_thing"])
def test_unknown_thing(row):
    refused, out = answer(lambda: j.unknown_thing(j.Policy(unknown_thing=row["unknown_thing"])))
    assert refused == row["outcome"]


@pytest.mark.parametrize("row", c.QUEUE_ON_REJOIN, ids=lambda r: str(r["newest"]))
def test_queue_on_rejoin(row):
    got = j.queue_on_rejoin(row["newest"])
    assert got == row["queues"]
    assert got is None or got == j.RetriesUsed(0, 0)


@pytest.mark.parametrize("row", c.NOTIFY, ids=lambda r: f'{r["notify_on"]}-{r["was_listed"]}{r["now_listed"]}{r["status_changed"]}')
def test_notify(row):
    policy = j.Policy(notify_on=row["notify_on"])
    assert j.notifies(row["was_listed"], row["now_listed"], row["status_changed"], policy) is row["notifies"]


def test_errors_table_names_every_kind_the_module_raises():
    kinds = {row["rejection"] for row in c.ERRORS}
    assert {"InvalidField", "InvalidRequest", "NotFound", "AlreadyExists", "InvalidStateTransition",
            "VersionMismatch", "LimitExceeded", "TerminalState", "Throttled", "CapacityExhausted",
            "LogicBug"} == kinds
    names = {row["control_name"] for row in c.ERRORS} | {row["data_name"] for row in c.ERRORS}
    for name in names:
        assert getattr(j, name).exception_name == name
        assert issubclass(getattr(j, name), j.JobsError)


def test_each_job_event_reports_the_status_it_is_named_for():
    # $aws/events/job/J/<event>: the payload's status is the event's name in capitals, two of
    # them (CANCELLATION_IN_PROGRESS, DELETED) strings that are no JobStatus.
    events = [r["event"] for r in c.JOB_EVENT_STATUS]
    assert sorted(events) == ["canceled", "cancellation_in_progress", "completed", "deleted", "deletion_in_progress"]
    for r in c.JOB_EVENT_STATUS:
        assert r["status"] == r["event"].upper(), r
        assert r["spec"].startswith("SPEC 7.4"), r
