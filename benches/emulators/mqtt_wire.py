"""What the MQTT benchmarks share: MQTT 3.1.1 framing over raw sockets, a free port, an emulator
started on it, and a process's resident set."""

import contextlib
import socket
import struct
import subprocess
import time


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


def read_exactly(s, n):
    """`n` bytes from socket `s` (ConnectionError if it closes first)."""
    got = b""
    while len(got) < n:
        chunk = s.recv(n - len(got))
        if not chunk:
            raise ConnectionError("closed")
        got += chunk
    return got


def read_packet(s):
    """One MQTT packet from socket `s`: (first byte, body)."""
    first = read_exactly(s, 1)[0]
    n, shift = 0, 0
    while True:
        byte = read_exactly(s, 1)[0]
        n |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return first, read_exactly(s, n)


def connect(port, client, level=4, clean=True, nodelay=False):
    """A client `client` (bytes) connected over MQTT `level` (4: 3.1.1, 5) to 127.0.0.1:`port`;
    `nodelay`: a small packet written after a large one is sent at once, not held back (Nagle)
    until the large one is acknowledged, which the receiver may delay by up to 40 ms."""
    s = socket.socket()
    if nodelay:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.connect(("127.0.0.1", port))
    flags = 0x02 if clean else 0x00
    props = b"\x00" if level == 5 else b""
    s.sendall(packet(0x10, string(b"MQTT") + bytes([level, flags]) + struct.pack(">H", 60) + props + string(client)))
    first, _ = read_packet(s)
    assert first == 0x20, first
    return s


def status_mib(pid, field):
    """A size field of the process's /proc status (`VmRSS`, `VmHWM`, ...), in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key == field:
                return int(value.split()[0]) / 1024
    raise RuntimeError(f"no {field}")


def rss(pid):
    """The process's resident set, in MiB."""
    return status_mib(pid, "VmRSS")


def wait_for(port, tries=200):
    """Returns once 127.0.0.1:`port` takes connections (or after `tries` × 50 ms)."""
    for _ in range(tries):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return
        except OSError:
            time.sleep(0.05)


@contextlib.contextmanager
def emulator(binary, args=(), mqtt=True):
    """The emulator `binary` on free ports, once it takes connections: (process, port), the
    port its broker's, or with `mqtt` false its HTTP one (no broker); `args` are passed on
    too; stopped at the end."""
    port, http = free_port(), free_port()
    broker = ["--mqtt-addr", f"127.0.0.1:{port}"] if mqtt else ["--mqtt-addr", "off"]
    emu = subprocess.Popen(
        [binary, "--addr", f"127.0.0.1:{http}", *broker, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port = port if mqtt else http
    try:
        wait_for(port)
        yield emu, port
    finally:
        emu.terminate()
        emu.wait()
