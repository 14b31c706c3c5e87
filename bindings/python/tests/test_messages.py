"""Every device message kind: parse, serialize, round trip, flavors, and refusals with the MQTT
code that answers them."""

from __future__ import annotations

import json

import pytest

from iot_jobs_core import messages as m

EXECUTION = {
    "jobId": "fw-1",
    "thingName": "pump-7",
    "jobDocument": {"operation": "install"},
    "status": "IN_PROGRESS",
    "statusDetails": {"step": "download"},
    "queuedAt": 100,
    "startedAt": 110,
    "lastUpdatedAt": 120,
    "versionNumber": 2,
    "executionNumber": 1,
}
SUMMARY = {"jobId": "fw-1", "queuedAt": 100, "lastUpdatedAt": 120, "versionNumber": 1, "executionNumber": 1}

SAMPLES = {
    "get_pending_request": {"clientToken": "c-1"},
    "start_next_request": {"statusDetails": {"a": "b"}, "stepTimeoutInMinutes": 5, "clientToken": "c-2"},
    "describe_request": {"executionNumber": 1, "includeJobDocument": False, "clientToken": "c-3"},
    "update_request": {
        "status": "SUCCEEDED",
        "statusDetails": {"result": "ok"},
        "expectedVersion": 2,
        "executionNumber": 1,
        "includeJobExecutionState": True,
        "includeJobDocument": True,
        "stepTimeoutInMinutes": -1,
        "clientToken": "c-4",
    },
    "get_pending_response": {"inProgressJobs": [SUMMARY], "queuedJobs": [], "timestamp": 130, "clientToken": "c-1"},
    "execution_response": {"execution": EXECUTION, "timestamp": 130, "clientToken": "c-3"},
    "update_response": {
        "executionState": {"status": "SUCCEEDED", "statusDetails": {"result": "ok"}, "versionNumber": 3},
        "timestamp": 130,
        "clientToken": "c-4",
    },
    "error_response": {
        "code": "VersionMismatch",
        "message": "expectedVersion 1 is not 2",
        "clientToken": "c-4",
        "timestamp": 130,
        "executionState": {"status": "IN_PROGRESS", "versionNumber": 2},
    },
    "job_executions_changed": {"jobs": {"QUEUED": [SUMMARY]}, "timestamp": 130},
    "next_job_execution_changed": {"execution": EXECUTION, "timestamp": 130},
}


def test_every_kind_has_a_sample():
    assert set(SAMPLES) == set(m.KINDS) and len(m.KINDS) == 10


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_round_trip(kind):
    msg = SAMPLES[kind]
    wire = m.serialize(kind, msg)
    parsed = m.parse(kind, wire)
    assert m.serialize(kind, parsed) == wire
    # Every member given comes back (the samples give no member at its default value, which
    # the core's writer leaves out; the member order is the core's).
    assert json.loads(wire) == parsed
    for key in msg:
        assert key in parsed, key


def test_parse_skips_unknown_members_and_keeps_the_rest():
    out = m.parse("update_request", b'{"status":"IN_PROGRESS","x":{"deep":[1,2]},"expectedVersion":3}')
    assert out == {"status": "IN_PROGRESS", "expectedVersion": 3}


def test_http_flavor():
    wire = m.serialize("execution_response", SAMPLES["execution_response"])
    http = m.convert("execution_response", wire, "mqtt", "http")
    doc = json.loads(http)
    assert "timestamp" not in doc and "clientToken" not in doc
    assert json.loads(doc["execution"]["jobDocument"]) == {"operation": "install"}
    # The HTTP form carries the document as a JSON string (SPEC AMBIG-22); it reads back as one.
    back = m.parse("execution_response", http, "http")
    assert json.loads(back["execution"]["jobDocument"]) == {"operation": "install"}
    assert m.parse("get_pending_request", b"", "http") == {}


@pytest.mark.parametrize(
    "kind, payload, code",
    [
        ("update_request", b'{"status":"SUCCESS"}', "InvalidRequest"),  # SPEC §1: not a status
        ("update_request", b"{}", "InvalidRequest"),  # status is required
        ("update_request", b'{"status":"FAILED","status":"FAILED"}', "InvalidRequest"),
        ("update_request", b'{"status":"FAILED","expectedVersion":-1}', "InvalidRequest"),
        ("update_request", b'{"status":"FAILED","stepTimeoutInMinutes":10081}', "InvalidRequest"),
        ("start_next_request", b'{"stepTimeoutInMinutes":-1}', "InvalidRequest"),
        ("get_pending_request", b'{"clientToken":"' + b"x" * 65 + b'"}', "InvalidRequest"),
        ("start_next_request", json.dumps({"statusDetails": {f"k{i}": "v" for i in range(11)}}).encode(), "InvalidRequest"),
        ("update_request", b"nope", "InvalidJson"),
        ("update_request", b'{"status":"FAILED"', "InvalidJson"),
        ("update_request", b'{"status":"\xff"}', "InvalidJson"),
        ("update_request", b"", "InvalidRequest"),  # no payload is `{}`: status is required
    ],
)
def test_refusals_carry_the_mqtt_code(kind, payload, code):
    with pytest.raises(m.MessageError) as info:
        m.parse(kind, payload)
    assert info.value.mqtt_code == code
    assert isinstance(info.value, ValueError)


def test_serialize_checks_constraints():
    with pytest.raises(m.MessageError):
        m.serialize("execution_response", {"execution": dict(EXECUTION, jobId="bad id!")})
    with pytest.raises(m.MessageError):
        m.serialize("error_response", dict(SAMPLES["error_response"], code="Oops"))
    with pytest.raises(ValueError):
        m.serialize("update_request", {"status": "FAILED", "x": float("nan")})  # not JSON


def test_bad_arguments():
    with pytest.raises(ValueError, match="not a message kind"):
        m.parse("subscribe_request", b"{}")
    with pytest.raises(ValueError, match="flavor"):
        m.parse("update_request", b"{}", "grpc")
    with pytest.raises(TypeError):
        m.parse("update_request", "not bytes")  # type: ignore[arg-type]
    deep = b'{"status":"FAILED","x":' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    with pytest.raises(m.MessageError):
        m.parse("update_request", deep)
    huge = b'{"status":"FAILED","clientToken":"' + b"a" * 5_000_000 + b'"}'
    with pytest.raises(m.MessageError):
        m.parse("update_request", huge)
