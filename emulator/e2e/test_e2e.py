"""End-to-end tests: the real AWS CLI and boto3 against iot-jobs-emulator (see run.sh).

Environment (set by run.sh): EMU_URL (a running emulator with --clock manual --deletion-delay 60),
EMU_BIN (the binary, for the restart test), EMU_AWS (the venv's aws), AWS_* dummy credentials.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

import boto3
from botocore.config import Config

URL = os.environ["EMU_URL"]
BIN = os.environ["EMU_BIN"]
AWS = os.environ["EMU_AWS"]
REGION = "us-east-1"
ARN = "arn:aws:iot:us-east-1:123456789012"
CFG = Config(retries={"max_attempts": 1, "mode": "standard"})


def clients(url=URL):
    iot = boto3.client("iot", endpoint_url=url, region_name=REGION, config=CFG)
    data = boto3.client("iot-jobs-data", endpoint_url=url, region_name=REGION, config=CFG)
    return iot, data


def admin(method, path, body=None, url=URL):
    req = urllib.request.Request(url + path, method=method, data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(req) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


def raw(method, path, body=b"", headers=None):
    """A raw request: (status, x-amzn-ErrorType, body)."""
    req = urllib.request.Request(URL + path, method=method, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, None, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("x-amzn-ErrorType"), e.read()


def aws(*args, url=URL):
    """Runs the AWS CLI: (returncode, parsed stdout or None, stderr)."""
    p = subprocess.run([AWS, *args, "--endpoint-url", url, "--output", "json"], capture_output=True, text=True, timeout=60)
    out = json.loads(p.stdout) if p.stdout.strip() else None
    return p.returncode, out, p.stderr


def thing_arn(t):
    return f"{ARN}:thing/{t}"


def group_arn(g):
    return f"{ARN}:thinggroup/{g}"


def run_cases(label, *cases):
    """Runs the test cases, prints how long they took and how many passed; returns the exit
    status (0 when every test passed and there was one at least)."""
    t0 = time.time()
    suite = unittest.TestSuite()
    for case in cases:
        suite.addTests(unittest.defaultTestLoader.loadTestsFromTestCase(case))
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"e2e {label} took {time.time() - t0:.1f}s")
    print(f"e2e {label}: {passed} passed, {failed} failed")
    sys.stdout.flush()
    return 0 if failed == 0 and passed > 0 else 1


def start_emulator(*args):
    """Starts an emulator of this test's own on a free port; returns (process, url)."""
    p = subprocess.Popen([BIN, "--addr", "127.0.0.1:0", "--mqtt-addr", "127.0.0.1:0", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    m = re.search(r"(http://[0-9.:]+)", line)
    if not m:
        p.kill()
        p.wait()
        raise RuntimeError(f"emulator did not start: {line!r}")
    # Reads the rest of its output (so it never fills the pipe) and closes the pipe at its exit.
    threading.Thread(target=lambda: (p.stdout.read(), p.stdout.close()), daemon=True).start()
    return p, m.group(1)


class E2E(unittest.TestCase):
    def setUp(self):
        admin("POST", "/_emulator/reset")
        self.iot, self.data = clients()

    def assertError(self, ctx, code, status):
        err = ctx.exception.response
        self.assertEqual(err["Error"]["Code"], code, err)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status, err)
        self.assertTrue(err["Error"]["Message"], err)

    def things(self, *names):
        for n in names:
            self.iot.create_thing(thingName=n)

    def job(self, job_id, targets, **kw):
        return self.iot.create_job(jobId=job_id, targets=targets, document='{"op":"update"}', **kw)

    def status(self, thing, job):
        return self.iot.describe_job_execution(thingName=thing, jobId=job)["execution"]["status"]

    def raw_errors(self, client, operation):
        """The JSON bodies of `operation`'s answers, as the emulator sent them: botocore keeps only
        an error's modeled members (`message`), so the `executionState` of a 409 is read here."""
        bodies = []
        def keep(response_dict, **_):
            bodies.append(json.loads(response_dict["body"] or b"null"))
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-parse.{service}.{operation}", keep)
        return bodies

    # ---- things and groups ------------------------------------------------------------------

    def test_things_and_groups(self):
        r = self.iot.create_thing(thingName="t1", attributePayload={"attributes": {"model": "m1"}})
        self.assertEqual(r["thingArn"], thing_arn("t1"))
        d = self.iot.describe_thing(thingName="t1")
        self.assertEqual((d["thingName"], d["attributes"], d["version"]), ("t1", {"model": "m1"}, 1))
        self.things("t2")
        self.assertEqual([t["thingName"] for t in self.iot.list_things()["things"]], ["t1", "t2"])
        g = self.iot.create_thing_group(thingGroupName="g1")
        self.assertEqual(g["thingGroupArn"], group_arn("g1"))
        self.iot.add_thing_to_thing_group(thingGroupName="g1", thingName="t1")
        self.iot.remove_thing_from_thing_group(thingGroupArn=group_arn("g1"), thingArn=thing_arn("t1"))
        with self.assertRaises(self.iot.exceptions.ResourceNotFoundException) as c:
            self.iot.add_thing_to_thing_group(thingGroupName="nope", thingName="t1")
        self.assertError(c, "ResourceNotFoundException", 404)
        self.iot.delete_thing_group(thingGroupName="g1")
        self.iot.delete_thing(thingName="t2")
        with self.assertRaises(self.iot.exceptions.ResourceNotFoundException) as c:
            self.iot.describe_thing(thingName="t2")
        self.assertError(c, "ResourceNotFoundException", 404)
        with self.assertRaises(self.iot.exceptions.InvalidRequestException) as c:
            self.iot.create_thing(thingName="bad!name")
        self.assertIn("thingName has a character that is not allowed", c.exception.response["Error"]["Message"])

    # ---- a device run over the data plane ---------------------------------------------------------

    def test_device_run_over_the_data_plane(self):
        self.things("t1", "t2")
        self.iot.create_thing_group(thingGroupName="fleet")
        for t in ("t1", "t2"):
            self.iot.add_thing_to_thing_group(thingGroupName="fleet", thingName=t)
        r = self.job("fw", [group_arn("fleet")], description="firmware 1.2")
        self.assertEqual(r["jobArn"], f"{ARN}:job/fw")
        pending = self.data.get_pending_job_executions(thingName="t1")
        self.assertEqual([j["jobId"] for j in pending["queuedJobs"]], ["fw"])
        self.assertEqual(pending["inProgressJobs"], [])
        nxt = self.data.describe_job_execution(thingName="t1", jobId="$next")
        self.assertEqual(nxt["execution"]["jobDocument"], '{"op":"update"}')
        started = self.data.start_next_pending_job_execution(thingName="t1", statusDetails={"step": "download"}, stepTimeoutInMinutes=10)
        ex = started["execution"]
        self.assertEqual((ex["status"], ex["versionNumber"], ex["executionNumber"]), ("IN_PROGRESS", 2, 1))
        self.assertEqual(ex["statusDetails"], {"step": "download"})
        # A stale expectedVersion: 409 with the InvalidStateTransitionException shape (R13), whose
        # body carries the execution's state (the model's InvalidStateTransitionException).
        bodies = self.raw_errors(self.data, "UpdateJobExecution")
        with self.assertRaises(self.data.exceptions.InvalidStateTransitionException) as c:
            self.data.update_job_execution(thingName="t1", jobId="fw", status="SUCCEEDED", expectedVersion=1)
        self.assertError(c, "InvalidStateTransitionException", 409)
        self.assertEqual(bodies[-1]["executionState"],
                         {"status": "IN_PROGRESS", "statusDetails": {"step": "download"}, "versionNumber": 2})
        up = self.data.update_job_execution(
            thingName="t1", jobId="fw", status="SUCCEEDED", expectedVersion=2, statusDetails={"step": "done"},
            includeJobExecutionState=True, includeJobDocument=True)
        self.assertEqual(up["executionState"], {"status": "SUCCEEDED", "statusDetails": {"step": "done"}, "versionNumber": 3})
        self.assertEqual(up["jobDocument"], '{"op":"update"}')
        # The data plane does not describe terminal executions (R11); the control plane does.
        with self.assertRaises(self.data.exceptions.TerminalStateException) as c:
            self.data.describe_job_execution(thingName="t1", jobId="fw")
        self.assertError(c, "TerminalStateException", 410)
        self.assertEqual(self.status("t1", "fw"), "SUCCEEDED")
        with self.assertRaises(self.data.exceptions.InvalidStateTransitionException) as c:
            self.data.update_job_execution(thingName="t1", jobId="fw", status="IN_PROGRESS")
        self.assertError(c, "InvalidStateTransitionException", 409)
        self.assertEqual(bodies[-1]["executionState"],
                         {"status": "SUCCEEDED", "statusDetails": {"step": "done"}, "versionNumber": 3})
        # Nothing pending: 200 without an execution (R19).
        self.assertNotIn("execution", self.data.start_next_pending_job_execution(thingName="t1"))
        self.data.update_job_execution(thingName="t2", jobId="fw", status="REJECTED")
        job = self.iot.describe_job(jobId="fw")["job"]
        self.assertEqual(job["status"], "COMPLETED")
        self.assertEqual(job["jobProcessDetails"]["numberOfSucceededThings"], 1)
        self.assertEqual(job["jobProcessDetails"]["numberOfRejectedThings"], 1)
        self.assertEqual(job["description"], "firmware 1.2")
        self.assertEqual(self.iot.get_job_document(jobId="fw")["document"], '{"op":"update"}')
        with self.assertRaises(self.data.exceptions.ResourceNotFoundException) as c:
            self.data.update_job_execution(thingName="t1", jobId="nope", status="IN_PROGRESS")
        self.assertError(c, "ResourceNotFoundException", 404)
        # CancelJob on a COMPLETED job: 400 (R3).
        with self.assertRaises(self.iot.exceptions.InvalidRequestException) as c:
            self.iot.cancel_job(jobId="fw")
        self.assertError(c, "InvalidRequestException", 400)

    # ---- cancel ----------------------------------------------------------------------------------

    def test_cancel_job_without_and_with_force(self):
        self.things("t1", "t2")
        self.job("j1", [thing_arn("t1"), thing_arn("t2")])
        self.data.update_job_execution(thingName="t1", jobId="j1", status="IN_PROGRESS")
        self.iot.cancel_job(jobId="j1", reasonCode="BAD_BUILD", comment="stop it")
        self.assertEqual((self.status("t1", "j1"), self.status("t2", "j1")), ("IN_PROGRESS", "CANCELED"))
        job = self.iot.describe_job(jobId="j1")["job"]
        self.assertEqual((job["status"], job["forceCanceled"], job["reasonCode"], job["comment"]), ("CANCELED", False, "BAD_BUILD", "stop it"))
        with self.assertRaises(self.iot.exceptions.InvalidRequestException) as c:
            self.iot.cancel_job(jobId="j1", force=True)
        self.assertError(c, "InvalidRequestException", 400)

        self.job("j2", [thing_arn("t1"), thing_arn("t2")])
        self.data.update_job_execution(thingName="t2", jobId="j2", status="IN_PROGRESS")
        self.iot.cancel_job(jobId="j2", force=True)
        self.assertEqual((self.status("t1", "j2"), self.status("t2", "j2")), ("CANCELED", "CANCELED"))
        self.assertTrue(self.iot.describe_job(jobId="j2")["job"]["forceCanceled"])
        self.assertTrue(self.iot.describe_job_execution(thingName="t2", jobId="j2")["execution"]["forceCanceled"])
        with self.assertRaises(self.data.exceptions.InvalidStateTransitionException):
            self.data.update_job_execution(thingName="t2", jobId="j2", status="SUCCEEDED")

    def test_cancel_job_execution(self):
        self.things("t1")
        self.job("j1", [thing_arn("t1")])
        self.data.update_job_execution(thingName="t1", jobId="j1", status="IN_PROGRESS")
        with self.assertRaises(self.iot.exceptions.InvalidStateTransitionException) as c:
            self.iot.cancel_job_execution(jobId="j1", thingName="t1")
        self.assertError(c, "InvalidStateTransitionException", 409)
        bodies = self.raw_errors(self.iot, "CancelJobExecution")
        with self.assertRaises(self.iot.exceptions.VersionConflictException) as c:
            self.iot.cancel_job_execution(jobId="j1", thingName="t1", force=True, expectedVersion=1)
        self.assertError(c, "VersionConflictException", 409)
        # As CancelJobExecution's expectedVersion documents: the current state comes back.
        self.assertEqual(bodies[-1]["executionState"], {"status": "IN_PROGRESS", "statusDetails": {}, "versionNumber": 2})
        self.iot.cancel_job_execution(jobId="j1", thingName="t1", force=True, expectedVersion=2, statusDetails={"by": "ops"})
        ex = self.iot.describe_job_execution(thingName="t1", jobId="j1")["execution"]
        self.assertEqual((ex["status"], ex["forceCanceled"], ex["versionNumber"]), ("CANCELED", True, 3))
        self.assertEqual(ex["statusDetails"]["detailsMap"], {"by": "ops"})
        with self.assertRaises(self.iot.exceptions.InvalidStateTransitionException):
            self.iot.cancel_job_execution(jobId="j1", thingName="t1", force=True)

    def test_status_details_at_the_aws_limits(self):
        # SPEC R14: 10 pairs, keys of 128 characters, values of 1,024 UTF-16 units; botocore sends
        # '\u20ac' escapes, so the largest map is a body of about 62 KB.
        self.things("t1")
        worst = {f"{i:k>128}": "\u20ac" * 1024 for i in range(10)}
        repros = [{"k": "a" * 1021}, {"k": "\u20ac" * 341}, {f"{i:k>128}": "v" for i in range(10)}]
        for n, details in enumerate([worst] + repros):
            self.job(f"u{n}", [thing_arn("t1")])
            self.data.update_job_execution(thingName="t1", jobId=f"u{n}", status="IN_PROGRESS", statusDetails=details)
            ex = self.data.describe_job_execution(thingName="t1", jobId=f"u{n}")["execution"]
            self.assertEqual(ex["statusDetails"], details)
            ex = self.iot.describe_job_execution(thingName="t1", jobId=f"u{n}")["execution"]
            self.assertEqual(ex["statusDetails"]["detailsMap"], details)
        self.job("c", [thing_arn("t1")])
        self.iot.cancel_job_execution(jobId="c", thingName="t1", force=True, statusDetails=worst)
        ex = self.iot.describe_job_execution(thingName="t1", jobId="c")["execution"]
        self.assertEqual((ex["status"], ex["statusDetails"]["detailsMap"]), ("CANCELED", worst))

    # ---- delete ----------------------------------------------------------------------------------

    def test_delete_job_without_and_with_force_and_the_limit_of_ten(self):
        self.things("t1")
        self.job("j0", [thing_arn("t1")])
        with self.assertRaises(self.iot.exceptions.InvalidStateTransitionException) as c:
            self.iot.delete_job(jobId="j0")
        self.assertError(c, "InvalidStateTransitionException", 409)
        self.iot.delete_job(jobId="j0", force=True)
        self.assertEqual(self.iot.describe_job(jobId="j0")["job"]["status"], "DELETION_IN_PROGRESS")
        with self.assertRaises(self.iot.exceptions.InvalidStateTransitionException):
            self.iot.delete_job(jobId="j0", force=True)
        with self.assertRaises(self.iot.exceptions.ResourceAlreadyExistsException) as c:
            self.job("j0", [thing_arn("t1")])
        self.assertError(c, "ResourceAlreadyExistsException", 409)
        with self.assertRaises(self.data.exceptions.ResourceNotFoundException):
            self.data.describe_job_execution(thingName="t1", jobId="j0")
        # A terminal (CANCELED) job needs no force.
        self.job("j1", [thing_arn("t1")])
        self.iot.cancel_job(jobId="j1")
        self.iot.delete_job(jobId="j1")
        for i in range(2, 10):
            self.job(f"j{i}", [thing_arn("t1")])
            self.iot.delete_job(jobId=f"j{i}", force=True)
        self.job("j10", [thing_arn("t1")])
        with self.assertRaises(self.iot.exceptions.LimitExceededException) as c:
            self.iot.delete_job(jobId="j10", force=True)
        self.assertError(c, "LimitExceededException", 410)
        self.assertEqual(admin("GET", "/_emulator/stats")["jobsDeleting"], 10)
        admin("POST", "/_emulator/clock", {"advanceSeconds": 59})
        self.assertEqual(self.iot.describe_job(jobId="j0")["job"]["status"], "DELETION_IN_PROGRESS")
        admin("POST", "/_emulator/clock", {"advanceSeconds": 1})
        with self.assertRaises(self.iot.exceptions.ResourceNotFoundException) as c:
            self.iot.describe_job(jobId="j0")
        self.assertError(c, "ResourceNotFoundException", 404)
        self.iot.delete_job(jobId="j10", force=True)
        self.job("j0", [thing_arn("t1")])

    def test_delete_execution_and_number_reuse(self):
        self.things("t1")
        self.job("c1", [thing_arn("t1")], targetSelection="CONTINUOUS")
        with self.assertRaises(self.iot.exceptions.InvalidStateTransitionException) as c:
            self.iot.delete_job_execution(jobId="c1", thingName="t1", executionNumber=1)
        self.assertError(c, "InvalidStateTransitionException", 409)
        self.data.update_job_execution(thingName="t1", jobId="c1", status="IN_PROGRESS")
        with self.assertRaises(self.iot.exceptions.InvalidStateTransitionException):
            self.iot.delete_job_execution(jobId="c1", thingName="t1", executionNumber=1)
        self.iot.delete_job_execution(jobId="c1", thingName="t1", executionNumber=1, force=True, namespaceId="ns1")
        with self.assertRaises(self.iot.exceptions.ResourceNotFoundException):
            self.iot.describe_job_execution(jobId="c1", thingName="t1")
        with self.assertRaises(self.data.exceptions.ResourceNotFoundException):
            self.data.describe_job_execution(jobId="c1", thingName="t1")
        # The next execution of (c1, t1) gets number 1 again (R7).
        self.iot.associate_targets_with_job(jobId="c1", targets=[thing_arn("t1")], comment="again")
        ex = self.iot.describe_job_execution(jobId="c1", thingName="t1")["execution"]
        self.assertEqual((ex["executionNumber"], ex["status"]), (1, "QUEUED"))
        self.data.update_job_execution(thingName="t1", jobId="c1", status="SUCCEEDED")
        self.iot.delete_job_execution(jobId="c1", thingName="t1", executionNumber=1)
        self.assertEqual(self.iot.list_job_executions_for_job(jobId="c1")["executionSummaries"], [])
        with self.assertRaises(self.iot.exceptions.ResourceNotFoundException):
            self.iot.delete_job_execution(jobId="c1", thingName="t1", executionNumber=1)

    # ---- continuous jobs, listings, concurrency ----------------------------------------------------------

    def test_continuous_job_follows_its_group(self):
        self.things("t1", "t2")
        self.iot.create_thing_group(thingGroupName="g")
        self.iot.add_thing_to_thing_group(thingGroupName="g", thingName="t1")
        self.job("c1", [group_arn("g")], targetSelection="CONTINUOUS")
        self.iot.add_thing_to_thing_group(thingGroupName="g", thingName="t2")
        self.assertEqual(self.status("t2", "c1"), "QUEUED")
        self.iot.remove_thing_from_thing_group(thingGroupName="g", thingName="t2")
        self.assertEqual(self.status("t2", "c1"), "REMOVED")
        self.job("s1", [thing_arn("t1")])
        with self.assertRaises(self.iot.exceptions.InvalidRequestException) as c:
            self.iot.associate_targets_with_job(jobId="s1", targets=[thing_arn("t2")])
        self.assertError(c, "InvalidRequestException", 400)

    def test_listings_and_paginators(self):
        names = [f"t{i}" for i in range(7)]
        self.things(*names)
        self.job("j1", [thing_arn(n) for n in names])
        pages = self.iot.get_paginator("list_job_executions_for_job").paginate(jobId="j1", PaginationConfig={"PageSize": 3})
        arns = [s["thingArn"] for p in pages for s in p["executionSummaries"]]
        self.assertEqual(sorted(arns), sorted(thing_arn(n) for n in names))
        self.data.update_job_execution(thingName="t3", jobId="j1", status="IN_PROGRESS")
        ip = self.iot.list_job_executions_for_job(jobId="j1", status="IN_PROGRESS")["executionSummaries"]
        self.assertEqual([s["thingArn"] for s in ip], [thing_arn("t3")])
        self.assertEqual(ip[0]["jobExecutionSummary"]["status"], "IN_PROGRESS")
        for_thing = self.iot.list_job_executions_for_thing(thingName="t3")["executionSummaries"]
        self.assertEqual([s["jobId"] for s in for_thing], ["j1"])
        jobs = self.iot.list_jobs(status="IN_PROGRESS")["jobs"]
        self.assertEqual([j["jobId"] for j in jobs], ["j1"])
        things = [t["thingName"] for p in self.iot.get_paginator("list_things").paginate(PaginationConfig={"PageSize": 2}) for t in p["things"]]
        self.assertEqual(things, names)

    def test_expected_version_under_concurrent_writers(self):
        self.things("t1")
        self.job("j1", [thing_arn("t1")])
        results = []

        def worker():
            _, data = clients()
            try:
                data.update_job_execution(thingName="t1", jobId="j1", status="IN_PROGRESS", expectedVersion=1)
                results.append(200)
            except data.exceptions.InvalidStateTransitionException as e:
                results.append(e.response["ResponseMetadata"]["HTTPStatusCode"])

        threads = [threading.Thread(target=worker) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(results), [200] + [409] * 11)
        self.assertEqual(self.iot.describe_job_execution(thingName="t1", jobId="j1")["execution"]["versionNumber"], 2)

    # ---- the wire ----------------------------------------------------------------------------------

    def test_bad_requests_and_unknown_routes(self):
        self.things("t1")
        self.job("j1", [thing_arn("t1")])
        sign = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iot-jobs-data/aws4_request, SignedHeaders=host, Signature=0"}
        status, kind, body = raw("POST", "/things/t1/jobs/j1", b"{not json", sign)
        self.assertEqual((status, kind), (400, "InvalidRequestException"))
        self.assertIn("not valid", json.loads(body)["message"])
        status, kind, _ = raw("POST", "/things/t1/jobs/j1", b'{"status": 7}', sign)
        self.assertEqual((status, kind), (400, "InvalidRequestException"))
        status, kind, _ = raw("PUT", "/jobs/j2", b" " * (1024 * 1024 + 1))
        self.assertEqual((status, kind), (413, "RequestEntityTooLargeException"))
        status, kind, _ = raw("GET", "/no/such/route")
        self.assertEqual((status, kind), (404, "UnknownOperationException"))
        status, kind, _ = raw("PUT", "/things/t1")
        self.assertEqual((status, kind), (405, "UnknownOperationException"))
        with self.assertRaises(self.iot.exceptions.ResourceNotFoundException):
            self.iot.describe_job(jobId="nope")
        with self.assertRaises(self.iot.exceptions.InvalidRequestException):
            self.iot.create_job(jobId="j2", targets=[thing_arn("t1")], document="{}",
                                jobExecutionsRetryConfig={"criteriaList": [{"failureType": "FAILED", "numberOfRetries": 11}]})
        with self.assertRaises(self.iot.exceptions.ResourceNotFoundException):
            self.job("j3", [thing_arn("ghost")])
        with self.assertRaises(self.data.exceptions.InvalidRequestException):
            self.data.update_job_execution(thingName="t1", jobId="j1", status="IN_PROGRESS", stepTimeoutInMinutes=0)

    # ---- the AWS CLI ---------------------------------------------------------------------------------

    def test_cli_session(self):
        rc, out, err = aws("iot", "create-thing", "--thing-name", "dev1")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["thingArn"], thing_arn("dev1"))
        rc, out, err = aws("iot", "create-job", "--job-id", "cli-job", "--targets", thing_arn("dev1"),
                           "--document", '{"action":"reboot"}', "--description", "reboot")
        self.assertEqual((rc, out["jobId"]), (0, "cli-job"), err)
        rc, out, err = aws("iot", "list-job-executions-for-job", "--job-id", "cli-job")
        self.assertEqual(out["executionSummaries"][0]["jobExecutionSummary"]["status"], "QUEUED", err)
        rc, out, err = aws("iot-jobs-data", "start-next-pending-job-execution", "--thing-name", "dev1")
        self.assertEqual((rc, out["execution"]["status"]), (0, "IN_PROGRESS"), err)
        # The CLI's error line for the DeleteJob 409.
        rc, out, err = aws("iot", "delete-job", "--job-id", "cli-job")
        self.assertEqual(rc, 255)
        self.assertIn("An error occurred (InvalidStateTransitionException) when calling the DeleteJob operation: ", err)
        rc, out, err = aws("iot-jobs-data", "update-job-execution", "--thing-name", "dev1", "--job-id", "cli-job",
                           "--status", "SUCCEEDED", "--expected-version", "2", "--include-job-execution-state")
        self.assertEqual((rc, out["executionState"]["status"]), (0, "SUCCEEDED"), err)
        rc, out, err = aws("iot", "describe-job", "--job-id", "cli-job")
        self.assertEqual(out["job"]["status"], "COMPLETED", err)
        rc, out, err = aws("iot", "delete-job", "--job-id", "cli-job")
        self.assertEqual((rc, out), (0, None), err)
        rc, out, err = aws("iot", "describe-job", "--job-id", "cli-job")
        self.assertEqual(out["job"]["status"], "DELETION_IN_PROGRESS", err)
        rc, out, err = aws("iot", "delete-job-execution", "--job-id", "cli-job", "--thing-name", "dev1", "--execution-number", "9")
        self.assertEqual(rc, 255)
        self.assertIn("(ResourceNotFoundException) when calling the DeleteJobExecution operation", err)
        rc, out, err = aws("iot", "describe-job", "--job-id", "bad!id")
        self.assertEqual(rc, 255)
        self.assertIn("An error occurred (InvalidRequestException) when calling the DescribeJob operation: jobId has a character", err)
        # Unsigned requests (--no-sign-request) to a control-plane-only path.
        rc, out, err = aws("iot", "list-things", "--no-sign-request")
        self.assertEqual((rc, [t["thingName"] for t in out["things"]]), (0, ["dev1"]), err)

    # ---- restart with --state-file --------------------------------------------------------------------------

    def test_restart_with_state_file_loses_nothing(self):
        with tempfile.TemporaryDirectory() as tmp:
            state = os.path.join(tmp, "state.json")
            args = ("--clock", "manual", "--state-file", state, "--deletion-delay", "3600", "--log-level", "warn")
            proc, url = start_emulator(*args)
            try:
                iot, data = clients(url)
                iot.create_thing(thingName="t1")
                iot.create_thing(thingName="t2")
                iot.create_thing_group(thingGroupName="g")
                iot.add_thing_to_thing_group(thingGroupName="g", thingName="t2")
                iot.create_job(jobId="j1", targets=[thing_arn("t1"), group_arn("g")], document='{"v":1}', description="kept")
                data.update_job_execution(thingName="t1", jobId="j1", status="IN_PROGRESS", statusDetails={"p": "50"})
                iot.create_job(jobId="j2", targets=[thing_arn("t1")], document="{}")
                iot.delete_job(jobId="j2", force=True)
                now = admin("POST", "/_emulator/clock", {"advanceSeconds": 120}, url=url)["now"]
                # A crash: SIGKILL, no shutdown. Every accepted change must be in the file.
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                proc, url = start_emulator(*args)
                iot, data = clients(url)
                self.assertEqual(admin("GET", "/_emulator/clock", url=url)["now"], now)
                ex = iot.describe_job_execution(thingName="t1", jobId="j1")["execution"]
                self.assertEqual((ex["status"], ex["versionNumber"], ex["statusDetails"]["detailsMap"]), ("IN_PROGRESS", 2, {"p": "50"}))
                self.assertEqual(iot.describe_job(jobId="j2")["job"]["status"], "DELETION_IN_PROGRESS")
                job = iot.describe_job(jobId="j1")["job"]
                self.assertEqual((job["description"], job["targets"]), ("kept", [thing_arn("t1"), group_arn("g")]))
                self.assertEqual(iot.get_job_document(jobId="j1")["document"], '{"v":1}')
                self.assertEqual(iot.describe_thing_group(thingGroupName="g")["thingGroupName"], "g")
                data.update_job_execution(thingName="t1", jobId="j1", status="SUCCEEDED", expectedVersion=2)
                # A graceful stop (SIGTERM), then a restart.
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(timeout=10), 0)
                proc, url = start_emulator(*args)
                iot, _ = clients(url)
                self.assertEqual(iot.describe_job_execution(thingName="t1", jobId="j1")["execution"]["status"], "SUCCEEDED")
                self.assertEqual(iot.describe_job_execution(thingName="t2", jobId="j1")["execution"]["status"], "QUEUED")
            finally:
                proc.kill()
                proc.wait()

    def test_bounded_input_and_the_last_timestamp(self):
        # What botocore sends unchecked (lengths, patterns, maxima) is refused by the service's
        # bounds, as the modeled InvalidRequestException naming the member.
        with self.assertRaises(self.iot.exceptions.InvalidRequestException) as ctx:
            self.iot.create_thing(thingName="t", attributePayload={"attributes": {"k": "v" * 801}})
        self.assertIn("800", ctx.exception.response["Error"]["Message"])
        with self.assertRaises(self.iot.exceptions.InvalidRequestException):
            self.iot.create_thing(thingName="t", thingTypeName="no spaces")
        self.things("t")
        self.job("j", [thing_arn("t")])
        with self.assertRaises(self.iot.exceptions.InvalidRequestException) as ctx:
            self.iot.update_job(jobId="j", jobExecutionsRolloutConfig={"maximumPerMinute": 2**31})
        self.assertIn("maximumPerMinute", ctx.exception.response["Error"]["Message"])
        with self.assertRaises(self.iot.exceptions.InvalidRequestException):
            self.iot.update_job(jobId="j", presignedUrlConfig={"roleArn": "arn:aws:iam::123456789012:role/r", "expiresInSec": 4000})
        self.iot.update_job(jobId="j", presignedUrlConfig={"roleArn": "arn:aws:iam::123456789012:role/r", "expiresInSec": 3600})
        self.assertEqual(self.iot.describe_job(jobId="j")["job"]["presignedUrlConfig"]["expiresInSec"], 3600)
        # The clock goes up to the last second the registry stores, and botocore parses it.
        proc, url = start_emulator("--clock", "manual", "--log-level", "warn")
        try:
            iot, _ = clients(url)
            now = admin("GET", "/_emulator/clock", url=url)["now"]
            self.assertEqual(admin("POST", "/_emulator/clock", {"advanceSeconds": 4291747200 - now}, url=url)["now"], 4291747200)
            req = urllib.request.Request(url + "/_emulator/clock", method="POST", data=json.dumps({"advanceSeconds": 1}).encode())
            with self.assertRaises(urllib.error.HTTPError) as ctx:
                urllib.request.urlopen(req)
            self.assertEqual(ctx.exception.code, 400)
            iot.create_thing(thingName="t")
            iot.create_job(jobId="j", targets=[thing_arn("t")], document="{}")
            created = iot.describe_job(jobId="j")["job"]["createdAt"]
            self.assertEqual((created.year, created.month, created.day, created.second), (2106, 1, 1, 0))
        finally:
            proc.kill()
            proc.wait()

    # ---- time: the core's Registry::advance, driven by the manual clock ----------------------------

    def advance(self, secs):
        return admin("POST", "/_emulator/clock", {"advanceSeconds": secs})["now"]

    def test_in_progress_timeout_and_retry(self):
        self.things("t1")
        self.job("to", [thing_arn("t1")], timeoutConfig={"inProgressTimeoutInMinutes": 1},
                 jobExecutionsRetryConfig={"criteriaList": [{"failureType": "TIMED_OUT", "numberOfRetries": 1}]})
        self.data.start_next_pending_job_execution(thingName="t1")
        ex = self.iot.describe_job_execution(thingName="t1", jobId="to")["execution"]
        self.assertEqual(ex["approximateSecondsBeforeTimedOut"], 60)
        self.advance(30)
        ex = self.data.describe_job_execution(thingName="t1", jobId="to")["execution"]
        self.assertEqual((ex["status"], ex["approximateSecondsBeforeTimedOut"]), ("IN_PROGRESS", 30))
        self.advance(30)
        first = self.iot.describe_job_execution(thingName="t1", jobId="to", executionNumber=1)["execution"]
        self.assertEqual(first["status"], "TIMED_OUT")
        self.assertNotIn("approximateSecondsBeforeTimedOut", first)
        # The retry is a new execution with the next number (R7, T12).
        summaries = self.iot.list_job_executions_for_job(jobId="to")["executionSummaries"]
        got = sorted((s["jobExecutionSummary"]["executionNumber"], s["jobExecutionSummary"]["status"],
                      s["jobExecutionSummary"]["retryAttempt"]) for s in summaries)
        self.assertEqual(got, [(1, "TIMED_OUT", 0), (2, "QUEUED", 1)])
        with self.assertRaises(self.data.exceptions.InvalidStateTransitionException):
            self.data.update_job_execution(thingName="t1", jobId="to", status="SUCCEEDED", executionNumber=1)
        self.data.start_next_pending_job_execution(thingName="t1")
        self.advance(60)
        # One retry only: the job completes with both executions timed out.
        job = self.iot.describe_job(jobId="to")["job"]
        self.assertEqual((job["status"], job["jobProcessDetails"]["numberOfTimedOutThings"]), ("COMPLETED", 2))

    def test_step_timeout_set_and_cancelled(self):
        self.things("t1", "t2")
        self.job("st", [thing_arn("t1"), thing_arn("t2")])
        self.data.update_job_execution(thingName="t1", jobId="st", status="IN_PROGRESS", stepTimeoutInMinutes=2)
        self.data.update_job_execution(thingName="t2", jobId="st", status="IN_PROGRESS", stepTimeoutInMinutes=2)
        self.data.update_job_execution(thingName="t2", jobId="st", status="IN_PROGRESS", stepTimeoutInMinutes=-1)
        self.assertNotIn("approximateSecondsBeforeTimedOut", self.data.describe_job_execution(thingName="t2", jobId="st")["execution"])
        self.advance(119)
        self.assertEqual(self.status("t1", "st"), "IN_PROGRESS")
        self.advance(1)
        self.assertEqual((self.status("t1", "st"), self.status("t2", "st")), ("TIMED_OUT", "IN_PROGRESS"))

    def test_failure_retry_and_abort(self):
        self.things("t1", "t2", "t3")
        self.job("rf", [thing_arn("t1")],
                 jobExecutionsRetryConfig={"criteriaList": [{"failureType": "FAILED", "numberOfRetries": 2}]})
        self.data.update_job_execution(thingName="t1", jobId="rf", status="FAILED")
        ex = self.iot.describe_job_execution(thingName="t1", jobId="rf")["execution"]
        self.assertEqual((ex["executionNumber"], ex["status"]), (2, "QUEUED"))
        self.job("ab", [thing_arn(t) for t in ("t1", "t2", "t3")],
                 abortConfig={"criteriaList": [{"failureType": "FAILED", "action": "CANCEL",
                                                "thresholdPercentage": 50, "minNumberOfExecutedThings": 1}]})
        self.data.update_job_execution(thingName="t3", jobId="ab", status="IN_PROGRESS")
        self.data.update_job_execution(thingName="t1", jobId="ab", status="FAILED")
        job = self.iot.describe_job(jobId="ab")["job"]
        self.assertEqual((job["status"], job["reasonCode"]), ("CANCELED", "ABORT_CRITERIA_MET"))
        # Abort cancels only QUEUED executions (T8).
        self.assertEqual((self.status("t2", "ab"), self.status("t3", "ab")), ("CANCELED", "IN_PROGRESS"))

    def test_scheduled_start_and_rollout_pacing(self):
        import datetime
        self.things("t1", "t2", "t3")
        now = admin("GET", "/_emulator/clock")["now"]
        start = (now // 60 + 40) * 60
        stamp = datetime.datetime.fromtimestamp(start, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M")
        past = datetime.datetime.fromtimestamp(now - 3600, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M")
        with self.assertRaises(self.iot.exceptions.InvalidRequestException):
            self.job("late", [thing_arn("t1")], schedulingConfig={"startTime": past})
        self.job("sch", [thing_arn("t1")], schedulingConfig={"startTime": stamp})
        self.assertEqual(self.iot.describe_job(jobId="sch")["job"]["status"], "SCHEDULED")
        self.assertEqual(self.data.get_pending_job_executions(thingName="t1")["queuedJobs"], [])
        self.advance(start - now)
        self.assertEqual(self.iot.describe_job(jobId="sch")["job"]["status"], "IN_PROGRESS")
        self.assertEqual([j["jobId"] for j in self.data.get_pending_job_executions(thingName="t1")["queuedJobs"]], ["sch"])
        # One execution a minute.
        self.job("paced", [thing_arn(t) for t in ("t1", "t2", "t3")], jobExecutionsRolloutConfig={"maximumPerMinute": 1})
        count = lambda: len(self.iot.list_job_executions_for_job(jobId="paced")["executionSummaries"])
        self.assertEqual(count(), 1)
        self.advance(60)
        self.assertEqual(count(), 2)
        self.advance(60)
        self.assertEqual(count(), 3)

    def test_maintenance_windows_open_and_close(self):
        import datetime
        self.things("t1", "t2")
        now = admin("GET", "/_emulator/clock")["now"]
        if now % 3600 < 600:
            self.advance(600 - now % 3600)
            now = admin("GET", "/_emulator/clock")["now"]
        # Hourly windows of 10 minutes at :00 (SPEC AMBIG-28).
        windows = {"maintenanceWindows": [{"startTime": "cron(0 * * * ? *)", "durationInMinutes": 10}]}
        self.job("win", [thing_arn("t1"), thing_arn("t2")], schedulingConfig=windows)
        job = self.iot.describe_job(jobId="win")["job"]
        self.assertEqual(job["status"], "SCHEDULED")
        opens = now - now % 3600 + 3600
        stamp = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M")
        self.assertEqual([r["startTime"] for r in job["scheduledJobRollouts"]],
                         [stamp(opens + 3600 * i) for i in range(7)])
        self.assertEqual(self.data.get_pending_job_executions(thingName="t1")["queuedJobs"], [])
        self.advance(opens - now)
        self.assertEqual(self.iot.describe_job(jobId="win")["job"]["status"], "IN_PROGRESS")
        self.assertEqual([j["jobId"] for j in self.data.get_pending_job_executions(thingName="t2")["queuedJobs"]], ["win"])
        self.advance(600)
        self.assertEqual(self.iot.describe_job(jobId="win")["job"]["status"], "SCHEDULED")
        self.assertEqual(self.data.get_pending_job_executions(thingName="t2")["queuedJobs"], [])
        self.assertEqual(self.status("t2", "win"), "QUEUED")
        # The AWS CLI: a bad expression is a 400 that names the member and the position.
        code, _, err = aws("iot", "create-job", "--job-id", "badcron", "--targets", thing_arn("t1"),
                           "--document", "{}", "--scheduling-config",
                           json.dumps({"maintenanceWindows": [{"startTime": "cron(0 25 * * ? *)", "durationInMinutes": 5}]}))
        self.assertNotEqual(code, 0)
        self.assertIn("InvalidRequestException", err)
        self.assertIn("maintenanceWindows.startTime", err)
        self.assertIn("position 7", err)

    def test_exponential_rollout(self):
        things = [f"x{i}" for i in range(8)]
        self.things(*things)
        # SPEC AMBIG-29: base 1, doubled every 2 things notified, at most 3 a minute.
        self.job("exp", [thing_arn(t) for t in things],
                 jobExecutionsRolloutConfig={"maximumPerMinute": 3, "exponentialRate": {
                     "baseRatePerMinute": 1, "incrementFactor": 2.0,
                     "rateIncreaseCriteria": {"numberOfNotifiedThings": 2}}})
        count = lambda: len(self.iot.list_job_executions_for_job(jobId="exp")["executionSummaries"])
        seen = [count()]
        for _ in range(4):
            self.advance(60)
            seen.append(count())
        self.assertEqual(seen, [1, 2, 4, 7, 8])
        rate = self.iot.describe_job(jobId="exp")["job"]["jobExecutionsRolloutConfig"]["exponentialRate"]
        self.assertEqual((rate["baseRatePerMinute"], rate["incrementFactor"]), (1, 2.0))
        # The AWS CLI: a factor outside 1.1-5 is a 400.
        code, _, err = aws("iot", "create-job", "--job-id", "badexp", "--targets", thing_arn("x0"),
                           "--document", "{}", "--job-executions-rollout-config",
                           json.dumps({"exponentialRate": {"baseRatePerMinute": 1, "incrementFactor": 6.0,
                                                           "rateIncreaseCriteria": {"numberOfSucceededThings": 1}}}))
        self.assertNotEqual(code, 0)
        self.assertIn("InvalidRequestException", err)
        self.assertIn("incrementFactor", err)


    def test_the_aws_sdk_for_javascript_v3_works_unchanged(self):
        # js/jobs_with_aws_sdk.js: both planes through @aws-sdk/client-iot and
        # @aws-sdk/client-iot-jobs-data-plane, their exception classes, and their own retry of
        # injected throttles; configured with the endpoint, a region and dummy credentials only.
        node, modules = os.environ.get("EMU_NODE"), os.environ.get("EMU_NODE_MODULES")
        self.assertTrue(node and modules, "EMU_NODE and EMU_NODE_MODULES are set by run.sh")
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js", "jobs_with_aws_sdk.js")
        done = subprocess.run([node, script, URL, "js-dev", "js-job"], env={**os.environ, "NODE_PATH": modules},
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("aws-sdk: 0 failed", done.stdout)
        self.assertEqual(done.stdout.count("\nok   "), 11, done.stdout)
        self.assertEqual(self.status("js-dev", "js-job"), "SUCCEEDED")


class Result(unittest.TextTestResult):
    pass


if __name__ == "__main__":
    runner = unittest.TextTestRunner(verbosity=2, resultclass=Result, stream=sys.stdout)
    result = runner.run(unittest.defaultTestLoader.loadTestsFromTestCase(E2E))
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    t0 = int(os.environ.get("E2E_T0", "0") or 0)
    if t0:
        print(f"e2e run took {int(time.time()) - t0}s (including venv check and build)")
    print(f"e2e: {passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 and passed > 0 else 1)
