"""The exceptions: one class per AWS exception shape, under :class:`JobsError`.

A refused decision or registry operation raises the class named after the AWS exception the
operation answers with on its plane (``InvalidStateTransitionException``,
``VersionConflictException``, ...). Every instance carries what a host needs to answer on any
plane: :attr:`JobsError.exception_name`, :meth:`JobsError.http_status`, :attr:`JobsError.mqtt_code`,
:attr:`JobsError.message` and, where the core has it, :attr:`JobsError.execution_state`.
A refused operation changed nothing.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple, Type, Union

from . import _native
from ._types import ExecutionState, ExecutionStatus, Plane


class JobsError(Exception):
    """A request the AWS IoT Jobs rules refuse. Nothing changed."""

    exception_name: str = "JobsError"
    """The AWS exception name on the operation's plane, e.g. ``"InvalidStateTransitionException"``."""
    kind: str
    """The core's ``Rejection`` variant, e.g. ``"VersionMismatch"`` (see the README's table)."""
    message: str
    """What was wrong, in words."""
    mqtt_code: str
    """The MQTT ErrorResponse ``code`` (one of nine, SPEC §4.4). For an exception the core did
    not raise and that was given none, its class's code on the data plane
    (``ResourceNotFoundException("x").mqtt_code == "ResourceNotFound"``; ``VersionMismatch``
    for ``VersionConflictException``, ``RequestThrottled`` for ``ThrottlingException``,
    ``InternalError`` for ``ServiceUnavailableException``, ``TerminalStateReached`` for
    ``TerminalStateException``); ``""`` for the classes only the control plane raises
    (``ResourceAlreadyExistsException``, ``LimitExceededException``) and for ``JobsError``."""
    plane: Plane
    """The plane the operation belongs to (the class follows it)."""
    execution_state: Optional[ExecutionState]
    """The execution's state to resync from (InvalidStateTransition on an execution,
    VersionMismatch); ``None`` otherwise."""
    resource_id: Optional[str]
    """The id of the job or thing (an execution's: ``"job/thing"``) that a registry call was
    given and found missing (``ResourceNotFoundException``) or in use
    (``ResourceAlreadyExistsException``); ``None`` otherwise."""

    def __init__(
        self,
        message: str,
        *,
        kind: str = "",
        mqtt_code: Optional[str] = None,
        plane: Plane = Plane.CONTROL,
        shapes: Optional[Dict[Plane, Tuple[str, int]]] = None,
        execution_state: Optional[ExecutionState] = None,
        resource_id: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.mqtt_code = _class_mqtt_code(type(self)) if mqtt_code is None else mqtt_code
        self.plane = plane
        self._shapes = shapes or {}
        self.execution_state = execution_state
        self.resource_id = resource_id

    def exception_name_on(self, plane: Union[Plane, str]) -> str:
        """The AWS exception name on ``plane``, a :class:`Plane` or its wire string (``"control"``,
        ``"data"``): a version mismatch is ``VersionConflictException`` on the control plane,
        ``InvalidStateTransitionException`` on the data plane (SPEC R13). For an exception the
        core did not raise (``ResourceNotFoundException("x")``), its class's name."""
        return self._shape(Plane(plane))[0]

    def http_status(self, plane: Optional[Union[Plane, str]] = None) -> int:
        """The HTTP status on ``plane``, a :class:`Plane` or its wire string (default: the
        operation's own plane). For an exception the core did not raise
        (``ResourceNotFoundException("x")``), its class's status on that plane (404; a
        ``ThrottlingException`` 400 on the control plane, 429 on the data plane)."""
        return self._shape(Plane(plane if plane is not None else self.plane))[1]

    def _shape(self, plane: Plane) -> Tuple[str, int]:
        shapes = getattr(self, "_shapes", None) or _class_shapes(type(self))
        if plane not in shapes:
            raise NotImplementedError(
                f"{type(self).__name__} is not one of the AWS exception classes (JobsError's "
                "subclasses): it has no exception name or HTTP status; raise one of them"
            )
        return shapes[plane]

    def __repr__(self) -> str:
        state = f", execution_state={self.execution_state!r}" if self.execution_state else ""
        return f"{type(self).__name__}({self.message!r}, kind={self.kind!r}, mqtt_code={self.mqtt_code!r}{state})"


class InvalidRequestException(JobsError):
    """400: a field failed validation, or a well-formed request is not allowed."""

    exception_name = "InvalidRequestException"


class InvalidFieldError(InvalidRequestException, ValueError):
    """A value failed its field's constraint (``JobId("bad!")``); also a ``ValueError``."""

    field: str
    """The field, as the core names it (``"jobId"``, ``"thingName"``, ...)."""
    constraint: str
    """``"empty"``, ``"too_long"``, ``"invalid_character"``, ``"too_many_pairs"``,
    ``"duplicate_key"``, ``"out_of_range"``, ``"not_a_number"``, ``"too_large"``, ``"config"`` or
    ``"unknown_value"`` (the value is none of the names AWS takes for that member)."""
    position: Optional[int]
    """Byte offset of the offending character (``invalid_character``) or index of the repeated
    pair (``duplicate_key``); ``None`` otherwise."""


class ResourceNotFoundException(JobsError):
    """404: the job, thing or execution does not exist (or a device cannot see it)."""

    exception_name = "ResourceNotFoundException"


class ResourceAlreadyExistsException(JobsError):
    """409: CreateJob with a ``jobId`` in use (also while its deletion is in progress)."""

    exception_name = "ResourceAlreadyExistsException"


class InvalidStateTransitionException(JobsError):
    """409: not allowed from the current status (or, on the data plane, a version mismatch)."""

    exception_name = "InvalidStateTransitionException"


class VersionConflictException(JobsError):
    """409: ``expectedVersion`` differs from the stored version (control plane, SPEC R13)."""

    exception_name = "VersionConflictException"


class LimitExceededException(JobsError):
    """410: a documented limit (10 jobs in DELETION_IN_PROGRESS, 100 targets), or a full table
    on the control plane."""

    exception_name = "LimitExceededException"


class ThrottlingException(JobsError):
    """Control 400 / data 429: the event queue is full; drain events and retry."""

    exception_name = "ThrottlingException"


class ServiceUnavailableException(JobsError):
    """503: a full table on the data plane, or a defect of the core (``kind == "LogicBug"``)."""

    exception_name = "ServiceUnavailableException"


class TerminalStateException(JobsError):
    """410: data-plane DescribeJobExecution of a terminal execution (SPEC R11)."""

    exception_name = "TerminalStateException"


_BY_NAME: Dict[str, Type[JobsError]] = {
    cls.exception_name: cls
    for cls in (
        InvalidRequestException,
        ResourceNotFoundException,
        ResourceAlreadyExistsException,
        InvalidStateTransitionException,
        VersionConflictException,
        LimitExceededException,
        ThrottlingException,
        ServiceUnavailableException,
        TerminalStateException,
    )
}


_PLANES = {p.value: p for p in Plane}

# The HTTP status of each AWS exception shape on each plane, from the core (`Exception::ALL`).
_STATUSES: Dict[str, Tuple[int, int]] = {name: (c, d) for name, c, d in _native.exception_statuses()}


def _class_shapes(cls: type) -> Dict[Plane, Tuple[str, int]]:
    """The shapes of an exception of class ``cls`` that the core did not raise: those of the
    first AWS exception class in its MRO (a user's subclass has its base's), else none."""
    for base in cls.__mro__:
        name = base.__dict__.get("exception_name")
        if name in _STATUSES:
            control, data = _STATUSES[name]
            return {Plane.CONTROL: (name, control), Plane.DATA: (name, data)}
    return {}


# The MQTT ErrorResponse code of each exception shape a device can receive (SPEC §4.4, DG-API):
# the data plane's answer for that exception. ResourceAlreadyExists and LimitExceeded are
# control-plane answers only; a full table on the data plane is ServiceUnavailable.
_MQTT_CODES: Dict[str, str] = {
    "InvalidRequestException": "InvalidRequest",
    "ResourceNotFoundException": "ResourceNotFound",
    "InvalidStateTransitionException": "InvalidStateTransition",
    "VersionConflictException": "VersionMismatch",
    "ThrottlingException": "RequestThrottled",
    "ServiceUnavailableException": "InternalError",
    "TerminalStateException": "TerminalStateReached",
}


def _class_mqtt_code(cls: type) -> str:
    """The MQTT code of an exception of class ``cls`` given none: that of the first AWS
    exception class in its MRO with one, else ``""``."""
    for base in cls.__mro__:
        name = base.__dict__.get("exception_name")
        if name in _STATUSES:
            return _MQTT_CODES.get(name, "")
    return ""


def _from_native(
    kind: str,
    message: str,
    plane: str,
    control: Tuple[str, int],
    data: Tuple[str, int],
    mqtt_code: str,
    state: Optional[Tuple[ExecutionStatus, int]],
    field: Optional[Tuple[str, str, Optional[int]]],
    resource_id: Optional[str] = None,
) -> JobsError:
    """Builds the exception for a core ``Rejection`` (called by the extension)."""
    p = _PLANES[plane]
    name = control[0] if p is Plane.CONTROL else data[0]
    cls: Type[JobsError] = InvalidFieldError if field is not None else _BY_NAME.get(name, JobsError)
    exc = cls(
        message,
        kind=kind,
        mqtt_code=mqtt_code,
        plane=p,
        shapes={Plane.CONTROL: control, Plane.DATA: data},
        execution_state=None if state is None else ExecutionState(*state),
        resource_id=resource_id,
    )
    if field is not None:
        exc.field, exc.constraint, exc.position = field  # type: ignore[attr-defined]
    return exc


__all__ = [
    "JobsError",
    "InvalidRequestException",
    "InvalidFieldError",
    "ResourceNotFoundException",
    "ResourceAlreadyExistsException",
    "InvalidStateTransitionException",
    "VersionConflictException",
    "LimitExceededException",
    "ThrottlingException",
    "ServiceUnavailableException",
    "TerminalStateException",
]
