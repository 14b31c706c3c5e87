"""What a large `advance` and the drain of its event records cost (BENCHMARKS §6).

Usage: python bindings/python/bench/bench_events.py   (env: N=100000 executions)

One registry of N things; cases, each on a fresh registry, best of 3:
- timeouts: N executions IN_PROGRESS with a 1-minute in-progress timeout; one `advance` past it;
- deletion: a job of N QUEUED executions force-deleted with a 60 s deletion delay; one
  `advance` past it removes the job and its executions;
- drain: `drain_events()` after the deletion (N + 1 `deleted` records and the notifications).
"""

import os
import time

import iot_jobs_core as j

N = int(os.environ.get("N", "100000"))


def registry() -> "j.Registry":
    reg = j.Registry(things=N, executions=N + 10, status_details=N + 10, max_events=10 * N + 100, deletion_delay=60)
    for i in range(N):
        reg.add_thing(f"t{i}")
    return reg


def timeouts() -> float:
    reg = registry()
    things = [f"t{i}" for i in range(N)]
    reg.create_job("job", [], 0, members=things, in_progress_timeout_minutes=1)
    for t in things:
        reg.start_next(t, 0)
    reg.drain_events()
    start = time.perf_counter()
    reg.advance(61)
    return time.perf_counter() - start


def deletion() -> "tuple[float, float]":
    reg = registry()
    reg.create_job("job", [], 0, members=[f"t{i}" for i in range(N)])
    reg.delete_job("job", 0, force=True)
    reg.drain_events()
    start = time.perf_counter()
    reg.advance(61)
    advanced = time.perf_counter() - start
    start = time.perf_counter()
    events = reg.drain_events()
    drained = time.perf_counter() - start
    assert len(events) > N, len(events)
    return advanced, drained


def main() -> None:
    t = min(timeouts() for _ in range(3))
    d = [deletion() for _ in range(3)]
    print(f"N={N}: advance over {N} timeouts {t:.3f} s; advance removing a job of {N} executions "
          f"{min(x for x, _ in d):.3f} s; drain of its records {min(y for _, y in d):.3f} s")


if __name__ == "__main__":
    main()
