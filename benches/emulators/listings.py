"""The listings the emulator orders itself, at scale: ListJobs and ListThings over `N` jobs and
things, and what a client listing jobs over and over costs the others.

Usage: python3 benches/emulators/listings.py BIN [BIN...]   (env: N=20000, SECONDS=3)

Per build, an emulator (manual clock, no broker) gets a thing `t` and `N` jobs targeting it,
and `N` things. Then, from one keep-alive client: the median of 10 first pages of ListJobs
(`maxResults` 250), the emulator's resident memory with the jobs and things in, the time to walk every page of ListJobs and of ListThings, and DescribeJob
requests per second (p50 / p99 in µs) alone and while another client sends ListJobs
(`maxResults` 1) back to back.
"""

import http.client
import json
import os
import statistics
import sys
import threading
import time

from mqtt_wire import emulator, rss

N = int(os.environ.get("N", "20000"))
SECONDS = float(os.environ.get("SECONDS", "3"))
HEADERS = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iot/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
    "X-Amz-Date": "20260101T000000Z",
    "Content-Type": "application/json",
}


def call(c, method, path, body=None):
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=HEADERS)
    r = c.getresponse()
    data = r.read()
    assert r.status == 200, (r.status, path, data[:200])
    return data


def first_page(c, path):
    """The median of 10 GETs of `path` (a first page), in seconds."""
    times = []
    for _ in range(10):
        t = time.perf_counter()
        call(c, "GET", path)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def walk(c, path, items):
    """Every page of the listing at `path` (which may carry a query), 250 items a page, the
    member `items` holding them: (seconds, pages, items)."""
    query = "&" if "?" in path else "?"
    t, token, pages, n = time.perf_counter(), None, 0, 0
    while True:
        page = json.loads(call(c, "GET", f"{path}{query}maxResults=250" + (f"&nextToken={token}" if token else "")))
        pages, n = pages + 1, n + len(page[items])
        token = page.get("nextToken")
        if not token:
            return time.perf_counter() - t, pages, n


def describe_rate(port, seconds, path="/jobs/j5"):
    """GET `path` back to back for `seconds`: (requests per second, p50 µs, p99 µs)."""
    c = http.client.HTTPConnection("127.0.0.1", port)
    lat, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.perf_counter()
        call(c, "GET", path)
        lat.append(time.perf_counter() - t)
    q = statistics.quantiles(lat, n=100)
    return len(lat) / seconds, q[49] * 1e6, q[98] * 1e6


def beside(port, path, run):
    """`run()`, while another client sends GET `path` back to back."""
    stop = threading.Event()

    def lister():
        c = http.client.HTTPConnection("127.0.0.1", port)
        while not stop.is_set():
            call(c, "GET", path)

    th = threading.Thread(target=lister)
    th.start()
    try:
        return run()
    finally:
        stop.set()
        th.join()


def measure(binary):
    caps = ["--max-jobs", str(max(N, 100_000)), "--max-things", str(max(N + 1, 100_000))]
    with emulator(binary, ["--clock", "manual", "--log-level", "warn", *caps], mqtt=False) as (emu, port):
        c = http.client.HTTPConnection("127.0.0.1", port)
        arn = json.loads(call(c, "POST", "/things/t", {}))["thingArn"]
        for i in range(N):
            call(c, "PUT", f"/jobs/j{i}", {"targets": [arn], "document": "{}"})
            call(c, "POST", f"/things/t{i}", {})
        memory = rss(emu.pid)
        first = first_page(c, "/jobs?maxResults=250")
        jobs_walk, _, jobs_n = walk(c, "/jobs", "jobs")
        things_walk, _, things_n = walk(c, "/things", "things")
        alone = describe_rate(port, SECONDS)
        busy = beside(port, "/jobs?maxResults=1", lambda: describe_rate(port, SECONDS))
        return memory, first, (jobs_walk, jobs_n), (things_walk, things_n), alone, busy


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    width = max(len(b) for b in sys.argv[1:])
    print(f"{N:,} jobs and {N:,} things; {SECONDS:g} s per rate")
    for binary in sys.argv[1:]:
        memory, first, (jw, jn), (tw, tn), alone, busy = measure(binary)
        print(f"{binary:<{width}} {memory:.1f} MiB resident; ListJobs first page {first * 1e3:.2f} ms; every page: ListJobs {jw:.2f} s ({jn:,}), ListThings {tw:.2f} s ({tn:,})", flush=True)
        for what, (rate, p50, p99) in (("alone", alone), ("beside ListJobs", busy)):
            print(f"{binary:<{width}} DescribeJob {what:<16} {rate:>8,.0f}/s  p50 {p50:,.0f} µs, p99 {p99:,.0f} µs", flush=True)


if __name__ == "__main__":
    main()
