"""Seed one server with the same requests: THINGS things, job `job1` targeting all of
them, StartNext on the first half. Plain HTTP with a fixed SigV4-shaped header (the
credential scope picks the plane; no server here checks signatures).
Usage: seed.py URL THINGS  -> prints one line of status counts per step. THINGS is at most
100: a job takes at most 100 target ARNs (the service's limit, which iot-jobs-emulator keeps)."""
import collections, json, sys, urllib.error, urllib.request

url, n = sys.argv[1], int(sys.argv[2])
if not 1 <= n <= 100:
    sys.exit(f"seed.py: THINGS must be 1 to 100 (the targets of one job), not {n}")

def call(method, path, svc, body=None):
    req = urllib.request.Request(url + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Authorization", f"AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{svc}/aws4_request, "
                   "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)
    req.add_header("X-Amz-Date", "20260101T000000Z")
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""

steps = collections.OrderedDict()
created = [call("POST", f"/things/t{i}", "iot", {}) for i in range(n)]
steps["CreateThing"] = collections.Counter(c for c, _ in created)
# Target the ARNs each server returned: ministack's default account is 000000000000 and it
# checks the account in target ARNs; ours and moto use 123456789012.
arns = [json.loads(b)["thingArn"] for c, b in created if c == 200]
steps["CreateJob"] = collections.Counter([call("PUT", "/jobs/job1", "iot",
                                               {"targets": arns, "document": "{\"op\":\"fw\"}",
                                                "targetSelection": "SNAPSHOT"})[0]])
steps["StartNext(half)"] = collections.Counter(call("PUT", f"/things/t{i}/jobs/$next", "iot-jobs-data", {})[0]
                                               for i in range(n // 2))
print("  seed: " + "; ".join(f"{k} {dict(v)}" for k, v in steps.items()))
# What one load request of each kind answers here (status, size), so a 2xx that carries
# less than the others is visible.
for name, m, p, svc, b in [("describe", "GET", "/things/t0/jobs/job1", "iot", None),
                           ("list", "GET", "/jobs/job1/things", "iot", None),
                           ("update", "POST", "/things/t0/jobs/job1", "iot-jobs-data", {"status": "IN_PROGRESS"})]:
    code, body = call(m, p, svc, b)
    extra = f", {len(json.loads(body).get('executionSummaries', []))} executions" if name == "list" and code == 200 else ""
    print(f"  probe {name}: {code}, {len(body)} bytes{extra}")
