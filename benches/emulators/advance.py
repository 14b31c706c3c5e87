"""What one large clock advance costs: `POST /_emulator/clock` over a year of hourly maintenance
windows, with the broker off, with it on and nobody subscribed, and with one device subscribed.

Usage: python3 benches/emulators/advance.py BIN [BIN...]   (env: THINGS=10, DAYS=365)

Per build and per case, a fresh emulator (manual clock) gets `THINGS` things and one SNAPSHOT job
targeting them that starts in 40 minutes, ends in `DAYS` - 1 days (`STOP_ROLLOUT`) and rolls out
in a 30-minute window at the top of every hour. Then one advance of `DAYS` days opens and closes
every window in turn, each at its own instant; every window lists the QUEUED executions on the
things' pending lists and takes them off again (`notify` and `notify-next` each time). Printed:
the advance's wall time, the emulator's peak resident memory (VmHWM) and the notifications the
registry reported. "one device" subscribes to `notify-next` of the first thing only (over raw
MQTT 3.1.1, reading nothing: the broker's queue for it is bounded), so the broker keeps its
messages and none of the others'.
"""

import datetime
import http.client
import json
import os
import subprocess
import sys
import time

from listings import HEADERS, call
from mqtt_wire import connect, free_port, packet, read_packet, status_mib, string, wait_for

THINGS = int(os.environ.get("THINGS", "10"))
DAYS = int(os.environ.get("DAYS", "365"))


def case(binary, broker, subscriber):
    http_port, mqtt_port = free_port(), free_port()
    args = ["--addr", f"127.0.0.1:{http_port}", "--clock", "manual", "--log-level", "warn"]
    args += ["--mqtt-addr", f"127.0.0.1:{mqtt_port}" if broker else "off"]
    emu = subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    device = None
    try:
        wait_for(http_port)
        c = http.client.HTTPConnection("127.0.0.1", http_port)
        arns = []
        for i in range(THINGS):
            call(c, "POST", f"/things/t{i}", {})
            arns.append(f"arn:aws:iot:us-east-1:123456789012:thing/t{i}")
        if subscriber:
            device = connect(mqtt_port, b"device-t0")
            topic = string(b"$aws/things/t0/jobs/notify-next")
            device.sendall(packet(0x82, b"\x00\x01" + topic + b"\x01"))
            first, _ = read_packet(device)
            assert first == 0x90, first
        now = json.loads(call(c, "GET", "/_emulator/clock"))["now"]

        def at(secs):
            return datetime.datetime.fromtimestamp(now + secs, datetime.UTC).strftime("%Y-%m-%dT%H:%M")

        windows = [{"startTime": "cron(0 * * * ? *)", "durationInMinutes": 30}]
        schedule = {"startTime": at(40 * 60), "endTime": at((DAYS - 1) * 86400), "endBehavior": "STOP_ROLLOUT",
                    "maintenanceWindows": windows}
        call(c, "PUT", "/jobs/windows", {"targets": arns, "document": "{}", "schedulingConfig": schedule})
        t = time.perf_counter()
        call(c, "POST", "/_emulator/clock", {"advanceSeconds": DAYS * 86400})
        seconds = time.perf_counter() - t
        events = json.loads(call(c, "GET", "/_emulator/stats"))["events"]
        return seconds, status_mib(emu.pid, "VmHWM"), events["notify"] + events["notifyNext"]
    finally:
        if device is not None:
            device.close()
        emu.terminate()
        emu.wait()


def main():
    for binary in sys.argv[1:]:
        for name, broker, subscriber in [("broker off", False, False), ("broker on, nobody subscribed", True, False),
                                         ("broker on, one device", True, True)]:
            seconds, peak, notes = case(binary, broker, subscriber)
            print(f"{binary}: {name}: {THINGS} things, {DAYS} days: advance {seconds:.3f} s, "
                  f"peak {peak:,.0f} MiB, {notes:,} notifications")


if __name__ == "__main__":
    main()
