"""Statuses, validators and Policy in Python idiom."""

from __future__ import annotations

import copy
import functools
import pickle

import pytest

import iot_jobs_core as j


def test_enums_are_their_wire_strings():
    assert j.ExecutionStatus.TIMED_OUT == "TIMED_OUT"
    assert str(j.JobStatus.DELETION_IN_PROGRESS) == "DELETION_IN_PROGRESS"
    assert j.ExecutionStatus("QUEUED") is j.ExecutionStatus.QUEUED
    assert j.ExecutionStatus.QUEUED.is_pending and not j.ExecutionStatus.QUEUED.is_terminal
    assert j.ExecutionStatus.REJECTED.is_device_settable
    assert not j.ExecutionStatus.REMOVED.is_device_settable
    assert j.ExecutionStatus.TIMED_OUT.is_retriable
    assert j.JobStatus.COMPLETED.is_terminal and not j.JobStatus.SCHEDULED.is_terminal
    with pytest.raises(ValueError):
        j.ExecutionStatus("DONE")


def test_decisions_take_members_or_strings_and_return_members():
    assert j.update_execution(j.ExecutionStatus.QUEUED, 1, "IN_PROGRESS") is j.ExecutionStatus.IN_PROGRESS
    assert j.update_execution("QUEUED", 1, j.ExecutionStatus.REJECTED) is j.ExecutionStatus.REJECTED
    assert j.create_job(True) is j.JobStatus.SCHEDULED
    assert j.create_job(False) is j.JobStatus.IN_PROGRESS


@pytest.mark.parametrize(
    "cls, value, constraint, position",
    [
        (j.JobId, "bad!", "invalid_character", 3),
        (j.JobId, "", "empty", None),
        (j.JobId, "x" * 65, "too_long", None),
        (j.ThingName, "pump 7", "invalid_character", 4),
        (j.ThingName, "t" * 129, "too_long", None),
        (j.NamespaceId, "ns:1", "invalid_character", 2),
        (j.ReasonCode, "lower", "invalid_character", 0),
    ],
)
def test_validators_name_the_constraint_and_position(cls, value, constraint, position):
    with pytest.raises(ValueError) as info:
        cls(value)
    e = info.value
    assert isinstance(e, j.InvalidFieldError) and isinstance(e, j.InvalidRequestException)
    assert (e.constraint, e.position) == (constraint, position)
    assert e.http_status() == 400 and e.mqtt_code == "InvalidRequest"
    if position is not None:
        assert f"position {position}" in str(e)


def test_valid_ids():
    a = j.JobId("job_1-A")
    assert (str(a), a.value, repr(a), j.JobId.MAX_LEN) == ("job_1-A", "job_1-A", "JobId('job_1-A')", 64)
    assert a == j.JobId("job_1-A") and hash(a) == hash(j.JobId("job_1-A"))
    assert j.ThingName("dev:1").value == "dev:1" and j.ThingName.MAX_LEN == 128
    assert sorted([j.JobId("b"), j.JobId("a")]) == [j.JobId("a"), j.JobId("b")]


def test_status_details_validation():
    j.validate_status_details({"k": "v"})
    with pytest.raises(j.InvalidFieldError) as info:
        j.validate_status_details({f"k{i}": "v" for i in range(11)})
    assert info.value.constraint == "too_many_pairs"
    with pytest.raises(j.InvalidFieldError):
        j.validate_status_details({"": "v"})


