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
ERRORS: List[Row] = table("ERRORS")
