"""The step of the clock that removes a force-deleted job of N executions, timed over HTTP.

Usage: python3 benches/emulators/deletion_tick.py BINARY [BINARY ...] [--things N] [--port P]

Each binary is started with the embedded broker on, a manual clock and a deletion delay of 60 s;
a thing group of N things (default 20,000) is made, a job targets it, the job is force-deleted,
and `POST /_emulator/clock {"advanceSeconds": 60}` is timed: the tick that removes the job and
its N executions under the lock (BENCHMARKS §5). Binaries are run alternately, twice each.
"""

import argparse
import http.client
import json
import os
import signal
import subprocess
import time


def run(binary: str, things: int, port: int) -> float:
    emu = subprocess.Popen(
        [binary, "--addr", f"127.0.0.1:{port}", "--mqtt-addr", f"127.0.0.1:{port + 1}", "--clock", "manual",
         "--deletion-delay", "60"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        conn = None
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port)
                conn.request("GET", "/_emulator/clock")
                conn.getresponse().read()
                break
            except OSError:
                time.sleep(0.05)

        def call(method: str, path: str, body: object = None) -> int:
            conn.request(method, path, body=None if body is None else json.dumps(body),
                         headers={"content-type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            if r.status >= 300 and not (method == "GET" and r.status == 404):
                raise SystemExit(f"{method} {path}: {r.status} {data[:200]!r}")
            return r.status

        call("POST", "/thing-groups/g", {})
        for i in range(things):
            call("POST", f"/things/t{i}", {})
            call("PUT", "/thing-groups/addThingToThingGroup", {"thingGroupName": "g", "thingName": f"t{i}"})
        call("PUT", "/jobs/big", {"targets": ["arn:aws:iot:us-east-1:123456789012:thinggroup/g"], "document": "{}"})
        call("DELETE", "/jobs/big?force=true")
        start = time.perf_counter()
        call("POST", "/_emulator/clock", {"advanceSeconds": 60})
        took = time.perf_counter() - start
        if call("GET", "/jobs/big") != 404:
            raise SystemExit("the job was not removed by the tick")
        return took
    finally:
        emu.send_signal(signal.SIGTERM)
        emu.wait()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("binaries", nargs="+")
    p.add_argument("--things", type=int, default=20_000)
    p.add_argument("--port", type=int, default=5310)
    a = p.parse_args()
    for _ in range(2):
        for b in a.binaries:
            took = run(b, a.things, a.port)
            print(f"{b}: {a.things} executions removed by one tick in {took * 1000:.0f} ms")


if __name__ == "__main__":
    main()