def test_policy_knobs():
    p = j.Policy()
    assert p == j.Policy() and hash(p) == hash(j.Policy())
    assert (p.delete_timed_out_without_force, p.delete_queued_without_force, p.numbering, p.pending_cap) == (
        True,
        False,
        "REUSE_AFTER_DELETE",
        10,
    )
    q = j.Policy(delete_queued_without_force=True, version_bump="DEVICE_UPDATES_ONLY", pending_cap=15)
    assert q != p and q.version_bump == "DEVICE_UPDATES_ONLY" and q.pending_cap == 15
    assert "pending_cap=15" in repr(q)
    with pytest.raises(ValueError, match="numbering"):
        j.Policy(numbering="SOMETIMES")
    with pytest.raises(ValueError, match="pending_cap"):
        j.Policy(pending_cap=12)
    with pytest.raises(TypeError):
        j.Policy(True)  # keyword-only
    with pytest.raises(AttributeError):
        p.numbering = "MONOTONIC"  # frozen


def test_policy_changes_decisions():
    # R2: QUEUED deletes without force under the alternative.
    with pytest.raises(j.InvalidStateTransitionException):
        j.delete_execution("QUEUED", 1)
    j.delete_execution("QUEUED", 1, policy=j.Policy(delete_queued_without_force=True))
    # R9: QUEUED -> SUCCEEDED needs IN_PROGRESS first under the alternative.
    strict = j.Policy(device_may_skip_in_progress=False)
    with pytest.raises(j.InvalidStateTransitionException):
        j.update_execution("QUEUED", 1, "SUCCEEDED", policy=strict)
    # R6, R7.
    assert j.version_after(4, "SERVICE") == 5
    assert j.version_after(4, "SERVICE", j.Policy(version_bump="DEVICE_UPDATES_ONLY")) == 4
    assert j.next_execution_number(None, 7) == 1
    assert j.next_execution_number(2, 7) == 3
    assert j.next_execution_number(2, 7, j.Policy(numbering="MONOTONIC")) == 8


def test_counters_stop_at_the_long_limit():
    with pytest.raises(j.LimitExceededException) as info:
        j.version_after(2**63 - 1, "DEVICE")
    assert info.value.kind == "LimitExceeded"
    with pytest.raises(j.InvalidFieldError):
        j.version_after(2**63, "DEVICE")


def test_merge_details():
    assert j.merge_details({"a": "1", "b": "2"}, {"b": "3"}) == {"b": "3"}
    merged = j.merge_details({"a": "1", "b": "2"}, {"b": "3", "c": "4"}, j.Policy(details_write="MERGE"))
    assert list(merged.items()) == [("a", "1"), ("b", "3"), ("c", "4")]
    with pytest.raises(j.InvalidFieldError) as info:
        j.merge_details({f"k{i}": "v" for i in range(10)}, {"new": "v"}, j.Policy(details_write="MERGE"))
    assert info.value.constraint == "too_many_pairs"


def test_exceptions_pickle_free_attributes():
    try:
        j.cancel_execution("IN_PROGRESS", 3, expected_version=9)
    except j.JobsError as e:
        assert isinstance(e, j.InvalidStateTransitionException)  # status is checked before version
        assert e.plane is j.Plane.CONTROL
        assert "InvalidStateTransitionException" in repr(e)
    with pytest.raises(j.VersionConflictException) as info:
        j.cancel_execution("QUEUED", 3, expected_version=9)
    assert info.value.http_status("data") == 409
    assert info.value.exception_name_on("data") == "InvalidStateTransitionException"
    # Statuses pickle as their enum (used by multiprocessing test runners).
    assert pickle.loads(pickle.dumps(j.ExecutionStatus.FAILED)) is j.ExecutionStatus.FAILED


