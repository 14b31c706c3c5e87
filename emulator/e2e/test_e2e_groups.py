"""End-to-end tests of the thing-group hierarchy, tags and event configurations with boto3 and the
AWS CLI (see run.sh): botocore's own shapes, paginators and modeled exceptions against the emulator.

Environment (set by run.sh): as test_e2e.py (EMU_URL, EMU_BIN, EMU_AWS, AWS_* dummy credentials).
"""

import datetime
import os
import signal
import sys
import tempfile
import unittest

from test_e2e import ARN, admin, aws, clients, group_arn, run_cases, start_emulator, thing_arn


class Groups(unittest.TestCase):
    def setUp(self):
        admin("POST", "/_emulator/reset")
        self.iot, self.data = clients()

    def error(self, ctx, code, status):
        err = ctx.exception.response
        self.assertEqual((err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]), (code, status), err)

    def tree(self, iot=None):
        """root > mid > leaf and root > other; t-root, t-mid, t-leaf in root, mid, leaf."""
        iot = iot or self.iot
        iot.create_thing_group(thingGroupName="root")
        iot.create_thing_group(thingGroupName="mid", parentGroupName="root")
        iot.create_thing_group(thingGroupName="leaf", parentGroupName="mid")
        iot.create_thing_group(thingGroupName="other", parentGroupName="root")
        for t, g in (("t-root", "root"), ("t-mid", "mid"), ("t-leaf", "leaf")):
            iot.create_thing(thingName=t)
            iot.add_thing_to_thing_group(thingGroupName=g, thingName=t)

    def groups(self, **kw):
        pages = self.iot.get_paginator("list_thing_groups").paginate(**kw, PaginationConfig={"PageSize": 1})
        return [g["groupName"] for p in pages for g in p["thingGroups"]]

    # ---- hierarchy -------------------------------------------------------------------------------------

    def test_hierarchy_shapes_and_listings(self):
        self.tree()
        meta = self.iot.describe_thing_group(thingGroupName="leaf")["thingGroupMetadata"]
        self.assertEqual(meta["parentGroupName"], "mid")
        self.assertEqual(meta["rootToParentThingGroups"], [
            {"groupName": "root", "groupArn": group_arn("root")},
            {"groupName": "mid", "groupArn": group_arn("mid")},
        ])
        self.assertIsInstance(meta["creationDate"], datetime.datetime)
        self.assertEqual(self.groups(), ["leaf", "mid", "other", "root"])
        self.assertEqual(self.groups(recursive=False), ["root"])
        self.assertEqual(self.groups(parentGroup="root", recursive=False), ["mid", "other"])
        self.assertEqual(self.groups(parentGroup="mid"), ["leaf"])
        self.assertEqual(self.groups(namePrefixFilter="o"), ["other"])
        pages = self.iot.get_paginator("list_things_in_thing_group").paginate(
            thingGroupName="root", recursive=True, PaginationConfig={"PageSize": 2})
        self.assertEqual([t for p in pages for t in p["things"]], ["t-leaf", "t-mid", "t-root"])
        self.assertEqual(self.iot.list_things_in_thing_group(thingGroupName="root")["things"], ["t-root"])
        got = self.iot.list_thing_groups_for_thing(thingName="t-leaf")["thingGroups"]
        self.assertEqual(got, [{"groupName": "leaf", "groupArn": group_arn("leaf")}])
        # One group per hierarchy: t-leaf (in leaf) cannot join other, below the same root.
        with self.assertRaises(self.iot.exceptions.InvalidRequestException) as ctx:
            self.iot.add_thing_to_thing_group(thingGroupName="other", thingName="t-leaf")
        self.error(ctx, "InvalidRequestException", 400)
        self.assertEqual(self.iot.list_things_in_thing_group(thingGroupName="other")["things"], [])
        with self.assertRaises(self.iot.exceptions.ResourceNotFoundException) as ctx:
            self.iot.create_thing_group(thingGroupName="x", parentGroupName="nope")
        self.error(ctx, "ResourceNotFoundException", 404)
        with self.assertRaises(self.iot.exceptions.ResourceNotFoundException):
            self.iot.list_thing_groups(parentGroup="nope")
        # Seven levels at most.
        parent = "leaf"
        for level in range(4, 8):
            self.iot.create_thing_group(thingGroupName=f"l{level}", parentGroupName=parent)
            parent = f"l{level}"
        with self.assertRaises(self.iot.exceptions.InvalidRequestException) as ctx:
            self.iot.create_thing_group(thingGroupName="l8", parentGroupName="l7")
        self.error(ctx, "InvalidRequestException", 400)
        # A group with children is not deleted.
        with self.assertRaises(self.iot.exceptions.InvalidRequestException):
            self.iot.delete_thing_group(thingGroupName="root")
        self.assertEqual(self.iot.describe_thing_group(thingGroupName="root")["thingGroupName"], "root")

    def test_a_job_on_a_parent_group_reaches_its_child_groups(self):
        self.tree()
        self.iot.create_job(jobId="c", targets=[group_arn("root")], document="{}", targetSelection="CONTINUOUS")
        for t in ("t-root", "t-mid", "t-leaf"):
            self.assertEqual(self.iot.describe_job_execution(thingName=t, jobId="c")["execution"]["status"], "QUEUED")
        self.iot.create_thing(thingName="late")
        self.iot.add_thing_to_thing_group(thingGroupName="leaf", thingName="late")
        queued = self.data.get_pending_job_executions(thingName="late")["queuedJobs"]
        self.assertEqual([j["jobId"] for j in queued], ["c"])
        self.iot.remove_thing_from_thing_group(thingGroupName="leaf", thingName="late")
        self.assertEqual(self.iot.describe_job_execution(thingName="late", jobId="c")["execution"]["status"], "REMOVED")

    def test_update_thing_groups_for_thing_moves_its_continuous_jobs(self):
        self.tree()
        for job, g in (("job-leaf", "leaf"), ("job-other", "other")):
            self.iot.create_job(jobId=job, targets=[group_arn(g)], document="{}", targetSelection="CONTINUOUS")
        status = lambda job: self.iot.describe_job_execution(thingName="t-leaf", jobId=job)["execution"]["status"]
        groups_of = lambda: [g["groupName"] for g in self.iot.list_thing_groups_for_thing(thingName="t-leaf")["thingGroups"]]
        # An unknown group: 404, and nothing changed.
        with self.assertRaises(self.iot.exceptions.ResourceNotFoundException) as ctx:
            self.iot.update_thing_groups_for_thing(
                thingName="t-leaf", thingGroupsToAdd=["other", "nope"], thingGroupsToRemove=["leaf"])
        self.error(ctx, "ResourceNotFoundException", 404)
        self.assertEqual(groups_of(), ["leaf"])
        self.assertEqual(status("job-leaf"), "QUEUED")
        with self.assertRaises(self.iot.exceptions.ResourceNotFoundException):
            self.iot.describe_job_execution(thingName="t-leaf", jobId="job-other")
        # leaf -> other: job-leaf's execution is REMOVED, job-other rolls out to it.
        self.iot.update_thing_groups_for_thing(
            thingName="t-leaf", thingGroupsToAdd=["other"], thingGroupsToRemove=["leaf"], overrideDynamicGroups=False)
        self.assertEqual(groups_of(), ["other"])
        self.assertEqual((status("job-leaf"), status("job-other")), ("REMOVED", "QUEUED"))
        queued = self.data.get_pending_job_executions(thingName="t-leaf")["queuedJobs"]
        self.assertEqual([j["jobId"] for j in queued], ["job-other"])

    def test_update_thing_and_thing_group(self):
        self.iot.create_thing(thingName="t", attributePayload={"attributes": {"a": "1", "b": "2"}})
        self.iot.update_thing(thingName="t", expectedVersion=1,
                              attributePayload={"attributes": {"b": "", "c": "3"}, "merge": True})
        d = self.iot.describe_thing(thingName="t")
        self.assertEqual((d["attributes"], d["version"]), ({"a": "1", "c": "3"}, 2))
        self.iot.update_thing(thingName="t", thingTypeName="sensor", attributePayload={"attributes": {"z": "26"}})
        d = self.iot.describe_thing(thingName="t")
        self.assertEqual((d["attributes"], d["thingTypeName"], d["version"]), ({"z": "26"}, "sensor", 3))
        with self.assertRaises(self.iot.exceptions.VersionConflictException) as ctx:
            self.iot.update_thing(thingName="t", expectedVersion=1, removeThingType=True)
        self.error(ctx, "VersionConflictException", 409)
        self.assertEqual(self.iot.describe_thing(thingName="t")["thingTypeName"], "sensor")
        self.iot.create_thing_group(thingGroupName="g", thingGroupProperties={"thingGroupDescription": "one"})
        r = self.iot.update_thing_group(thingGroupName="g", expectedVersion=1, thingGroupProperties={
            "thingGroupDescription": "two", "attributePayload": {"attributes": {"k": "v"}}})
        self.assertEqual(r["version"], 2)
        props = self.iot.describe_thing_group(thingGroupName="g")["thingGroupProperties"]
        self.assertEqual(props, {"thingGroupDescription": "two", "attributePayload": {"attributes": {"k": "v"}}})
        with self.assertRaises(self.iot.exceptions.VersionConflictException) as ctx:
            self.iot.update_thing_group(thingGroupName="g", expectedVersion=1, thingGroupProperties={})
        self.error(ctx, "VersionConflictException", 409)
        rc, out, err = aws("iot", "update-thing-group", "--thing-group-name", "g",
                           "--thing-group-properties", '{"attributePayload": {"attributes": {"n": "1"}, "merge": true}}')
        self.assertEqual((rc, out), (0, {"version": 3}), err)

    def test_the_cli_lists_the_hierarchy(self):
        self.tree()
        rc, out, err = aws("iot", "list-thing-groups", "--parent-group", "root", "--no-recursive")
        self.assertEqual((rc, [g["groupName"] for g in out["thingGroups"]]), (0, ["mid", "other"]), err)
        rc, out, err = aws("iot", "list-things-in-thing-group", "--thing-group-name", "mid", "--recursive")
        self.assertEqual((rc, out["things"]), (0, ["t-leaf", "t-mid"]), err)
        rc, out, err = aws("iot", "describe-thing-group", "--thing-group-name", "leaf")
        self.assertEqual((rc, out["thingGroupMetadata"]["parentGroupName"]), (0, "mid"), err)

    # ---- tags ------------------------------------------------------------------------------------------

    def tags(self, arn):
        pages = self.iot.get_paginator("list_tags_for_resource").paginate(resourceArn=arn)
        return {t["Key"]: t.get("Value") for p in pages for t in p["tags"]}

    def test_tags_on_groups_and_jobs(self):
        self.iot.create_thing_group(thingGroupName="g", tags=[{"Key": "env", "Value": "prod"}])
        self.iot.create_job(jobId="j", targets=[group_arn("g")], document="{}", tags=[{"Key": "k", "Value": "v"}])
        self.assertEqual(self.tags(group_arn("g")), {"env": "prod"})
        job = f"{ARN}:job/j"
        self.iot.tag_resource(resourceArn=job, tags=[{"Key": "k", "Value": "w"}, {"Key": "a", "Value": "b"}])
        self.assertEqual(self.tags(job), {"a": "b", "k": "w"})
        self.iot.untag_resource(resourceArn=job, tagKeys=["a"])
        self.assertEqual(self.tags(job), {"k": "w"})
        self.iot.tag_resource(resourceArn=job, tags=[{"Key": f"n{i}", "Value": "v"} for i in range(49)])
        with self.assertRaises(self.iot.exceptions.LimitExceededException) as ctx:
            self.iot.tag_resource(resourceArn=job, tags=[{"Key": "one-more", "Value": "v"}])
        self.error(ctx, "LimitExceededException", 410)
        with self.assertRaises(self.iot.exceptions.InvalidRequestException):
            self.iot.tag_resource(resourceArn=group_arn("g"), tags=[{"Key": "aws:reserved", "Value": "v"}])
        with self.assertRaises(self.iot.exceptions.InvalidRequestException):
            self.iot.create_thing_group(thingGroupName="g2", tags=[{"Key": "k", "Value": "v" * 257}])
        self.iot.create_thing(thingName="t")
        with self.assertRaises(self.iot.exceptions.InvalidRequestException):
            self.iot.list_tags_for_resource(resourceArn=thing_arn("t"))
        with self.assertRaises(self.iot.exceptions.ResourceNotFoundException) as ctx:
            self.iot.tag_resource(resourceArn=f"{ARN}:job/nope", tags=[{"Key": "k", "Value": "v"}])
        self.error(ctx, "ResourceNotFoundException", 404)
        self.assertEqual(len(self.tags(job)), 50)

    def test_the_cli_tags_a_group(self):
        self.iot.create_thing_group(thingGroupName="g")
        rc, _, err = aws("iot", "tag-resource", "--resource-arn", group_arn("g"), "--tags", "Key=team,Value=fw")
        self.assertEqual(rc, 0, err)
        rc, out, err = aws("iot", "list-tags-for-resource", "--resource-arn", group_arn("g"))
        self.assertEqual((rc, out["tags"]), (0, [{"Key": "team", "Value": "fw"}]), err)
        rc, _, err = aws("iot", "untag-resource", "--resource-arn", group_arn("g"), "--tag-keys", "team")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.tags(group_arn("g")), {})

    # ---- event configurations --------------------------------------------------------------------------

    def test_event_configurations(self):
        got = self.iot.describe_event_configurations()
        self.assertEqual(len(got["eventConfigurations"]), 11)
        self.assertEqual(got["eventConfigurations"]["JOB"], {"Enabled": True})
        self.assertEqual(got["eventConfigurations"]["THING"], {"Enabled": False})
        self.iot.update_event_configurations(eventConfigurations={"JOB": {"Enabled": False}})
        got = self.iot.describe_event_configurations()
        self.assertEqual((got["eventConfigurations"]["JOB"], got["eventConfigurations"]["JOB_EXECUTION"]),
                         ({"Enabled": False}, {"Enabled": True}))
        self.assertIsInstance(got["lastModifiedDate"], datetime.datetime)
        with self.assertRaises(self.iot.exceptions.InvalidRequestException):
            self.iot.update_event_configurations(eventConfigurations={"NOT_A_TYPE": {"Enabled": True}})
        rc, _, err = aws("iot", "update-event-configurations", "--event-configurations", '{"JOB":{"Enabled":true}}')
        self.assertEqual(rc, 0, err)
        rc, out, err = aws("iot", "describe-event-configurations")
        self.assertEqual((rc, out["eventConfigurations"]["JOB"]), (0, {"Enabled": True}), err)

    # ---- restart with --state-file ---------------------------------------------------------------------

    def test_a_restart_keeps_parents_tags_and_event_configurations(self):
        with tempfile.TemporaryDirectory() as tmp:
            args = ("--clock", "manual", "--state-file", os.path.join(tmp, "state.json"), "--log-level", "warn")
            proc, url = start_emulator(*args)
            try:
                iot, _ = clients(url)
                self.tree(iot)
                iot.tag_resource(resourceArn=group_arn("mid"), tags=[{"Key": "k", "Value": "v"}])
                iot.update_event_configurations(eventConfigurations={"JOB_EXECUTION": {"Enabled": False}})
                for stop in (signal.SIGKILL, signal.SIGTERM):
                    proc.send_signal(stop)
                    proc.wait()
                    proc, url = start_emulator(*args)
                    iot, _ = clients(url)
                    meta = iot.describe_thing_group(thingGroupName="leaf")["thingGroupMetadata"]
                    self.assertEqual([g["groupName"] for g in meta["rootToParentThingGroups"]], ["root", "mid"])
                    self.assertEqual(iot.list_tags_for_resource(resourceArn=group_arn("mid"))["tags"],
                                     [{"Key": "k", "Value": "v"}])
                    got = iot.describe_event_configurations()["eventConfigurations"]
                    self.assertEqual(got["JOB_EXECUTION"], {"Enabled": False})
            finally:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    sys.exit(run_cases("groups", Groups))
