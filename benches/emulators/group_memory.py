"""What thing-group memberships cost in memory: the emulator's resident memory before and after
`N` things join groups, measured apart from everything else.

Usage: python3 benches/emulators/group_memory.py BIN [BIN...]   (env: N=100000, G=1000, DEPTH=2)

Per build, a fresh emulator (manual clock, no broker) gets a root group `r` and `G` chains of
groups under it, each `DEPTH` levels deep counting `r` (the last of each chain a leaf group),
then `N` things in no group; its resident memory is read; then thing `i` joins leaf group
`i % G`, and the resident memory is read again. The difference over `N` is the cost of one
membership: the group's set of members, the thing's set of groups, and the thing in the set of
things of each level of the subtree (`DEPTH` of them). Nothing is freed between the two reads,
so the allocator cannot hand the memberships memory an earlier step gave back (which a read
after other work, e.g. listings, would hide). Then 1,000 more things join `r` itself, and it
times ListThingsInThingGroup `r` with `recursive=true` (`r`'s own things and those of its
descendants, in name order): the median of 10 first pages (`maxResults` 250) and a walk of all
its pages.
"""

import http.client
import os
import sys
import time

from listings import call, first_page, walk
from mqtt_wire import emulator, rss

N = int(os.environ.get("N", "100000"))
G = int(os.environ.get("G", "1000"))
DEPTH = int(os.environ.get("DEPTH", "2"))


def measure(binary):
    caps = ["--max-things", str(max(N + 1000, 100_000)), "--max-thing-groups", str(max(G * DEPTH + 1, 100_000))]
    with emulator(binary, ["--clock", "manual", "--log-level", "warn", *caps], mqtt=False) as (emu, port):
        c = http.client.HTTPConnection("127.0.0.1", port)
        call(c, "POST", "/thing-groups/r", {})
        leaves = []
        for i in range(G):
            parent = "r"
            for level in range(1, DEPTH):
                name = f"g{i:06d}-{level}"
                call(c, "POST", f"/thing-groups/{name}", {"parentGroupName": parent})
                parent = name
            leaves.append(parent)
        for i in range(N):
            call(c, "POST", f"/things/thing-{i:07d}", {})
        before = rss(emu.pid)
        t = time.perf_counter()
        for i in range(N):
            join = {"thingGroupName": leaves[i % G], "thingName": f"thing-{i:07d}"}
            call(c, "PUT", "/thing-groups/addThingToThingGroup", join)
        seconds = time.perf_counter() - t
        after = rss(emu.pid)
        for i in range(1000):
            call(c, "POST", f"/things/own-{i:04d}", {})
            call(c, "PUT", "/thing-groups/addThingToThingGroup", {"thingGroupName": "r", "thingName": f"own-{i:04d}"})
        path = "/thing-groups/r/things?recursive=true"
        first = first_page(c, path + "&maxResults=250")
        walked, _, n = walk(c, path, "things")
        return before, after, seconds, first, walked, n


def main():
    if len(sys.argv) < 2 or DEPTH < 2:
        sys.exit(__doc__)
    width = max(len(b) for b in sys.argv[1:])
    print(f"{N:,} things joining {G:,} leaf groups {DEPTH} levels deep (the root included)")
    for binary in sys.argv[1:]:
        before, after, seconds, first, walked, n = measure(binary)
        per = (after - before) * 1024 * 1024 / N
        print(
            f"{binary:<{width}} {before:.1f} → {after:.1f} MiB resident: {per:,.0f} B per membership; "
            f"AddThingToThingGroup {N / seconds:,.0f}/s from one client",
            flush=True,
        )
        print(
            f"{binary:<{width}} ListThingsInThingGroup r recursive: first page {first * 1e3:.2f} ms, "
            f"all {n:,} things in {walked:.2f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
