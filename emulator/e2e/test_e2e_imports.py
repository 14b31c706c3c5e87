"""Hand-edited imports (see run.sh): a world built with boto3 is exported (GET /_emulator/state),
mutated at random and loaded (POST /_emulator/state). Whatever the edit, the answer is 200 or a
4xx that changed nothing, never a 5xx; what is accepted exports again and loads back to the same
state, and the operations of both planes on it (describe, list, update, start-next, cancel,
delete, the clock) answer without a 5xx, after which the state still exports and loads.

Environment (set by run.sh): as test_e2e.py. E2E_IMPORT_CASES sets the number of edited imports
(default 300), E2E_IMPORT_SEED the generator's seed (default 1); a failure names the seed and the
case, and writes the edited import beside the system's temporary files.
"""

import copy
import json
import os
import random
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from test_e2e import ARN, URL, admin, clients, group_arn, run_cases, thing_arn

CASES = int(os.environ.get("E2E_IMPORT_CASES", "300"))
SEED = int(os.environ.get("E2E_IMPORT_SEED", "1"))
CONTROL = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iot/aws4_request, SignedHeaders=host, Signature=00"
DATA = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iot-jobs-data/aws4_request, SignedHeaders=host, Signature=00"


def send(method, path, body=b"", auth=CONTROL):
    """(status, body) of one request."""
    req = urllib.request.Request(URL + path, method=method, data=body,
                                 headers={"Authorization": auth, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def world():
    """A state with every kind of item the import holds: things with attributes, a group
    hierarchy, jobs with every configuration, executions with statusDetails and timers, a
    template and the jobs made from one, tags, a forced cancel, a deletion in progress (run.sh's
    --deletion-delay 60), a deleted target."""
    iot, data = clients()
    for t in ("t1", "t2", "t3", "t4"):
        iot.create_thing(thingName=t, attributePayload={"attributes": {"model": t}})
    iot.create_thing_group(thingGroupName="g1", tags=[{"Key": "k", "Value": "v"}])
    iot.create_thing_group(thingGroupName="g2", parentGroupName="g1")
    iot.add_thing_to_thing_group(thingGroupName="g1", thingName="t1")
    iot.add_thing_to_thing_group(thingGroupName="g2", thingName="t2")
    iot.create_job(
        jobId="cfg", targets=[thing_arn("t1"), thing_arn("t2"), thing_arn("t3")], document="{}",
        timeoutConfig={"inProgressTimeoutInMinutes": 10},
        jobExecutionsRetryConfig={"criteriaList": [{"failureType": "FAILED", "numberOfRetries": 2}]},
        abortConfig={"criteriaList": [{"failureType": "FAILED", "action": "CANCEL", "thresholdPercentage": 50,
                                       "minNumberOfExecutedThings": 2}]},
        jobExecutionsRolloutConfig={"maximumPerMinute": 10}, tags=[{"Key": "team", "Value": "a"}])
    iot.create_job(jobId="ramp", targets=[thing_arn("t1"), thing_arn("t2"), thing_arn("t4")], document="{}",
                   jobExecutionsRolloutConfig={"maximumPerMinute": 10, "exponentialRate": {
                       "baseRatePerMinute": 1, "incrementFactor": 2,
                       "rateIncreaseCriteria": {"numberOfNotifiedThings": 1}}})
    iot.create_job(jobId="cont", targets=[group_arn("g1")], document='{"a":1}', targetSelection="CONTINUOUS",
                   namespaceId="ns", description="continuous")
    now = admin("POST", "/_emulator/clock", {"advanceSeconds": 0})["now"]
    start = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(now + 86400))
    end = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(now + 30 * 86400))
    iot.create_job(jobId="sched", targets=[thing_arn("t4")], document="{}", schedulingConfig={
        "startTime": start, "endTime": end, "endBehavior": "FORCE_CANCEL",
        "maintenanceWindows": [{"startTime": "cron(0 1 * * ? *)", "durationInMinutes": 60}]})
    iot.create_job_template(jobTemplateId="tpl", document="{}", description="template")
    iot.create_job(jobId="fromtpl", targets=[thing_arn("t4")], jobTemplateArn=f"{ARN}:jobtemplate/tpl")
    iot.create_job(jobId="managed", targets=[thing_arn("t3")],
                   jobTemplateArn="arn:aws:iot:us-east-1::jobtemplate/AWS-Reboot:1.0", documentParameters={})
    data.start_next_pending_job_execution(thingName="t1", statusDetails={"step": "1"}, stepTimeoutInMinutes=5)
    data.update_job_execution(thingName="t2", jobId="cfg", status="IN_PROGRESS", statusDetails={"x": "y"})
    data.update_job_execution(thingName="t3", jobId="cfg", status="FAILED")
    iot.cancel_job(jobId="fromtpl", force=True, reasonCode="OPS", comment="stop")
    iot.delete_job(jobId="managed", force=True)
    iot.delete_thing(thingName="t3")
    admin("POST", "/_emulator/clock", {"advanceSeconds": 120})


