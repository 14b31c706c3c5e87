"""A gateway on one MQTT connection, subscribed to `notify` and `notify-next` of every thing
(`$aws/things/+/jobs/notify…`), while CreateJobs target a thing group of N things: the first
routes 2 × N messages to it at once, each later one N.

Usage: python3 benches/emulators/mqtt_gateway.py BIN [BIN...]   (env: THINGS=1200, JOBS=4)

Per build, on a fresh emulator:
- reads: the gateway reads everything; `JOBS` CreateJobs; printed: the messages it got out of
  N × (JOBS + 1) (a `notify` per thing per job, a `notify-next` per thing for the first job)
  and whether it is still connected;
- reads nothing: a gateway that never reads (MQTT 5, 64 KiB receive buffer); `JOBS_DEAF`
  (100) CreateJobs; printed: whether the broker closed it as too slow, the emulator's peak
  resident set (VmRSS, MiB, read after each CreateJob) beside the same jobs' with nobody
  subscribed, the peak `heldBytes`, and the resident set once it is closed.
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import time

from mqtt_wire import free_port, packet, read_packet, rss, string, wait_for

THINGS = int(os.environ.get("THINGS", "1200"))
JOBS = int(os.environ.get("JOBS", "4"))
JOBS_DEAF = int(os.environ.get("JOBS_DEAF", "100"))
FILTERS = [b"$aws/things/+/jobs/notify-next", b"$aws/things/+/jobs/notify"]


class Emulator:
    def __init__(self, binary):
        self.http, self.mqtt = free_port(), free_port()
        self.proc = subprocess.Popen(
            [binary, "--addr", f"127.0.0.1:{self.http}", "--mqtt-addr", f"127.0.0.1:{self.mqtt}", "--clock",
             "manual"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.http)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.http)
        self.jobs = 0

    def call(self, method, path, body=None):
        self.conn.request(method, path, body=None if body is None else json.dumps(body),
                          headers={"content-type": "application/json"})
        r = self.conn.getresponse()
        data = r.read()
        if r.status >= 300:
            raise SystemExit(f"{method} {path}: {r.status} {data[:200]!r}")
        return json.loads(data) if data else {}

    def seed(self):
        self.call("POST", "/thing-groups/g", {})
        for i in range(THINGS):
            self.call("POST", f"/things/t{i}", {})
            self.call("PUT", "/thing-groups/addThingToThingGroup", {"thingGroupName": "g", "thingName": f"t{i}"})

    def create_job(self):
        self.call("PUT", f"/jobs/j{self.jobs}", {"targets": ["arn:aws:iot:us-east-1:123456789012:thinggroup/g"],
                                                 "document": json.dumps({"x": "y" * 200})})
        self.jobs += 1

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def gateway(port, client, level, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    props = b"\x00" if level == 5 else b""
    s.sendall(packet(0x10, string(b"MQTT") + bytes([level, 0x02]) + (60).to_bytes(2, "big") + props + string(client)))
    assert read_packet(s)[0] == 0x20
    filters = b"".join(string(f) + b"\x00" for f in FILTERS)
    s.sendall(packet(0x82, (1).to_bytes(2, "big") + props + filters))
    assert read_packet(s)[0] == 0x90
    return s


def reads(binary):
    emu = Emulator(binary)
    try:
        emu.seed()
        s = gateway(emu.mqtt, b"gw-reads", 4)
        for _ in range(JOBS):
            emu.create_job()
        # A `notify` per thing per job; a `notify-next` per thing for the first job only (the
        # later ones queue behind it: the head does not change).
        want, got = THINGS * (JOBS + 1), 0
        s.settimeout(10)
        try:
            while got < want:
                first, _ = read_packet(s)
                got += first >> 4 == 3
        except (OSError, ConnectionError):
            pass
        print(f"{binary}: reads: {got} of {want} messages, {'still connected' if got == want else 'closed'}")
    finally:
        emu.stop()


def reads_nothing(binary):
    quiet = Emulator(binary)
    try:
        quiet.seed()
        base = rss(quiet.proc.pid)
        quiet_rss = {}
        for n in range(1, JOBS_DEAF + 1):
            quiet.create_job()
            quiet_rss[n] = rss(quiet.proc.pid)
    finally:
        quiet.stop()
    emu = Emulator(binary)
    try:
        emu.seed()
        deaf = gateway(emu.mqtt, b"gw-deaf", 5, rcvbuf=65536)
        time.sleep(0.3)
        peak, held = 0, 0
        for _ in range(JOBS_DEAF):
            emu.create_job()
            peak = max(peak, rss(emu.proc.pid))
            held = max(held, emu.call("GET", "/_emulator/stats")["mqtt"]["heldBytes"])
        # Closed as too slow: the DISCONNECT it is written gets 5 s before the session goes.
        deadline = time.time() + 10
        while emu.call("GET", "/_emulator/stats")["mqtt"]["sessions"] and time.time() < deadline:
            time.sleep(0.2)
        closed = emu.call("GET", "/_emulator/stats")["mqtt"]["sessions"] == 0
        deaf.close()
        print(f"{binary}: reads nothing: {emu.jobs} jobs, {'closed' if closed else 'NOT closed'}; peak rss {peak:.0f} MiB (nobody subscribed: "
              f"{quiet_rss[emu.jobs]:.0f} MiB, {base:.0f} MiB before the jobs); peak heldBytes "
              f"{held / 2**20:.1f} MiB; rss after the close {rss(emu.proc.pid):.0f} MiB")
    finally:
        emu.stop()


if __name__ == "__main__":
    for b in sys.argv[1:]:
        reads(b)
        reads_nothing(b)
