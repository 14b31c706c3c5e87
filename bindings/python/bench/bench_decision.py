"""The cost of a decision called from Python, beside the same decision written in pure Python,
and the module's import time. A benchmark, not a test: it asserts nothing and is not run in CI.

    python bindings/python/bench/bench_decision.py [--number N]

Prints one line per measurement (best of 5 timeit repeats, nanoseconds per call).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import timeit

import iot_jobs_core as j

# --- the same decisions in pure Python, as a Python emulator would write them ----------------

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "REMOVED", "CANCELED"}
DEVICE_SETTABLE = {"IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED"}


class PyInvalidStateTransition(Exception):
    pass


class PyVersionConflict(Exception):
    pass


def py_update_execution(status, version, requested, expected_version=None):
    """UpdateJobExecution (SPEC 4.3, T2-T6, R9, §8) with the default policy."""
    if requested not in DEVICE_SETTABLE:
        raise PyInvalidStateTransition(status, version)
    if status in TERMINAL:
        raise PyInvalidStateTransition(status, version)
    if expected_version is not None and expected_version != version:
        raise PyVersionConflict(status, version)
    return requested


def py_delete_execution(status, version, force=False):
    """DeleteJobExecution (SPEC 4.2, T11, R1, R2) with the default policy."""
    if status in ("QUEUED", "IN_PROGRESS") and not force:
        raise PyInvalidStateTransition(status, version)


def best_ns(stmt, number: int, env: dict) -> float:
    return min(timeit.repeat(stmt, number=number, repeat=5, globals=env)) / number * 1e9


def import_time_ms(runs: int = 5) -> float:
    """Wall time of ``import iot_jobs_core`` in a fresh interpreter, minus an empty one."""
    code = "import time; t=time.perf_counter(); import iot_jobs_core; print(time.perf_counter()-t)"
    times = [float(subprocess.check_output([sys.executable, "-c", code])) for _ in range(runs)]
    return min(times) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--number", type=int, default=200_000)
    n = ap.parse_args().number
    E = j.ExecutionStatus
    # Members bound to names first: `E.X` itself costs an enum attribute lookup per use.
    env = dict(globals(), j=j, IP=E.IN_PROGRESS, OK=E.SUCCEEDED, FAILED=E.FAILED)
    rows = [
        ("update_execution accepted (core, str args)", "j.update_execution('IN_PROGRESS', 2, 'SUCCEEDED', 2)"),
        ("update_execution accepted (core, enum args)", "j.update_execution(IP, 2, OK, 2)"),
        ("update_execution accepted (pure Python)", "py_update_execution('IN_PROGRESS', 2, 'SUCCEEDED', 2)"),
        (
            "update_execution refused (core, raises InvalidStateTransitionException)",
            "try:\n    j.update_execution('SUCCEEDED', 3, 'IN_PROGRESS')\nexcept j.JobsError:\n    pass",
        ),
        (
            "update_execution refused (pure Python, raises)",
            "try:\n    py_update_execution('SUCCEEDED', 3, 'IN_PROGRESS')\nexcept PyInvalidStateTransition:\n    pass",
        ),
        ("delete_execution accepted (core)", "j.delete_execution('SUCCEEDED', 3)"),
        ("delete_execution accepted (pure Python)", "py_delete_execution('SUCCEEDED', 3)"),
        ("ExecutionStatus.is_terminal (core)", "FAILED.is_terminal"),
        ("status in TERMINAL (pure Python)", "'FAILED' in TERMINAL"),
    ]
    print(f"python {sys.version.split()[0]}, iot_jobs_core {j.__version__}, {n} calls per repeat, best of 5")
    for name, stmt in rows:
        print(f"{best_ns(stmt, n, env):9.1f} ns  {name}")
    reg_setup = "r = j.Registry(); r.add_thing('t'); r.create_job('job', ['t'], 0); r.start_next('t', 0)"
    env2 = dict(env)
    exec(reg_setup, env2)
    stmt = "r.update_execution('job', 't', 'IN_PROGRESS', 1)"
    print(f"{best_ns(stmt, max(n // 10, 1), env2):9.1f} ns  Registry.update_execution (progress report, version +1)")
    print(f"{import_time_ms():9.1f} ms  import iot_jobs_core (fresh interpreter, best of 5)")


if __name__ == "__main__":
    main()
