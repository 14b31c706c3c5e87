"""Statuses, planes and small value types, in Python idiom.

The enums are ``str`` subclasses whose values are the wire strings, so a member can be passed
wherever the service's JSON carries the string, and a plain wire string is accepted wherever a
member is. Their predicates (``is_terminal``...) are answered by the Rust core.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

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


