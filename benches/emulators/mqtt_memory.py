"""The embedded broker's memory for a client that reads nothing: how much the emulator's resident
set grows when such a client resumes a persistent session with a backlog, or subscribes to
retained messages (one exact filter each, at most 1,000). Each message is 128 KiB; the client's
receive buffer is 4 KiB.

Usage: python3 benches/emulators/mqtt_memory.py BIN [BIN...]   (env: N=1000 messages)
Prints one line per build and case: the resident set before the client connects, 3 s after, and
the growth (the messages themselves are already held before: by the session queue or the
retained store).
"""

import os
import socket
import struct
import sys
import time

from mqtt_wire import emulator, packet, read_exactly, rss, string

N = int(os.environ.get("N", "1000"))
PAYLOAD = b"x" * (128 * 1024)


def connect(port, client, clean=True, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    flags = 0x02 if clean else 0x00
    s.sendall(packet(0x10, string(b"MQTT") + bytes([4, flags]) + struct.pack(">H", 60) + string(client)))
    return s


def subscribe(s, topic_filter, qos):
    s.sendall(packet(0x82, struct.pack(">H", 1) + string(topic_filter) + bytes([qos])))


def publish_all(port, topic, retain):
    s = connect(port, b"publisher")
    read_exactly(s, 4)  # CONNACK
    for i in range(N):
        body = string(f"{topic}/{i}".encode()) + struct.pack(">H", i % 65535 + 1) + PAYLOAD
        s.sendall(packet(0x32 | (1 if retain else 0), body))
    read_exactly(s, 4 * N)  # the PUBACKs
    s.sendall(b"\xe0\x00")
    s.close()


def run(binary, case):
    with emulator(binary) as (emu, port):
        if case == "backlog":
            s = connect(port, b"slow", clean=False)
            read_exactly(s, 4)
            subscribe(s, b"bulk/#", 1)
            read_exactly(s, 5)
            s.sendall(b"\xe0\x00")
            s.close()
            time.sleep(0.3)
            publish_all(port, "bulk", retain=False)
        else:
            publish_all(port, "kept", retain=True)
        time.sleep(0.5)
        before = rss(emu.pid)
        if case == "backlog":
            s = connect(port, b"slow", clean=False, rcvbuf=4096)
        else:
            # Only a subscription to a retained message's exact topic gets it (AWS IoT Core), at
            # most 8 filters to a SUBSCRIBE and 1,000 to a session.
            s = connect(port, b"slow", rcvbuf=4096)
            topics = [f"kept/{i}".encode() for i in range(min(N, 1000))]
            for at in range(0, len(topics), 8):
                body = b"".join(string(t) + b"\x00" for t in topics[at : at + 8])
                s.sendall(packet(0x82, struct.pack(">H", at // 8 + 1) + body))
        time.sleep(3)
        after = rss(emu.pid)
        s.close()
        return before, after


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print(f"{N} messages of 128 KiB; resident set in MiB")
    width = max(len(b) for b in sys.argv[1:])
    print(f"{'build':<{width}} {'case':<9} {'before':>7} {'after':>7} {'growth':>7}")
    for binary in sys.argv[1:]:
        for case in ("backlog", "retained"):
            before, after = run(binary, case)
            print(f"{binary:<{width}} {case:<9} {before:>7.0f} {after:>7.0f} {after - before:>7.0f}")


if __name__ == "__main__":
    main()
