"""A sample test module: the ``iot_jobs_emulator`` fixture with boto3, as a user's suite uses it.

No import of the plugin is needed: installing the wheel registers it with pytest.
"""

from __future__ import annotations

import socket

import pytest
from botocore.exceptions import ClientError

from iot_jobs_emulator import Emulator


def thing_arn(name: str) -> str:
    return f"arn:aws:iot:us-east-1:123456789012:thing/{name}"


def job_for(emu: Emulator, job_id: str, thing: str, **config: object) -> None:
    emu.iot.create_thing(thingName=thing)
    emu.iot.create_job(jobId=job_id, targets=[thing_arn(thing)], document='{"version": "1.2"}', **config)


def test_a_device_runs_a_job_end_to_end(iot_jobs_emulator: Emulator) -> None:
    emu = iot_jobs_emulator
    job_for(emu, "fw-1", "dev1")
    pending = emu.jobs_data.get_pending_job_executions(thingName="dev1")
    assert [e["jobId"] for e in pending["queuedJobs"]] == ["fw-1"]

    started = emu.jobs_data.start_next_pending_job_execution(thingName="dev1")["execution"]
    assert (started["jobId"], started["status"], started["versionNumber"]) == ("fw-1", "IN_PROGRESS", 2)
    assert started["jobDocument"] == '{"version": "1.2"}'

    emu.jobs_data.update_job_execution(thingName="dev1", jobId="fw-1", status="SUCCEEDED", expectedVersion=2)
    assert emu.iot.describe_job(jobId="fw-1")["job"]["status"] == "COMPLETED"
    execution = emu.iot.describe_job_execution(jobId="fw-1", thingName="dev1")["execution"]
    assert (execution["status"], execution["executionNumber"], execution["versionNumber"]) == ("SUCCEEDED", 1, 3)


def test_errors_are_the_service_s(iot_jobs_emulator: Emulator) -> None:
    emu = iot_jobs_emulator
    job_for(emu, "fw-2", "dev2")
    emu.jobs_data.start_next_pending_job_execution(thingName="dev2")
    # A job in progress cannot be deleted without force (SPEC 4.2 DeleteJob).
    with pytest.raises(emu.iot.exceptions.InvalidStateTransitionException) as refused:
        emu.iot.delete_job(jobId="fw-2")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    # A stale expectedVersion is refused and changes nothing (SPEC R13).
    with pytest.raises(emu.jobs_data.exceptions.InvalidStateTransitionException):
        emu.jobs_data.update_job_execution(thingName="dev2", jobId="fw-2", status="SUCCEEDED", expectedVersion=1)
    execution = emu.jobs_data.describe_job_execution(thingName="dev2", jobId="fw-2")["execution"]
    assert (execution["status"], execution["versionNumber"]) == ("IN_PROGRESS", 2)
    with pytest.raises(emu.iot.exceptions.ResourceNotFoundException):
        emu.iot.describe_job(jobId="no-such-job")


def test_advance_times_an_execution_out(iot_jobs_emulator: Emulator) -> None:
    emu = iot_jobs_emulator
    job_for(emu, "fw-3", "dev3", timeoutConfig={"inProgressTimeoutInMinutes": 1})
    emu.jobs_data.start_next_pending_job_execution(thingName="dev3")
    before = emu.now()

    assert emu.advance(59) == before + 59
    execution = emu.jobs_data.describe_job_execution(thingName="dev3", jobId="fw-3")["execution"]
    assert execution["status"] == "IN_PROGRESS"

    assert emu.advance(1) == before + 60
    execution = emu.iot.describe_job_execution(thingName="dev3", jobId="fw-3")["execution"]
    assert execution["status"] == "TIMED_OUT"
    assert emu.iot.describe_job(jobId="fw-3")["job"]["status"] == "COMPLETED"


@pytest.mark.parametrize("run", ["first", "second"])
def test_every_test_starts_from_an_empty_emulator(iot_jobs_emulator: Emulator, run: str) -> None:
    emu = iot_jobs_emulator
    assert emu.iot.list_jobs()["jobs"] == []
    assert emu.iot.list_things()["things"] == []
    # The same ids in both runs: the second would get ResourceAlreadyExistsException without the
    # fixture's reset.
    job_for(emu, "same-job", "same-thing")
    assert [j["jobId"] for j in emu.iot.list_jobs()["jobs"]] == ["same-job"]
    assert emu.stats()["usage"]["executions"] == 1


def test_the_mqtt_broker_is_at_mqtt_address(iot_jobs_emulator: Emulator) -> None:
    assert iot_jobs_emulator.mqtt_address is not None
    with socket.create_connection(iot_jobs_emulator.mqtt_address, timeout=5) as s:
        # MQTT 3.1.1 CONNECT: protocol "MQTT" level 4, clean session, keep-alive 60 s, empty client id.
        s.sendall(b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00")
        assert s.recv(4) == b"\x20\x02\x00\x00"  # CONNACK, session not present, accepted


def test_a_document_source_job_reads_the_registered_object(iot_jobs_emulator: Emulator) -> None:
    emu = iot_jobs_emulator
    document = '{"operation": "install", "version": "1.3"}'
    assert emu.put_object("amzn-s3-demo-bucket", "jobs/job document.json", document)["size"] == len(document)
    assert emu.objects() == [{"bucket": "amzn-s3-demo-bucket", "key": "jobs/job document.json", "size": len(document)}]
    source = "https://s3.amazonaws.com/amzn-s3-demo-bucket/jobs/job%20document.json"
    emu.iot.create_thing(thingName="dev4")
    emu.iot.create_job(jobId="fw-4", targets=[thing_arn("dev4")], documentSource=source)
    assert emu.iot.describe_job(jobId="fw-4")["documentSource"] == source
    assert emu.iot.get_job_document(jobId="fw-4")["document"] == document
    started = emu.jobs_data.start_next_pending_job_execution(thingName="dev4")["execution"]
    assert (started["jobId"], started["jobDocument"]) == ("fw-4", document)

    # An object that is not registered: refused, naming the URL and the call that registers it.
    emu.clear_objects()
    assert emu.objects() == []
    missing = "https://amzn-s3-demo-bucket.s3.us-east-1.amazonaws.com/other.json"
    with pytest.raises(ClientError) as refused:
        emu.iot.create_job(jobId="fw-5", targets=[thing_arn("dev4")], documentSource=missing)
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidRequestException"
    assert missing in error["Message"] and "PUT /_emulator/objects/amzn-s3-demo-bucket/other.json" in error["Message"]
    with pytest.raises(TypeError):
        emu.put_object("amzn-s3-demo-bucket", "k", {"not": "bytes"})  # type: ignore[arg-type]
