"""The embedded broker's memory under clients that make it hoard messages: how much the emulator's
resident set grows when publishers fill the queues of offline persistent sessions.

Usage: python3 benches/emulators/mqtt_hoard.py BIN [BIN...]   (env: CASES=fanout,distinct,pinned,shared,
       SHARED=2000: the offline sessions of the shared case)

- fanout: 500 offline sessions subscribed to one topic; an MQTT 5 client publishes 40 QoS 1
  messages of 1 KiB, each with 100 KiB of user properties (2 GB of copies).
- distinct: 16 offline sessions, each subscribed to a topic of its own; 1,000 QoS 1 messages of
  128 KiB to each topic (2 GB).
- pinned: one offline session; 1,000 rounds of a 16-byte QoS 1 message to its topic and a
  60 KiB QoS 0 message to a topic nobody subscribes to, in one stream.
- shared: not a hoarding client but a legitimate fan-out, which the budget must let through:
  2,000 offline sessions subscribed to one topic; 100 QoS 1 messages of 64 KiB to it (6.4 MB
  of payloads, 200,000 copies that share them).

Prints per build and case the resident set in MiB before the publisher connects and after it
is done, the growth, and what the publisher was told: how many publishes were acknowledged,
refused (MQTT 5 reason code 0x97, quota exceeded) or cut short by the broker closing it.
"""

import os
import struct
import sys
import time

from mqtt_wire import connect, emulator, packet, read_packet, remaining_length, rss, string

CASES = os.environ.get("CASES", "fanout,distinct,pinned,shared").split(",")
SHARED = int(os.environ.get("SHARED", "2000"))


def offline_sessions(port, filters):
    """Persistent sessions `s0`, `s1`, ..., one per filter, left offline."""
    for i, f in enumerate(filters):
        s = connect(port, f"s{i}".encode(), clean=False)
        s.sendall(packet(0x82, struct.pack(">H", 1) + string(f) + b"\x01"))
        read_packet(s)  # SUBACK
        s.sendall(b"\xe0\x00")
        s.close()
    time.sleep(0.3)


def publish(s, level, topic, payload, qos, pkid, props=b""):
    head = string(topic) + (struct.pack(">H", pkid) if qos else b"")
    if level == 5:
        head += remaining_length(len(props)) + props
    s.sendall(packet(0x30 | (qos << 1), head + payload))


def user_properties(total):
    """MQTT 5 user properties (0x26) of about `total` bytes."""
    out, n = b"", 0
    while len(out) < total:
        out += b"\x26" + string(f"k{n}".encode()) + string(b"v" * min(60_000, total - len(out)))
        n += 1
    return out


def run_publisher(port, level, messages):
    """Publishes `messages` (topic, payload, qos, props); returns (acknowledged, refused, closed)."""
    # A QoS 0 message of 60 KiB then a small QoS 1 one (pinned): without TCP_NODELAY each small
    # one waited for the large one's delayed acknowledgement (40 ms a round, 45 s a run).
    s = connect(port, b"publisher", level=level, nodelay=True)
    acked = refused = 0
    closed = False
    try:
        for pkid, (topic, payload, qos, props) in enumerate(messages, 1):
            publish(s, level, topic, payload, qos, pkid % 65535 + 1, props)
            if qos:
                first, body = read_packet(s)
                if first >> 4 == 14:  # DISCONNECT
                    closed = True
                    break
                if len(body) > 2 and body[2] >= 0x80:
                    refused += 1
                else:
                    acked += 1
        s.sendall(b"\xe0\x00")
    except (ConnectionError, OSError):
        closed = True
    s.close()
    return acked, refused, closed


def case_messages(case):
    if case == "fanout":
        props = user_properties(100 * 1024)
        return 5, ["fan/t"] * 500, [("fan/t", b"x" * 1024, 1, props) for _ in range(40)]
    if case == "distinct":
        msgs = [(f"own/{i}", b"x" * (128 * 1024), 1, b"") for _ in range(1000) for i in range(16)]
        return 4, [f"own/{i}" for i in range(16)], msgs
    if case == "shared":
        return 4, ["share/t"] * SHARED, [("share/t", b"x" * (64 * 1024), 1, b"")] * 100
    msgs = []
    for _ in range(1000):
        msgs.append(("pin/keep", b"k" * 16, 1, b""))
        msgs.append(("pin/drop", b"d" * (60 * 1024), 0, b""))
    return 4, ["pin/keep"], msgs


def run(binary, case):
    level, filters, messages = case_messages(case)
    with emulator(binary) as (emu, port):
        offline_sessions(port, [f.encode() for f in filters])
        before = rss(emu.pid)
        told = run_publisher(port, level, [(t.encode(), p, q, pr) for t, p, q, pr in messages])
        time.sleep(0.5)
        return before, rss(emu.pid), told


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    width = max(len(b) for b in sys.argv[1:])
    print("resident set in MiB; the publisher's acknowledged / refused publishes, and whether it was closed")
    print(f"{'build':<{width}} {'case':<9} {'before':>7} {'after':>7} {'growth':>7}  told")
    for binary in sys.argv[1:]:
        for case in CASES:
            before, after, (acked, refused, closed) = run(binary, case)
            told = f"{acked} acked, {refused} refused" + (", closed" if closed else "")
            print(f"{binary:<{width}} {case:<9} {before:>7.0f} {after:>7.0f} {after - before:>7.0f}  {told}", flush=True)


if __name__ == "__main__":
    main()
