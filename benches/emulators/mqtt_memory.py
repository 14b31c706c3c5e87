"""The embedded broker's memory for a client that reads nothing: how much the emulator's resident
set grows when such a client resumes a persistent session with a backlog, or subscribes to
retained messages. Each message is 128 KiB; the client's receive buffer is 4 KiB.

Usage: python3 benches/emulators/mqtt_memory.py BIN [BIN...]   (env: N=1000 messages)
Prints one line per build and case: the resident set before the client connects, 3 s after, and
the growth (the messages themselves are already held before: by the session queue or the
retained store).
"""

import os
import socket
import struct
import subprocess
import sys
import time

N = int(os.environ.get("N", "1000"))
PAYLOAD = b"x" * (128 * 1024)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def remaining_length(n):
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def packet(first, body):
    return bytes([first]) + remaining_length(len(body)) + body


def string(s):
    return struct.pack(">H", len(s)) + s


def connect(port, client, clean=True, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    flags = 0x02 if clean else 0x00
    s.sendall(packet(0x10, string(b"MQTT") + bytes([4, flags]) + struct.pack(">H", 60) + string(client)))
    return s


def read_exactly(s, n):
    got = b""
    while len(got) < n:
        chunk = s.recv(n - len(got))
        if not chunk:
            raise ConnectionError("closed")
        got += chunk
    return got


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


def rss(pid):
    """The process's resident set, in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key == "VmRSS":
                return int(value.split()[0]) // 1024
    raise RuntimeError("no VmRSS")


def run(binary, case):
    port, http = free_port(), free_port()
    emu = subprocess.Popen(
        [binary, "--addr", f"127.0.0.1:{http}", "--mqtt-addr", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.05)
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
            s = connect(port, b"slow", rcvbuf=4096)
            subscribe(s, b"kept/#", 0)
        time.sleep(3)
        after = rss(emu.pid)
        s.close()
        return before, after
    finally:
        emu.terminate()
        emu.wait()


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print(f"{N} messages of 128 KiB; resident set in MiB")
    width = max(len(b) for b in sys.argv[1:])
    print(f"{'build':<{width}} {'case':<9} {'before':>7} {'after':>7} {'growth':>7}")
    for binary in sys.argv[1:]:
        for case in ("backlog", "retained"):
            before, after = run(binary, case)
            print(f"{binary:<{width}} {case:<9} {before:>7} {after:>7} {after - before:>7}")


if __name__ == "__main__":
    main()
