"""The embedded broker's routing cost as sessions accumulate: how fast one client's messages go
round when S other sessions (persistent, offline, as a fleet of devices between connections
leaves them) hold subscriptions that do not match, and when they do.

Each of the S sessions subscribes to what a jobs device subscribes to: two topics of its own
(`$aws/things/dev{i}/jobs/notify-next`, `…/jobs/get/accepted`) and one with a wildcard
(`$aws/things/dev{i}/jobs/+/update/accepted`). Then one client:
- `requests`: publishes `$aws/things/bench/jobs/get` and waits for its `/accepted` (a jobs request
  and its answer, two routings), R times;
- `messages`: publishes to `fan/x`, to which it subscribes, and reads each back (QoS 0), R times.

Usage: python3 benches/emulators/mqtt_fanout.py BIN [BIN...]   (env: R=2000, SESSIONS=0,1000,9000)
Prints round trips per second per build, case and session count, and the emulator's resident set
once the sessions are made; the builds alternate, per session count, in the same run.
"""

import os
import socket
import struct
import sys
import time

from mqtt_wire import emulator, packet, rss, string

R = int(os.environ.get("R", "2000"))
SESSIONS = [int(s) for s in os.environ.get("SESSIONS", "0,1000,9000").split(",")]


class Reader:
    """Reads whole MQTT packets from a socket."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk

    def packet(self):
        self._fill(2)
        length, shift, i = 0, 0, 1
        while True:
            self._fill(i + 1)
            byte = self.buf[i]
            length |= (byte & 0x7F) << shift
            shift += 7
            i += 1
            if not byte & 0x80:
                break
        self._fill(i + length)
        first, body = self.buf[0], self.buf[i : i + length]
        self.buf = self.buf[i + length :]
        return first, body


def connect(port, client, clean=True):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    flags = 0x02 if clean else 0x00
    s.sendall(packet(0x10, string(b"MQTT") + bytes([4, flags]) + struct.pack(">H", 60) + string(client)))
    r = Reader(s)
    first, body = r.packet()
    assert first == 0x20 and body[1] == 0, (first, body)
    return s, r


def subscribe(s, r, filters):
    body = struct.pack(">H", 1) + b"".join(string(f) + b"\x01" for f in filters)
    s.sendall(packet(0x82, body))
    first, body = r.packet()
    assert first == 0x90 and all(c == 1 for c in body[2:]), body


def fleet(port, n):
    for i in range(n):
        s, r = connect(port, f"dev{i}".encode(), clean=False)
        t = f"$aws/things/dev{i}/jobs/".encode()
        subscribe(s, r, [t + b"notify-next", t + b"get/accepted", t + b"+/update/accepted"])
        s.sendall(b"\xe0\x00")
        s.close()


def round_trips(port, case):
    s, r = connect(port, b"bench")
    if case == "requests":
        topic, answer = b"$aws/things/bench/jobs/get", b"$aws/things/bench/jobs/get/accepted"
        payload = b'{"clientToken":"t"}'
    else:
        topic = answer = b"fan/x"
        payload = b"x" * 64
        subscribe(s, r, [topic])
    message = packet(0x30, string(topic) + payload)
    start = time.perf_counter()
    for _ in range(R):
        s.sendall(message)
        while True:
            first, body = r.packet()
            if first & 0xF0 == 0x30 and body[2 : 2 + struct.unpack(">H", body[:2])[0]] == answer:
                break
    elapsed = time.perf_counter() - start
    s.sendall(b"\xe0\x00")
    s.close()
    return R / elapsed


def run(binary, sessions):
    with emulator(binary) as (emu, port):
        fleet(port, sessions)
        time.sleep(2)  # the fleet's connections closed and detached
        got = {"rss": rss(emu.pid)}
        got.update({case: round_trips(port, case) for case in ("requests", "messages")})
        return got


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print(f"{R} round trips each; per second")
    width = max(len(b) for b in sys.argv[1:])
    print(f"{'build':<{width}} {'sessions':>8} {'requests':>9} {'messages':>9} {'RSS MiB':>8}")
    for sessions in SESSIONS:
        for binary in sys.argv[1:]:
            got = run(binary, sessions)
            print(
                f"{binary:<{width}} {sessions:>8} {got['requests']:>9.0f} {got['messages']:>9.0f} {got['rss']:>8.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