VALUES = [
    j.JobId("job_1-A"),
    j.ThingName("dev:1"),
    j.NamespaceId("ns-1"),
    j.ReasonCode("FW_BAD"),
    j.Policy(),
    j.Policy(
        delete_timed_out_without_force=False,
        delete_queued_without_force=True,
        force_cancel_escalates=True,
        version_bump="DEVICE_UPDATES_ONLY",
        numbering="MONOTONIC",
        device_may_skip_in_progress=False,
        remove_in_progress=False,
        data_plane_describes_terminal=True,
        pending_cap=15,
        details_write="MERGE",
        notify_on="EVERY_NON_TERMINAL_CHANGE",
        unknown_thing="NOT_FOUND",
    ),
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_value_types_copy_and_pickle_round_trip(value):
    copies = [copy.copy(value), copy.deepcopy(value), copy.deepcopy([value, value])[0]]
    copies += [pickle.loads(pickle.dumps(value, protocol)) for protocol in range(pickle.HIGHEST_PROTOCOL + 1)]
    for c in copies:
        assert type(c) is type(value)
        assert c == value and hash(c) == hash(value) and repr(c) == repr(value)


class Forged:
    """Pickles as the given reduce value: a pickle of a value whose data is bad."""

    def __init__(self, reduced):
        self.reduced = reduced

    def __reduce__(self):
        return self.reduced


@pytest.mark.parametrize(
    "cls, bad",
    [(j.JobId, "bad!"), (j.ThingName, "dev 1"), (j.NamespaceId, "ns:1"), (j.ReasonCode, "lower"), (j.JobId, "")],
)
def test_a_pickled_id_with_a_bad_value_is_refused_on_load(cls, bad):
    func, args = cls("ok1" if cls is not j.ReasonCode else "OK1").__reduce__()
    data = pickle.dumps(Forged((func, (bad,))))
    with pytest.raises(j.InvalidFieldError) as info:
        pickle.loads(data)
    with pytest.raises(j.InvalidFieldError) as direct:
        cls(bad)
    assert (info.value.constraint, info.value.position, str(info.value)) == (
        direct.value.constraint,
        direct.value.position,
        str(direct.value),
    )


@pytest.mark.parametrize("knob, bad", [("pending_cap", 12), ("numbering", "SOMETIMES"), ("notify_on", "ALWAYS")])
def test_a_pickled_policy_with_a_bad_knob_is_refused_on_load(knob, bad):
    func, args = j.Policy().__reduce__()
    forged = functools.partial(func.func, *func.args, **{**func.keywords, knob: bad})
    data = pickle.dumps(Forged((forged, args)))
    with pytest.raises(ValueError, match=knob):
        pickle.loads(data)


# Every AWS exception class and its HTTP status per plane (SPEC 4.1, 4.3, AMBIG-18, AMBIG-19).
STATUSES = {
    j.InvalidRequestException: (400, 400),
    j.InvalidFieldError: (400, 400),
    j.ResourceNotFoundException: (404, 404),
    j.ResourceAlreadyExistsException: (409, 409),
    j.InvalidStateTransitionException: (409, 409),
    j.VersionConflictException: (409, 409),
    j.LimitExceededException: (410, 410),
    j.ThrottlingException: (400, 429),
    j.ServiceUnavailableException: (503, 503),
    j.TerminalStateException: (410, 410),
}


def test_every_exception_class_is_listed():
    classes = {getattr(j.errors, n) for n in j.errors.__all__}
    assert classes - {j.JobsError} == set(STATUSES)


@pytest.mark.parametrize("cls", list(STATUSES), ids=lambda c: c.__name__)
def test_an_exception_a_user_raises_answers_its_class_s_shape(cls):
    # A test double raises ResourceNotFoundException("...") itself; the host renders it.
    control, data = STATUSES[cls]
    for e in (cls("x"), cls("x", kind="Custom", mqtt_code="InvalidRequest")):
        assert e.http_status() == control
        assert (e.http_status(j.Plane.CONTROL), e.http_status("control")) == (control, control)
        assert (e.http_status(j.Plane.DATA), e.http_status("data")) == (data, data)
        assert e.exception_name_on("control") == e.exception_name_on("data") == cls.exception_name
        e2 = cls("x", plane=j.Plane.DATA)
        assert e2.http_status() == data
        # Raised, caught, and pickled (multiprocessing runners), it keeps its shape.
        with pytest.raises(cls) as info:
            raise e
        back = pickle.loads(pickle.dumps(info.value))
        assert (back.http_status(), back.http_status("data"), back.message) == (control, data, "x")

    class Mine(cls):
        pass

    assert (Mine("x").http_status(), Mine("x").exception_name_on("data")) == (control, cls.exception_name)


MQTT_CODES = {
    j.InvalidRequestException: "InvalidRequest",
    j.InvalidFieldError: "InvalidRequest",
    j.ResourceNotFoundException: "ResourceNotFound",
    j.ResourceAlreadyExistsException: "",
    j.InvalidStateTransitionException: "InvalidStateTransition",
    j.VersionConflictException: "VersionMismatch",
    j.LimitExceededException: "",
    j.ThrottlingException: "RequestThrottled",
    j.ServiceUnavailableException: "InternalError",
    j.TerminalStateException: "TerminalStateReached",
}


@pytest.mark.parametrize("cls", list(MQTT_CODES), ids=lambda c: c.__name__)
def test_an_exception_a_user_raises_answers_its_class_s_mqtt_code(cls):
    # A test double answering a device over MQTT renders `code` from the exception it raised.
    code = MQTT_CODES[cls]
    assert cls("x").mqtt_code == code
    assert type("Mine", (cls,), {})("x").mqtt_code == code
    assert pickle.loads(pickle.dumps(cls("x"))).mqtt_code == code
    # Given one (even empty), it is kept.
    assert cls("x", mqtt_code="InternalError").mqtt_code == "InternalError"
    assert cls("x", mqtt_code="").mqtt_code == ""
    assert j.JobsError("x").mqtt_code == ""


def test_the_class_mqtt_codes_are_the_core_s():
    # Every refusal the core makes on the data plane carries the code of its exception's class,
    # except a version mismatch: InvalidStateTransitionException over HTTP, VersionMismatch over MQTT.
    raised = []
    for call in (
        lambda: j.update_execution("SUCCEEDED", 2, "IN_PROGRESS"),
        lambda: j.update_execution("QUEUED", 3, "IN_PROGRESS", expected_version=9),
        lambda: j.describe_execution("SUCCEEDED", 2, plane="data"),
    ):
        with pytest.raises(j.JobsError) as info:
            call()
        raised.append(info.value)
    assert [(type(e).__name__, e.mqtt_code) for e in raised] == [
        ("InvalidStateTransitionException", "InvalidStateTransition"),
        ("InvalidStateTransitionException", "VersionMismatch"),
        ("TerminalStateException", "TerminalStateReached"),
    ]
    assert [type(e)("x").mqtt_code for e in raised] == [
        "InvalidStateTransition",
        "InvalidStateTransition",
        "TerminalStateReached",
    ]


def test_the_base_class_has_no_shape_and_says_so():
    for e in (j.JobsError("x"), type("Mine", (j.JobsError,), {})("x")):
        with pytest.raises(NotImplementedError, match="not one of the AWS exception classes"):
            e.http_status()
        with pytest.raises(NotImplementedError, match="not one of the AWS exception classes"):
            e.exception_name_on("data")


def test_an_exception_the_core_raises_keeps_its_operation_s_shapes():
    # The class shapes are only the fallback: a version mismatch raised on the data plane is
    # InvalidStateTransitionException there and VersionConflictException on the control plane.
    with pytest.raises(j.InvalidStateTransitionException) as info:
        j.update_execution("QUEUED", 3, "IN_PROGRESS", expected_version=9)
    assert info.value.exception_name_on("control") == "VersionConflictException"
    assert (info.value.http_status(), info.value.exception_name_on("data")) == (409, "InvalidStateTransitionException")
    with pytest.raises(j.TerminalStateException) as terminal:
        j.describe_execution("SUCCEEDED", 2, plane="data")
    assert terminal.value.exception_name_on("control") == "InvalidStateTransitionException"
    assert (terminal.value.http_status("control"), terminal.value.http_status()) == (409, 410)
