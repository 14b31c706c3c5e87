#!/usr/bin/env bash
# Server CPU time per ListJobExecutionsForJob request (100 executions, ~20 KB): the emulator's
# user+system time (/proc/PID/stat) over N sequential requests from one keep-alive client, so
# the figure does not depend on how many cores the client and other load leave the server.
# Usage: bash benches/emulators/list_cpu.sh [N=20000] [BIN=target/release/iot-jobs-emulator]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-20000}
BIN=${2:-target/release/iot-jobs-emulator}
[ "$BIN" != target/release/iot-jobs-emulator ] || cargo build --release -q -p iot-jobs-emulator
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" --addr "127.0.0.1:$PORT" --mqtt-addr off --clock manual --log-level warn >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
python3 benches/emulators/seed.py "http://127.0.0.1:$PORT" 100 >/dev/null
python3 - "$PORT" "$N" "$PID" <<'PY'
import http.client, os, sys
port, n, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
hdr = {"Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iot/aws4_request, "
       "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64, "X-Amz-Date": "20260101T000000Z"}
c = http.client.HTTPConnection("127.0.0.1", port)
def run(k):
    for _ in range(k):
        c.request("GET", "/jobs/job1/things", headers=hdr)
        r = c.getresponse(); body = r.read()
        assert r.status == 200 and body.count(b"thingArn") == 100, (r.status, len(body))
    return len(body)
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
run(500)
t0 = cpu(); size = run(n); t1 = cpu()
print(f"list_cpu: {n} requests, {size} B each: {(t1 - t0) / n * 1e6:.1f} us of server CPU per request")
PY
