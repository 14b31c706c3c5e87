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

    It names the thing only: render :meth:`Registry.pending` into the payload when you drain
    it, which gives the list as it is *then*, not as it was at the event: a record drained after
    later calls shows the list they left. Drain after each call to publish each call's list;
    the records of one call (several changes in one :meth:`Registry.advance` included) all show
    the list that call left."""

    thing: str


@dataclass(frozen=True)
class NotifyNext:
    """Publish ``$aws/things/{thing}/jobs/notify-next``: the head of its pending list changed.

    It names the thing only: render :meth:`Registry.next_pending` into the payload when you
    drain it, which gives the head as it is then (see :class:`Notify`)."""

    thing: str


@dataclass(frozen=True)
class NotifyNamespace:
    """Publish ``$aws/things/{thing}/jobs/notify-namespace-{namespace}``: the thing's pending list
    changed through an execution of a job created in ``namespace`` (SPEC R20, AMBIG-27). Render
    :meth:`Registry.pending` with ``namespace=`` into the payload (only that namespace's
    executions), when you drain it (see :class:`Notify`)."""

    thing: str
    namespace: str


@dataclass(frozen=True)
class NotifyNextNamespace:
    """Publish ``$aws/things/{thing}/jobs/notify-next-namespace-{namespace}``: the head of the
    thing's pending list changed through an execution of a job created in ``namespace`` (SPEC
    R20, AMBIG-27). Render :meth:`Registry.next_pending` with ``namespace=`` into the payload,
    when you drain it (see :class:`Notify`)."""

    thing: str
    namespace: str


@dataclass(frozen=True)
class JobChanged:
    """A job lifecycle event (SPEC 7.4), ``$aws/events/job/{job}/{event}``.

    ``view`` is the job as of the event, so that the payload can be rendered when the record is
    drained, after the job has changed again or is gone (``deleted``): the job as the call
    that recorded the event left it; in :meth:`Registry.advance`, as the unit of work that
    recorded it left it (one timer with what it sets off, or one execution of a deletion
    removed). For ``deleted``: the job as its removal left it, DELETION_IN_PROGRESS with no
    executions (they are removed before it: ``process_details`` all 0, ``is_concurrent``
    False). Where one call or unit records two events of the job (``cancellation_in_progress`` then
    ``canceled``, from CancelJob, an abort or a schedule's end), both show it as that call left
    it: CANCELED, its executions canceled. The payload's ``status`` is the event's
    (:func:`job_event_status`), not ``view.status``."""

    job: str
    event: str
    """``completed``, ``canceled``, ``deleted``, ``cancellation_in_progress`` or
    ``deletion_in_progress``."""
    view: Optional[Job] = field(default=None, compare=False)
    """The job as of the event (set in every record the registry returns; not compared, so a
    record equals one made by hand from the other members)."""


@dataclass(frozen=True)
class ExecutionChanged:
    """An execution lifecycle event (SPEC 7.4), ``$aws/events/jobExecution/{job}/{event}``.

    ``view`` is the execution as of the event, so that the payload (``status``,
    ``statusDetails``, ...) can be rendered when the record is drained, after the execution has
    changed again or is gone: as the call that recorded the event left it (in
    :meth:`Registry.advance`, as the unit of work that recorded it left it: one timer with what
    it sets off, or one execution of a deletion removed), or, for ``deleted``, as it was just
    before its removal. An execution has at most one lifecycle event in one call or unit, so
    its own members are those of its event; ``view.job_status`` is its job's status at the end
    of that call or unit (a ``timed_out`` that completes the job shows COMPLETED)."""

    job: str
    thing: str
    number: int
    event: str
    """``succeeded``, ``failed``, ``rejected``, ``canceled``, ``timed_out``, ``removed`` or
    ``deleted``."""
    view: Optional[Execution] = field(default=None, compare=False)
    """The execution as of the event (set in every record the registry returns; not compared,
    so a record equals one made by hand from the other members)."""


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
