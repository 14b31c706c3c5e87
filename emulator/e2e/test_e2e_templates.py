"""End-to-end tests of job templates: the real AWS CLI and boto3 against iot-jobs-emulator (see run.sh).

Custom templates (CreateJobTemplate, DescribeJobTemplate, ListJobTemplates with the paginator,
DeleteJobTemplate), the AWS managed templates (ListManagedJobTemplates, DescribeManagedJobTemplate),
CreateJob from either kind (SPEC R22, AMBIG-30, AMBIG-31), GetJobDocument beforeSubstitution,
and templates across a SIGKILL restart with --state-file. Same environment as test_e2e.py.
"""

import json
import os
import signal
import sys
import tempfile
import unittest

from test_e2e import ARN, E2E, admin, aws, clients, run_cases, start_emulator, thing_arn

REBOOT = "arn:aws:iot:us-east-1::jobtemplate/AWS-Reboot:1.0"
DOWNLOAD = "arn:aws:iot:us-east-1::jobtemplate/AWS-Download-File:1.0"


class Templates(unittest.TestCase):
    setUp = E2E.setUp
    assertError = E2E.assertError

    def test_custom_templates_with_boto3(self):
        iot, data = self.iot, self.data
        iot.create_thing(thingName="t1")
        r = iot.create_job_template(
            jobTemplateId="fw",
            description="firmware",
            document='{"op":"fw"}',
            timeoutConfig={"inProgressTimeoutInMinutes": 5},
            jobExecutionsRetryConfig={"criteriaList": [{"failureType": "TIMED_OUT", "numberOfRetries": 1}]},
            tags=[{"Key": "team", "Value": "a"}],
        )
        self.assertEqual((r["jobTemplateArn"], r["jobTemplateId"]), (f"{ARN}:jobtemplate/fw", "fw"))
        d = iot.describe_job_template(jobTemplateId="fw")
        self.assertEqual((d["description"], d["document"], d["timeoutConfig"]), ("firmware", '{"op":"fw"}', {"inProgressTimeoutInMinutes": 5}))
        self.assertIsNotNone(d["createdAt"].tzinfo)  # a timestamp botocore parsed
        tags = iot.list_tags_for_resource(resourceArn=r["jobTemplateArn"])["tags"]
        self.assertEqual(tags, [{"Key": "team", "Value": "a"}])
        # A template's maintenance windows are its jobs' (the job waits for the first one).
        windows = [{"startTime": "cron(0 2 ? * SUN *)", "durationInMinutes": 60}]
        w = iot.create_job_template(jobTemplateId="win", description="w", document="{}", maintenanceWindows=windows)
        self.assertEqual(iot.describe_job_template(jobTemplateId="win")["maintenanceWindows"], windows)
        iot.create_job(jobId="jw", targets=[thing_arn("t1")], jobTemplateArn=w["jobTemplateArn"])
        job = iot.describe_job(jobId="jw")["job"]
        self.assertEqual(job["schedulingConfig"]["maintenanceWindows"], windows)
        self.assertTrue(all(s["startTime"].endswith("T02:00") for s in job["scheduledJobRollouts"]), job)
        with self.assertRaises(iot.exceptions.ConflictException) as c:
            iot.create_job_template(jobTemplateId="fw", description="again", document="{}")
        self.assertError(c, "ConflictException", 409)
        with self.assertRaises(iot.exceptions.InvalidRequestException) as c:
            iot.create_job_template(jobTemplateId="bad!id", description="d", document="{}")
        self.assertError(c, "InvalidRequestException", 400)
        # A job from the template: its own timeout replaces the template's, the retry is the template's.
        out = iot.create_job(jobId="j1", targets=[thing_arn("t1")], jobTemplateArn=r["jobTemplateArn"], timeoutConfig={"inProgressTimeoutInMinutes": 1})
        self.assertEqual(out["description"], "firmware")
        job = iot.describe_job(jobId="j1")["job"]
        self.assertEqual(job["jobTemplateArn"], r["jobTemplateArn"])
        self.assertEqual(job["timeoutConfig"], {"inProgressTimeoutInMinutes": 1})
        self.assertEqual(job["jobExecutionsRetryConfig"]["criteriaList"][0]["numberOfRetries"], 1)
        self.assertEqual(iot.get_job_document(jobId="j1")["document"], '{"op":"fw"}')
        data.update_job_execution(thingName="t1", jobId="j1", status="IN_PROGRESS")
        admin("POST", "/_emulator/clock", {"advanceSeconds": 61})
        ex = iot.describe_job_execution(thingName="t1", jobId="j1")["execution"]
        self.assertEqual((ex["status"], ex["executionNumber"]), ("QUEUED", 2))
        with self.assertRaises(iot.exceptions.InvalidRequestException) as c:
            iot.create_job(jobId="j2", targets=[thing_arn("t1")], jobTemplateArn=r["jobTemplateArn"], document="{}")
        self.assertError(c, "InvalidRequestException", 400)
        with self.assertRaises(iot.exceptions.ResourceNotFoundException) as c:
            iot.create_job(jobId="j2", targets=[thing_arn("t1")], jobTemplateArn=f"{ARN}:jobtemplate/nope")
        self.assertError(c, "ResourceNotFoundException", 404)
        # A template from the job; the paginator walks every page.
        iot.create_job_template(jobTemplateId="copy", description="copy", jobArn=f"{ARN}:job/j1")
        self.assertEqual(iot.describe_job_template(jobTemplateId="copy")["timeoutConfig"], {"inProgressTimeoutInMinutes": 1})
        # A documentSource is read when the template is created: its object is registered first.
        admin("PUT", "/_emulator/objects/bkt/k", {})
        for i in range(3):
            iot.create_job_template(jobTemplateId=f"p{i}", description=f"p{i}", documentSource="https://s3.amazonaws.com/bkt/k")
        pages = iot.get_paginator("list_job_templates").paginate(PaginationConfig={"PageSize": 2})
        ids = [t["jobTemplateId"] for p in pages for t in p["jobTemplates"]]
        self.assertEqual(sorted(ids), ["copy", "fw", "p0", "p1", "p2", "win"])
        iot.delete_job_template(jobTemplateId="fw")
        with self.assertRaises(iot.exceptions.ResourceNotFoundException) as c:
            iot.describe_job_template(jobTemplateId="fw")
        self.assertError(c, "ResourceNotFoundException", 404)

    def test_managed_templates_with_the_cli(self):
        rc, out, err = aws("iot", "list-managed-job-templates")
        self.assertEqual(rc, 0, err)
        names = [t["templateName"] for t in out["managedJobTemplates"]]
        for n in ("AWS-Download-File", "AWS-Install-Application", "AWS-Reboot", "AWS-Remove-Application", "AWS-Restart-Application", "AWS-Run-Command", "AWS-Start-Application", "AWS-Stop-Application"):
            self.assertIn(n, names)
        rc, out, err = aws("iot", "list-managed-job-templates", "--template-name", "AWS-Reboot")
        self.assertEqual((rc, [t["templateArn"] for t in out["managedJobTemplates"]]), (0, [REBOOT]), err)
        rc, d, err = aws("iot", "describe-managed-job-template", "--template-name", "AWS-Download-File", "--template-version", "1.0")
        self.assertEqual(rc, 0, err)
        self.assertEqual([p["key"] for p in d["documentParameters"]], ["downloadUrl", "filePath", "runAsUser", "pathToHandler"])
        self.assertEqual((d["documentParameters"][0]["optional"], d["documentParameters"][2]["optional"]), (False, True))
        rc, _, err = aws("iot", "describe-managed-job-template", "--template-name", "AWS-Nope")
        self.assertNotEqual(rc, 0)
        self.assertIn("ResourceNotFoundException", err)
        # The developer guide's create-job with --document-parameters.
        rc, _, err = aws("iot", "create-thing", "--thing-name", "thingOne")
        self.assertEqual(rc, 0, err)
        rc, out, err = aws("iot", "create-job", "--targets", thing_arn("thingOne"), "--job-id", "new-managed-template-job", "--job-template-arn", DOWNLOAD, "--document-parameters", "downloadUrl=https://example.com/index.html,filePath=path/to/file")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["description"], "A managed job template for downloading a file.")
        rc, doc, err = aws("iot", "get-job-document", "--job-id", "new-managed-template-job")
        self.assertEqual(rc, 0, err)
        action = json.loads(doc["document"])["steps"][0]["action"]
        self.assertEqual(action["input"]["args"], ["https://example.com/index.html", "path/to/file"])
        rc, before, err = aws("iot", "get-job-document", "--job-id", "new-managed-template-job", "--before-substitution")
        self.assertEqual((rc, before["document"]), (0, d["document"]), err)
        rc, job, err = aws("iot", "describe-job", "--job-id", "new-managed-template-job")
        self.assertEqual((rc, job["job"]["documentParameters"]["filePath"], job["job"]["jobTemplateArn"]), (0, "path/to/file", DOWNLOAD), err)
        # The device sees the substituted document.
        nxt = self.data.start_next_pending_job_execution(thingName="thingOne")["execution"]
        self.assertIn("https://example.com/index.html", nxt["jobDocument"])
        # A missing required parameter, an unknown one, a value too long for its pattern.
        for params in ("downloadUrl=u", "downloadUrl=u,filePath=f,nope=1", "downloadUrl=u,filePath=f,runAsUser=" + "u" * 257):
            rc, _, err = aws("iot", "create-job", "--targets", thing_arn("thingOne"), "--job-id", "bad", "--job-template-arn", DOWNLOAD, "--document-parameters", params)
            self.assertNotEqual(rc, 0, params)
            self.assertIn("InvalidRequestException", err)
        with self.assertRaises(self.iot.exceptions.InvalidRequestException) as c:
            self.iot.create_job(jobId="bad", targets=[thing_arn("thingOne")], document="{}", documentParameters={"a": "b"})
        self.assertError(c, "InvalidRequestException", 400)
        self.iot.create_job(jobId="rb", targets=[thing_arn("thingOne")], jobTemplateArn=REBOOT)

    def test_templates_survive_a_sigkill_restart(self):
        with tempfile.TemporaryDirectory() as tmp:
            state = os.path.join(tmp, "state.json")
            args = ("--clock", "manual", "--state-file", state, "--log-level", "warn")
            proc, url = start_emulator(*args)
            try:
                iot, _ = clients(url)
                iot.create_thing(thingName="t1")
                iot.create_job_template(jobTemplateId="keep", description="kept", document='{"k":1}')
                iot.create_job(jobId="cmd", targets=[thing_arn("t1")], jobTemplateArn="arn:aws:iot:us-east-1::jobtemplate/AWS-Run-Command:1.0", documentParameters={"command": "ls,-l"})
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                proc, url = start_emulator(*args)
                iot, _ = clients(url)
                self.assertEqual(iot.describe_job_template(jobTemplateId="keep")["description"], "kept")
                self.assertIn("${aws:iot:parameter:command}", iot.get_job_document(jobId="cmd", beforeSubstitution=True)["document"])
                self.assertIn("ls,-l", iot.get_job_document(jobId="cmd")["document"])
                # A graceful stop right after the replay keeps them too.
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
                proc, url = start_emulator(*args)
                iot, _ = clients(url)
                self.assertEqual([t["jobTemplateId"] for t in iot.list_job_templates()["jobTemplates"]], ["keep"])
            finally:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    sys.exit(run_cases("templates", Templates))