def scalars(v, out):
    """The strings and integers of a JSON value."""
    if isinstance(v, dict):
        for x in v.values():
            scalars(x, out)
    elif isinstance(v, list):
        for x in v:
            scalars(x, out)
    elif isinstance(v, (str, int)) and not isinstance(v, bool):
        out.add(v)


def paths(v, p=()):
    yield p
    if isinstance(v, dict):
        for k, x in v.items():
            yield from paths(x, p + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from paths(x, p + (i,))


class Editor:
    """Random edits of a JSON value: a member or element replaced, removed or repeated, two
    elements swapped, a number moved a little; replacements from the value's own strings and
    integers and from the edges (0, 2^32, 2^63, 2^64 - 1, empty, long, NUL, statuses)."""

    EDGES = [0, 1, -1, 2**31 - 1, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1, 4291747200, 4291747201, 1.5,
             "", "x" * 65, "x" * 2049, "x" * 40000, "\u0000", "é", "IN_PROGRESS", "QUEUED", "CANCELED", "COMPLETED",
             "SUCCEEDED", "DELETION_IN_PROGRESS", "t1", "t4", "g1", "cfg", None, True, False, [], {}]

    def __init__(self, seed, value):
        self.rng = random.Random(seed)
        found = set()
        scalars(value, found)
        self.own = sorted(found, key=repr)

    def value(self):
        r = self.rng
        pick = r.randrange(3)
        if pick == 0:
            return r.choice(self.EDGES)
        own = r.choice(self.own)
        if pick == 1 and isinstance(own, int):
            return own + r.choice([-1, 1, 60, -60, 86400])
        return own

    def edit(self, doc):
        r = self.rng
        p = r.choice(list(paths(doc))[1:])
        parent = doc
        for k in p[:-1]:
            parent = parent[k]
        k = p[-1]
        op = r.randrange(5)
        if op == 1 and isinstance(parent, dict):
            del parent[k]
        elif op == 1:
            parent.pop(k)
        elif op == 2 and isinstance(parent, list):
            parent.insert(k, copy.deepcopy(parent[k]))
        elif op == 3 and isinstance(parent, list) and len(parent) > 1:
            j = r.randrange(len(parent))
            parent[k], parent[j] = parent[j], parent[k]
        else:
            parent[k] = self.value()


def operations():
    """Both planes' operations on every job and thing of the loaded state: (what, status)."""
    got = []
    exported = json.loads(send("GET", "/_emulator/state")[1])
    jobs = list(exported["meta"]["jobs"])[:10]
    things = list(exported["meta"]["things"])[:10]
    for j in jobs:
        for method, path, body in (("GET", f"/jobs/{j}", b""), ("GET", f"/jobs/{j}/things", b""),
                                   ("GET", f"/jobs/{j}/job-document", b""),
                                   ("PATCH", f"/jobs/{j}", b'{"description":"edited"}'),
                                   ("POST", f"/jobs/{j}/targets", json.dumps({"targets": [thing_arn("t1")]}).encode())):
            got.append((f"{method} {path}", send(method, path, body)[0]))
    for t in things:
        for method, path, body, auth in (("GET", f"/things/{t}/jobs", b"", DATA),
                                         ("PUT", f"/things/{t}/jobs/$next", b'{"statusDetails":{"s":"1"}}', DATA),
                                         ("GET", f"/things/{t}/jobs", b"", CONTROL),
                                         ("GET", f"/things/{t}", b"", CONTROL)):
            got.append((f"{method} {path}", send(method, path, body, auth)[0]))
        for j in jobs:
            path = f"/things/{t}/jobs/{j}"
            got.append((f"POST {path}", send("POST", path, b'{"status":"SUCCEEDED"}', DATA)[0]))
    for method, path, body in (("POST", "/_emulator/clock", b'{"advanceSeconds":86400}'), ("GET", "/jobs", b""),
                               ("GET", "/things", b""), ("GET", "/thing-groups", b""), ("GET", "/job-templates", b""),
                               ("GET", "/_emulator/stats", b"")):
        got.append((f"{method} {path}", send(method, path, body)[0]))
    for j in jobs:
        got.append((f"PUT /jobs/{j}/cancel", send("PUT", f"/jobs/{j}/cancel?force=true", b"{}")[0]))
        got.append((f"DELETE /jobs/{j}", send("DELETE", f"/jobs/{j}?force=true")[0]))
    for t in things:
        got.append((f"DELETE /things/{t}", send("DELETE", f"/things/{t}")[0]))
    got.append(("POST /_emulator/clock", send("POST", "/_emulator/clock", b'{"advanceSeconds":604800}')[0]))
    return got


def without_seq(exported):
    """An export less its journal position (each import and change moves it)."""
    v = json.loads(exported)
    v.pop("seq", None)
    return v


class Imports(unittest.TestCase):
    def test_edited_imports_are_refused_or_work(self):
        admin("POST", "/_emulator/reset")
        world()
        status, original = send("GET", "/_emulator/state")
        self.assertEqual(status, 200)
        base = json.loads(original)
        editor = Editor(SEED, base)
        answers = {}
        for case in range(CASES):
            doc = copy.deepcopy(base)
            for _ in range(editor.rng.choice([1, 1, 1, 2, 3])):
                editor.edit(doc)
            body = json.dumps(doc).encode()
            where = f"seed {SEED}, case {case}"

            def keep():
                path = os.path.join(tempfile.gettempdir(), f"iot-jobs-import-{SEED}-{case}.json")
                with open(path, "wb") as f:
                    f.write(body)
                return f"{where}; the import is in {path}"

            status, answer = send("POST", "/_emulator/state", body)
            answers[status] = answers.get(status, 0) + 1
            self.assertIn(status, (200, 400, 413), f"{keep()}: {answer[:300]!r}")
            if status != 200:
                # Nothing changed: the state is still the one loaded before.
                self.assertEqual(without_seq(send("GET", "/_emulator/state")[1]), without_seq(original), keep())
                continue
            exported = send("GET", "/_emulator/state")[1]
            status, answer = send("POST", "/_emulator/state", exported)
            self.assertEqual(status, 200, f"{keep()}: its export does not load: {answer[:300]!r}")
            self.assertEqual(without_seq(send("GET", "/_emulator/state")[1]), without_seq(exported), keep())
            failed = [(what, s) for what, s in operations() if s >= 500]
            self.assertEqual(failed, [], keep())
            status, answer = send("POST", "/_emulator/state", send("GET", "/_emulator/state")[1])
            self.assertEqual(status, 200, f"{keep()}: after the operations, the export does not load: {answer[:300]!r}")
            self.assertEqual(send("POST", "/_emulator/state", original)[0], 200)
        print(f"  {CASES} edited imports (seed {SEED}): answers {dict(sorted(answers.items()))}")
        self.assertGreater(answers.get(200, 0), 0, "no edit was accepted: the operations were never tried")
        self.assertGreater(answers.get(400, 0), 0, "no edit was refused")
        admin("POST", "/_emulator/reset")


if __name__ == "__main__":
    sys.exit(run_cases("imports", Imports))
