"""The embedded broker with many shared-subscription groups: what a client's publishes cost when
other clients have made `GROUPS` share groups (`$share/g{i}/t`, 1,000 per session, the cap of a
session's subscriptions) and a message has gone to each.

Usage: python3 benches/emulators/mqtt_groups.py BIN [BIN...]   (env: SECONDS=3, GROUPS=9000,11000)

For each count of groups: the sessions subscribe and stay connected (reading what they get),
one message is published to `t` (each group hands it to its member), then a publisher's QoS 1
round trips to a topic nobody subscribes to: per second and p50 / p99 in µs.
"""

import os
import struct
import sys
import threading

from mqtt_retained import publish_round_trips
from mqtt_wire import connect, emulator, packet, read_packet, string

SECONDS = float(os.environ.get("SECONDS", "3"))
GROUPS = [int(g) for g in os.environ.get("GROUPS", "9000,11000").split(",")]
PER_SESSION = 1000


def drain(s):
    try:
        while read_packet(s):
            pass
    except (ConnectionError, OSError):
        pass


def share_groups(port, groups):
    """Sessions holding `groups` share groups of `t`, connected and drained: their sockets."""
    sockets = []
    for start in range(0, groups, PER_SESSION):
        s = connect(port, f"member{start}".encode())
        names = [f"$share/g{i}/t".encode() for i in range(start, min(start + PER_SESSION, groups))]
        # At most 8 filters per SUBSCRIBE (AWS IoT Core's quota).
        for n, at in enumerate(range(0, len(names), 8), 1):
            body = b"".join(string(f) + b"\x00" for f in names[at : at + 8])
            s.sendall(packet(0x82, struct.pack(">H", n) + body))
            assert read_packet(s)[0] == 0x90
        threading.Thread(target=drain, args=(s,), daemon=True).start()
        sockets.append(s)
    p = connect(port, b"once")
    p.sendall(packet(0x32, string(b"t") + struct.pack(">H", 1) + b"m"))
    assert read_packet(p)[0] == 0x40
    p.close()
    return sockets


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    width = max(len(b) for b in sys.argv[1:])
    for binary in sys.argv[1:]:
        for groups in GROUPS:
            with emulator(binary) as (_, port):
                sockets = share_groups(port, groups)
                rate, p50, p99 = publish_round_trips(port, SECONDS)
                print(f"{binary:<{width}} {groups:>6,} groups: {rate:>9,.0f}/s  p50 {p50:,.0f} µs, p99 {p99:,.0f} µs", flush=True)
                for s in sockets:
                    s.close()


if __name__ == "__main__":
    main()
