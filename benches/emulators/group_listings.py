"""The thing-group listings among `G` groups under one parent: what a page costs when it reads
a part of the groups (the root groups, a name prefix, a group's descendants), and what a client
sending such pages back to back costs the others.

Usage: python3 benches/emulators/group_listings.py BIN [BIN...]   (env: G=100000, SECONDS=3)

Per build, an emulator (manual clock, no broker) gets a root group `r` and `G` groups
`g000000`, ... whose parent is `r`. Then, from one keep-alive client: the emulator's resident
memory; the median of 10 first pages (`maxResults` 250) of ListThingGroups without a filter, with
`recursive=false` (the root groups: one), `namePrefixFilter=zzz` (none), `parentGroup=r` (its
descendants), `parentGroup=r&recursive=false` (its children), and of ListThingsInThingGroup `r`
with `recursive=true` (none); and DescribeThingGroup requests per second (p50 / p99 in µs) alone
and while another client sends ListThingGroups `parentGroup=r&maxResults=1` back to back.
(`group_memory.py` measures what memberships cost.)
"""

import http.client
import os
import sys

import listings
from listings import beside, call
from mqtt_wire import emulator, rss

G = int(os.environ.get("G", "100000"))
SECONDS = float(os.environ.get("SECONDS", "3"))
PAGES = (
    ("ListThingGroups, no filter", "/thing-groups?maxResults=250"),
    ("ListThingGroups recursive=false (1 root)", "/thing-groups?maxResults=250&recursive=false"),
    ("ListThingGroups namePrefixFilter=zzz (none)", "/thing-groups?maxResults=250&namePrefixFilter=zzz"),
    ("ListThingGroups parentGroup=r (descendants)", "/thing-groups?maxResults=250&parentGroup=r"),
    ("ListThingGroups parentGroup=r&recursive=false", "/thing-groups?maxResults=250&parentGroup=r&recursive=false"),
    ("ListThingsInThingGroup r recursive=true", "/thing-groups/r/things?maxResults=250&recursive=true"),
)


def describe_rate(port, seconds):
    return listings.describe_rate(port, seconds, "/thing-groups/g000005")


def measure(binary):
    args = ["--clock", "manual", "--log-level", "warn", "--max-thing-groups", str(G + 1)]
    with emulator(binary, args, mqtt=False) as (emu, port):
        c = http.client.HTTPConnection("127.0.0.1", port)
        call(c, "POST", "/thing-groups/r", {})
        for i in range(G):
            call(c, "POST", f"/thing-groups/g{i:06d}", {"parentGroupName": "r"})
        memory = rss(emu.pid)
        firsts = {}
        for name, path in PAGES:
            firsts[name] = listings.first_page(c, path)
        alone = describe_rate(port, SECONDS)
        busy = beside(port, "/thing-groups?maxResults=1&parentGroup=r", lambda: describe_rate(port, SECONDS))
        return memory, firsts, alone, busy


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    width = max(len(b) for b in sys.argv[1:])
    print(f"{G:,} groups under one; {SECONDS:g} s per rate")
    for binary in sys.argv[1:]:
        memory, firsts, alone, busy = measure(binary)
        print(f"{binary:<{width}} {memory:.1f} MiB resident", flush=True)
        for name, first in firsts.items():
            print(f"{binary:<{width}} first page: {name:<48} {first * 1e3:8.2f} ms", flush=True)
        for what, (rate, p50, p99) in (("alone", alone), ("beside the lister", busy)):
            print(f"{binary:<{width}} DescribeThingGroup {what:<18} {rate:>8,.0f}/s  p50 {p50:,.0f} µs, p99 {p99:,.0f} µs", flush=True)


if __name__ == "__main__":
    main()
