"""The core's conformance tables (``iot_jobs_core::conformance``), as lists of dicts.

Each table is read from the Rust constants when this module is imported: the rows are the same
data the crate's own tests check the rules against, not a copy. Statuses are wire strings; an
``outcome`` is ``None`` when the request is accepted, else ``(exception_name, http_status)``.
"""

from __future__ import annotations

from typing import Any, Dict, List

from . import _native

Row = Dict[str, Any]

TABLES: List[str] = list(_native.conformance_tables())
"""The names of the tables below."""


def table(name: str) -> List[Row]:
    """The rows of the table ``name`` (one of :data:`TABLES`), freshly read from the core."""
    return list(_native.conformance_table(name))


JOB_STATUSES: List[Row] = table("JOB_STATUSES")
EXECUTION_STATUSES: List[Row] = table("EXECUTION_STATUSES")
CANCEL_JOB: List[Row] = table("CANCEL_JOB")
DELETE_JOB: List[Row] = table("DELETE_JOB")
CANCEL_JOB_EFFECT: List[Row] = table("CANCEL_JOB_EFFECT")
DELETE_JOB_EXECUTION: List[Row] = table("DELETE_JOB_EXECUTION")
CANCEL_JOB_EXECUTION: List[Row] = table("CANCEL_JOB_EXECUTION")
UPDATE_JOB_EXECUTION: List[Row] = table("UPDATE_JOB_EXECUTION")
VERSION_CHECKS: List[Row] = table("VERSION_CHECKS")
DESCRIBE_JOB_EXECUTION: List[Row] = table("DESCRIBE_JOB_EXECUTION")
START_NEXT: List[Row] = table("START_NEXT")
REMOVE_TARGET: List[Row] = table("REMOVE_TARGET")
JOB_COMPLETION: List[Row] = table("JOB_COMPLETION")
DEVICE_ACCESS: List[Row] = table("DEVICE_ACCESS")
UNKNOWN_THING: List[Row] = table("UNKNOWN_THING")
QUEUE_ON_REJOIN: List[Row] = table("QUEUE_ON_REJOIN")
NOTIFY: List[Row] = table("NOTIFY")
REMOVE_THING_JOB: List[Row] = table("REMOVE_THING_JOB")
JOB_HOLDS: List[Row] = table("JOB_HOLDS")
"""``holds``: the execution statuses a job in ``job`` (canceled with force or not) may hold."""
ERRORS: List[Row] = table("ERRORS")
POLICY_DELTAS: List[Row] = table("POLICY_DELTAS")
"""The cells the alternative readings of SPEC §R change: ``table`` names the table above,
``row`` the row's index, ``column`` the requested status's index (UPDATE_JOB_EXECUTION)."""
RETRY_JOB: List[Row] = table("RETRY_JOB")
RETRY_FAILURE: List[Row] = table("RETRY_FAILURE")
RETRY_CRITERION: List[Row] = table("RETRY_CRITERION")
ABORT_JOB: List[Row] = table("ABORT_JOB")
ABORT_FAILURES: List[Row] = table("ABORT_FAILURES")
CONCURRENT_JOB: List[Row] = table("CONCURRENT_JOB")
DETAILS_WRITE: List[Row] = table("DETAILS_WRITE")
UPDATE_JOB_CONFIG: List[Row] = table("UPDATE_JOB_CONFIG")
SCHEDULE_BOUNDS: List[Row] = table("SCHEDULE_BOUNDS")
WINDOW: List[Row] = table("WINDOW")
MAINTENANCE_WINDOW: List[Row] = table("MAINTENANCE_WINDOW")
"""``now`` and ``recheck`` are seconds after :data:`WINDOWS_BASE`."""
SCHEDULE_EVENTS: List[Row] = table("SCHEDULE_EVENTS")
END_BEHAVIOR: List[Row] = table("END_BEHAVIOR")
ROLLOUT_REACH: List[Row] = table("ROLLOUT_REACH")
GROUP_JOIN: List[Row] = table("GROUP_JOIN")
"""``join`` is :func:`~iot_jobs_core.group_join`'s answer, ``None`` where it raises."""
GROUP_LEAVE: List[Row] = table("GROUP_LEAVE")
BATCH_ON_START: List[Row] = table("BATCH_ON_START")
TIMER_ON_STATUS: List[Row] = table("TIMER_ON_STATUS")
TEMPLATE_JOB_CONFIG: List[Row] = table("TEMPLATE_JOB_CONFIG")
"""CreateJob from a job template: ``updatable`` is whether the request's member, when given,
replaces the template's (:func:`~iot_jobs_core.job_config_from_template`)."""
WINDOWED_EVENTS: List[Row] = table("WINDOWED_EVENTS")
"""The schedule events of a job with maintenance windows (``schedule_event(..., window=)``)."""
RAMP: List[Row] = table("RAMP")
"""Exponential rollout steps: ``before`` is a :class:`~iot_jobs_core.Ramp`, ``after`` its rate
and two marks (:func:`~iot_jobs_core.ramp_up`, :func:`~iot_jobs_core.ramp_batch`)."""
NOTIFY_TOPICS: List[Row] = table("NOTIFY_TOPICS")
NAMESPACE_PAYLOAD: List[Row] = table("NAMESPACE_PAYLOAD")
JOB_EVENT_STATUS: List[Row] = table("JOB_EVENT_STATUS")

_CONSTANTS: Dict[str, int] = dict(_native.conformance_constants())
DETAILS_MAX_PAIRS: int = _CONSTANTS["DETAILS_MAX_PAIRS"]
"""Most pairs in a stored statusDetails map after a write (SPEC R14, AMBIG-16)."""
RETRY_MAX_TOTAL: int = _CONSTANTS["RETRY_MAX_TOTAL"]
"""Most retries per (job, thing) over every criterion (SPEC §6 Retries)."""
WINDOWS_BASE: int = _CONSTANTS["WINDOWS_BASE"]
"""2026-12-01T00:00:00Z, the origin of :data:`MAINTENANCE_WINDOW`'s instants."""
