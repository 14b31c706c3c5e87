"""What a :class:`~iot_jobs_core.Registry` returns: events to deliver and read-only views.

All are frozen dataclasses (readable ``repr``, comparable, hashable where their members are).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional

from ._types import ExecutionStatus, JobStatus, TargetSelection


@dataclass(frozen=True)
class Notify:
    """Publish ``$aws/things/{thing}/jobs/notify``: the thing's pending list changed (SPEC R15).
    Render :meth:`Registry.pending` into the payload."""

    thing: str


@dataclass(frozen=True)
class NotifyNext:
    """Publish ``$aws/things/{thing}/jobs/notify-next``: the head of its pending list changed.
    Render :meth:`Registry.next_pending` into the payload."""

    thing: str


@dataclass(frozen=True)
class NotifyNamespace:
    """Publish ``$aws/things/{thing}/jobs/notify-namespace-{namespace}``: the thing's pending list
    changed through an execution of a job created in ``namespace`` (SPEC R20, AMBIG-27). Render
    :meth:`Registry.pending` with ``namespace=`` into the payload (only that namespace's
    executions)."""

    thing: str
    namespace: str


@dataclass(frozen=True)
class NotifyNextNamespace:
    """Publish ``$aws/things/{thing}/jobs/notify-next-namespace-{namespace}``: the head of the
    thing's pending list changed through an execution of a job created in ``namespace`` (SPEC
    R20, AMBIG-27). Render :meth:`Registry.next_pending` with ``namespace=`` into the payload."""

    thing: str
    namespace: str


@dataclass(frozen=True)
class JobChanged:
    """A job lifecycle event (SPEC 7.4), ``$aws/events/job/{job}/{event}``."""

    job: str
    event: str
    """``completed``, ``canceled``, ``deleted``, ``cancellation_in_progress`` or
    ``deletion_in_progress``."""


@dataclass(frozen=True)
class ExecutionChanged:
    """An execution lifecycle event (SPEC 7.4), ``$aws/events/jobExecution/{job}/{event}``."""

    job: str
    thing: str
    number: int
    event: str
    """``succeeded``, ``failed``, ``rejected``, ``canceled``, ``timed_out``, ``removed`` or
    ``deleted``."""


@dataclass(frozen=True)
class Execution:
    """One job execution as the registry stores it (``JobExecution`` of the APIs)."""

    job_id: str
    thing_name: str
    execution_number: int
    status: ExecutionStatus
    version_number: int
    job_status: JobStatus
    job_namespace_id: Optional[str]
    """The namespace its job was created in (``namespaceId`` of CreateJob), if any."""
    queued_at: int
    started_at: Optional[int]
    last_updated_at: int
    force_canceled: bool
    retry_attempt: int
    deadline: Optional[int]
    """When its step or in-progress timer fires (seconds), if one runs."""
    status_details: Dict[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Job:
    """One job's lifecycle state (the lifecycle members of ``DescribeJob``)."""

    job_id: str
    status: JobStatus
    target_selection: TargetSelection
    namespace_id: Optional[str]
    created_at: int
    last_updated_at: int
    completed_at: Optional[int]
    reason_code: Optional[str]
    force_canceled: bool
    targets: int
    is_concurrent: bool
    """``isConcurrent``: the job still rolls out new executions (a paced rollout between batches,
    a schedule or maintenance window it waits for) or, DELETION_IN_PROGRESS, still has executions
    to take away (SPEC §2 job facts)."""
    process_details: Dict[str, int] = field(default_factory=dict, hash=False)
    """Executions per status, keyed by the wire status (``numberOf<Status>Things``)."""


__all__ = ["Notify", "NotifyNext", "NotifyNamespace", "NotifyNextNamespace", "JobChanged", "ExecutionChanged", "Execution", "Job"]
