"""ListJobs and ListJobExecutionsForThing with filters over `N` jobs: what a page costs when its
filters pass over most items, and what a client sending such pages back to back costs the others.

Usage: python3 benches/emulators/list_filters.py BIN [BIN...]   (env: N=100000, SECONDS=3)

Per build, an emulator (manual clock, no broker) gets a thing `t` in two groups, `all` and
`few`, and `N` jobs targeting `t` and `all`; every 20th job targets `few` too. Then, from one
keep-alive client, the median of 10 first pages (`maxResults` 250) of ListJobs: without a
filter; `status=COMPLETED` (no job passes); `status=IN_PROGRESS` (every job passes);
`thingGroupName` `all`, `few` and `none` (no such group); the time to walk every page of
`status=COMPLETED` and how many pages and jobs that took; the median of 10 first pages of
ListJobExecutionsForThing `t` without a filter, with `namespaceId=ns` (no job is in it) and with
`jobId` of the last job; and DescribeJob requests per second (p50 / p99 in µs) while another
client sends ListJobs `status=COMPLETED&maxResults=1`, or ListJobExecutionsForThing
`namespaceId=ns&maxResults=1`, back to back. With `THINGS=1` it also creates `N` more things
and times the first page of ListThings with `attributeName=none` (no thing has it).
"""

import http.client
import json
import os
import sys

from listings import beside, call, describe_rate, first_page, walk
from mqtt_wire import emulator

N = int(os.environ.get("N", "100000"))
SECONDS = float(os.environ.get("SECONDS", "3"))
FILTERS = (
    ("no filter", ""),
    ("status=COMPLETED (none)", "&status=COMPLETED"),
    ("status=IN_PROGRESS (all)", "&status=IN_PROGRESS"),
    ("thingGroupName=all", "&thingGroupName=all"),
    ("thingGroupName=few (1 in 20)", "&thingGroupName=few"),
    ("thingGroupName=none (no group)", "&thingGroupName=none"),
)
THING_FILTERS = (
    ("no filter", ""),
    ("namespaceId=ns (none)", "&namespaceId=ns"),
    ("jobId of the last job", f"&jobId=j{N - 1}"),
)


def measure(binary):
    caps = ["--max-jobs", str(max(N, 100_000)), "--max-things", str(max(N + 1, 100_000))]
    with emulator(binary, ["--clock", "manual", "--log-level", "warn", *caps], mqtt=False) as (_, port):
        c = http.client.HTTPConnection("127.0.0.1", port)
        thing = json.loads(call(c, "POST", "/things/t", {}))["thingArn"]
        groups = {}
        for g in ("all", "few"):
            groups[g] = json.loads(call(c, "POST", f"/thing-groups/{g}", {}))["thingGroupArn"]
            call(c, "PUT", "/thing-groups/addThingToThingGroup", {"thingGroupName": g, "thingName": "t"})
        for i in range(N):
            targets = [thing, groups["all"]] + ([groups["few"]] if i % 20 == 0 else [])
            call(c, "PUT", f"/jobs/j{i}", {"targets": targets, "document": "{}"})
        firsts = {}
        for what, path, filters in (("ListJobs", "/jobs", FILTERS), ("ListJobExecutionsForThing", "/things/t/jobs", THING_FILTERS)):
            for name, query in filters:
                firsts[f"{what}, {name}"] = first_page(c, f"{path}?maxResults=250{query}")
        if os.environ.get("THINGS") == "1":
            for i in range(N):
                call(c, "POST", f"/things/u{i}", {})
            firsts["ListThings, attributeName=none (none)"] = first_page(c, "/things?maxResults=250&attributeName=none")
        walked = walk(c, "/jobs?status=COMPLETED", "jobs")
        busy = {
            what: beside(port, path, lambda: describe_rate(port, SECONDS))
            for what, path in (
                ("ListJobs status=COMPLETED", "/jobs?maxResults=1&status=COMPLETED"),
                ("ListJobExecutionsForThing namespaceId=ns", "/things/t/jobs?maxResults=1&namespaceId=ns"),
            )
        }
        return firsts, walked, busy


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    width = max(len(b) for b in sys.argv[1:])
    print(f"{N:,} jobs; {SECONDS:g} s per rate")
    for binary in sys.argv[1:]:
        firsts, (secs, pages, jobs), busy = measure(binary)
        for name, first in firsts.items():
            print(f"{binary:<{width}} first page: {name:<58} {first * 1e3:8.2f} ms", flush=True)
        print(f"{binary:<{width}} every page of ListJobs status=COMPLETED: {secs:.2f} s, {pages:,} pages, {jobs:,} jobs")
        for what, (rate, p50, p99) in busy.items():
            print(f"{binary:<{width}} DescribeJob beside {what}: {rate:,.0f}/s  p50 {p50:,.0f} µs, p99 {p99:,.0f} µs", flush=True)


if __name__ == "__main__":
    main()
