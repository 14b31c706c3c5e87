"""Thing-group operations among many groups: what one thing's group calls cost when the account
has `G` thing groups.

Usage: python3 benches/emulators/thing_groups.py BIN [BIN...]   (env: G=100000, J=0, SECONDS=3)

Per build, an emulator (manual clock, no broker; `--max-thing-groups G` past the default) gets `G`
root thing groups and a thing `t` in 5 of them, and `J` jobs (targeting another thing). Then, from one keep-alive client, per second
(p50 / p99 in µs): AddThingToThingGroup and RemoveThingFromThingGroup of `t` and a sixth group
in turn, ListThingGroupsForThing of `t`, CreateThing then DeleteThing of a thing in 5 groups
(each join is a call too), and DescribeThing alone and beside a client sending
ListThingGroupsForThing back to back.
"""

import http.client
import json
import os
import statistics
import sys
import time

from listings import beside, call
from mqtt_wire import emulator, rss

G = int(os.environ.get("G", "100000"))
J = int(os.environ.get("J", "0"))
SECONDS = float(os.environ.get("SECONDS", "3"))


def rate(port, seconds, step):
    """`step(client, i)` over and over for `seconds`: (per second, p50 µs, p99 µs)."""
    c = http.client.HTTPConnection("127.0.0.1", port)
    lat, end, i = [], time.monotonic() + seconds, 0
    while time.monotonic() < end:
        t = time.perf_counter()
        step(c, i)
        lat.append(time.perf_counter() - t)
        i += 1
    q = statistics.quantiles(lat, n=100)
    return len(lat) / seconds, q[49] * 1e6, q[98] * 1e6


def member(c, thing, group, join):
    op = "addThingToThingGroup" if join else "removeThingFromThingGroup"
    call(c, "PUT", f"/thing-groups/{op}", {"thingGroupName": group, "thingName": thing})


def measure(binary):
    caps = ["--max-thing-groups", str(G)] if G > 100_000 else []
    with emulator(binary, ["--clock", "manual", "--log-level", "warn", *caps], mqtt=False) as (emu, port):
        c = http.client.HTTPConnection("127.0.0.1", port)
        for i in range(G):
            call(c, "POST", f"/thing-groups/g{i}", {})
        call(c, "POST", "/things/t", {})
        arn = json.loads(call(c, "POST", "/things/x", {}))["thingArn"]
        for i in range(J):
            call(c, "PUT", f"/jobs/j{i}", {"targets": [arn], "document": "{}"})
        for i in range(5):
            member(c, "t", f"g{i}", True)
        memory = rss(emu.pid)
        out = {}
        out["join / leave"] = rate(port, SECONDS, lambda c, i: member(c, "t", "g5", i % 2 == 0))
        out["groups for thing"] = rate(port, SECONDS, lambda c, i: call(c, "GET", "/things/t/thing-groups"))

        def churn(c, i):
            if i % 7 == 0:
                call(c, "POST", "/things/u", {})
            elif i % 7 < 6:
                member(c, "u", f"g{10 + i % 7}", True)
            else:
                call(c, "DELETE", "/things/u")

        out["create, 5 joins, delete"] = rate(port, SECONDS, churn)
        out["describe thing alone"] = rate(port, SECONDS, lambda c, i: call(c, "GET", "/things/t"))
        describe = lambda: rate(port, SECONDS, lambda c, i: call(c, "GET", "/things/t"))
        out["describe thing beside lister"] = beside(port, "/things/t/thing-groups", describe)
        return memory, out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    width = max(len(b) for b in sys.argv[1:])
    print(f"{G:,} thing groups, {J:,} jobs; {SECONDS:g} s per rate")
    for binary in sys.argv[1:]:
        memory, out = measure(binary)
        print(f"{binary:<{width}} {memory:.1f} MiB resident", flush=True)
        for what, (r, p50, p99) in out.items():
            print(f"{binary:<{width}} {what:<30} {r:>8,.0f}/s  p50 {p50:,.0f} µs, p99 {p99:,.0f} µs", flush=True)


if __name__ == "__main__":
    main()
