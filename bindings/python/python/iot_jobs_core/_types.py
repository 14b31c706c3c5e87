"""Statuses, planes and small value types, in Python idiom.

The enums are ``str`` subclasses whose values are the wire strings, so a member can be passed
wherever the service's JSON carries the string, and a plain wire string is accepted wherever a
member is. Their predicates (``is_terminal``...) are answered by the Rust core.
"""

from __future__ import annotations

import enum
from typing import NamedTuple, Optional

from . import _native


class JobStatus(str, enum.Enum):
    """A job's status (SPEC §2)."""

    IN_PROGRESS = "IN_PROGRESS"
    CANCELED = "CANCELED"
    COMPLETED = "COMPLETED"
    DELETION_IN_PROGRESS = "DELETION_IN_PROGRESS"
    SCHEDULED = "SCHEDULED"

    def __str__(self) -> str:
        return self.value

    @property
    def is_terminal(self) -> bool:
        """CANCELED or COMPLETED: DeleteJob needs no force."""
        return self._terminal  # type: ignore[attr-defined, no-any-return]


class ExecutionStatus(str, enum.Enum):
    """A job execution's status (SPEC 3.1)."""

    QUEUED = "QUEUED"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    REJECTED = "REJECTED"
    REMOVED = "REMOVED"
    CANCELED = "CANCELED"

    def __str__(self) -> str:
        return self.value

    @property
    def is_terminal(self) -> bool:
        """Neither QUEUED nor IN_PROGRESS: it never changes again."""
        return self._flags[0]  # type: ignore[attr-defined, no-any-return]

    @property
    def is_pending(self) -> bool:
        """QUEUED or IN_PROGRESS: listed by GetPendingJobExecutions and StartNext."""
        return self._flags[1]  # type: ignore[attr-defined, no-any-return]

    @property
    def is_retriable(self) -> bool:
        """A retry configuration can retry an execution that ends in this status (SPEC T12)."""
        return self._flags[2]  # type: ignore[attr-defined, no-any-return]

    @property
    def is_device_settable(self) -> bool:
        """A device may request it with UpdateJobExecution (SPEC R9)."""
        return self._flags[3]  # type: ignore[attr-defined, no-any-return]


# The predicates are asked of the core once per member, when the module is imported.
for _m in JobStatus:
    _m._terminal = _native.job_status_is_terminal(_m.value)  # type: ignore[attr-defined]
for _e in ExecutionStatus:
    _e._flags = _native.execution_status_flags(_e.value)  # type: ignore[attr-defined]
del _m, _e


class TargetSelection(str, enum.Enum):
    """A job's ``targetSelection``."""

    SNAPSHOT = "SNAPSHOT"
    CONTINUOUS = "CONTINUOUS"

    def __str__(self) -> str:
        return self.value


class Plane(str, enum.Enum):
    """The AWS API a request came through: the same rejection has different HTTP shapes."""

    CONTROL = "control"
    """Service ``iot`` (CreateJob, DeleteJob, CancelJobExecution, ...)."""
    DATA = "data"
    """Service ``iot-jobs-data`` over HTTPS, or the MQTT jobs topics."""

    def __str__(self) -> str:
        return self.value


class ExecutionState(NamedTuple):
    """An execution's status and version: what a refused device request resyncs from."""

    status: ExecutionStatus
    version: int


class CancelJobOutcome(NamedTuple):
    """What an accepted CancelJob does."""

    scope: str
    """``"QUEUED"`` (without force) or ``"QUEUED_AND_IN_PROGRESS"`` (with force)."""
    force_canceled: bool
    """The job's ``forceCanceled`` after the call."""


class Advanced(NamedTuple):
    """What :meth:`Registry.advance` did."""

    work: int
    """Units of work done (one per timer, deletion step or schedule event)."""
    more: bool
    """More is due at the same ``now`` (only when a budget was given and spent)."""


class RetriesUsed(NamedTuple):
    """The retries one (job, thing) has used, per failure type (SPEC §6 Retries)."""

    failed: int = 0
    timed_out: int = 0


class Retry(NamedTuple):
    """A retry the rules grant: a new QUEUED execution of the same (job, thing) (SPEC T12)."""

    failure: str
    """The ended execution's failure: ``"FAILED"`` or ``"TIMED_OUT"``."""
    criterion: str
    """The criterion that grants it: the one for ``failure``, else the one for ``"ALL"``."""
    used: RetriesUsed
    """The retries used once this one is counted (store them)."""


class AbortCriterion(NamedTuple):
    """An abort criterion (SPEC §6 Abort), as ``abort=[...]`` gives it."""

    failure: str
    """``"FAILED"``, ``"REJECTED"``, ``"TIMED_OUT"`` or ``"ALL"``."""
    threshold_centipercent: int
    """``thresholdPercentage`` in hundredths of a percent (0–10000)."""
    min_executed: int
    """``minNumberOfExecutedThings``."""


class ScheduleEvent(NamedTuple):
    """What a job's schedule does at one instant (SPEC §2, §6 Scheduling, AMBIG-12)."""

    start: bool
    """SCHEDULED → IN_PROGRESS: QUEUED executions are listed again and the rollout goes on."""
    batch: bool
    """The next batch of the rollout goes out (only when the job does not start now)."""
    end: Optional[str]
    """The end is applied with this ``endBehavior`` (``"STOP_ROLLOUT"``, ``"CANCEL"``,
    ``"FORCE_CANCEL"``), or ``None``."""
    window: Optional[str] = None
    """A maintenance window opens (``"OPEN"``: SCHEDULED → IN_PROGRESS) or closes (``"CLOSE"``:
    IN_PROGRESS → SCHEDULED) for the job, or ``None`` (AMBIG-13, AMBIG-28)."""


class WindowAt(NamedTuple):
    """Whether a job's maintenance windows are open at an instant, and until when (AMBIG-26)."""

    open: bool
    """Some window is open."""
    recheck: Optional[int]
    """The earliest later instant at which ``open`` may change; ``None`` when no window runs
    or starts again."""



class Ramp(NamedTuple):
    """Where an exponential rollout stands (SPEC §6 Rollout, AMBIG-29)."""

    rate_milli: int = 0
    """The rate in thousandths of a thing a minute; 0 before the first batch."""
    notified: int = 0
    """Things the rollout notified (executions its batches queued)."""
    notified_mark: int = 0
    """``notified`` at the last increase (plus the criterion for each further one)."""
    succeeded_mark: int = 0
    """The job's SUCCEEDED executions at the last increase (likewise)."""


class NotifyTopics(NamedTuple):
    """The topics a change of a thing's executions is published on (SPEC R15, R20, AMBIG-27)."""

    notify: bool
    """``$aws/things/T/jobs/notify``."""
    notify_next: bool
    """``$aws/things/T/jobs/notify-next``."""
    notify_namespace: bool
    """``$aws/things/T/jobs/notify-namespace-NS``."""
    notify_next_namespace: bool
    """``$aws/things/T/jobs/notify-next-namespace-NS``."""
