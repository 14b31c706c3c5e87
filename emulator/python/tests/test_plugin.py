"""The pytest plugin, seen from a pytest session of its own (pytester, in a subprocess, so the
plugin is loaded the way a user's session loads it: through the installed entry point)."""

from __future__ import annotations

import re
from typing import Callable

import pytest

pytest_plugins = ["pytester"]

INNER_CONFTEST = """
import os

def pytest_sessionfinish(session):
    # Runs after the session fixtures are torn down, before the interpreter exits (and before
    # any atexit handler could stop the emulator instead of the fixture).
    pids = {int(p) for p in open(os.environ["PIDS_FILE"]).read().split()}
    with open(os.environ["PIDS_FILE"] + ".finish", "w") as out:
        for pid in pids:
            try:
                os.kill(pid, 0)
                out.write(f"{pid} alive\\n")
            except ProcessLookupError:
                out.write(f"{pid} gone\\n")
"""

INNER_TESTS = """
import os

def record(emu):
    with open(os.environ["PIDS_FILE"], "a") as f:
        f.write(f"{emu.pid}\\n")

def test_passes(iot_jobs_emulator):
    record(iot_jobs_emulator)
    iot_jobs_emulator.iot.create_thing(thingName="thing-of-the-passing-test")

def test_fails(iot_jobs_emulator):
    record(iot_jobs_emulator)
    iot_jobs_emulator.iot.create_thing(thingName="thing-of-the-failing-test")
    assert iot_jobs_emulator.iot.list_things()["things"] == [], "deliberate failure"

def test_passes_too(iot_jobs_emulator):
    record(iot_jobs_emulator)
    assert iot_jobs_emulator.iot.list_things()["things"] == []
"""


def section(output: str, title: str) -> str:
    """The text of a report section of pytest's output (from its ``--- title ---`` line to the
    next separator line)."""
    match = re.search(rf"^-+ {re.escape(title)} -+$\n(.*?)^[-=_]{{5,}}", output, re.S | re.M)
    assert match, f"no section {title!r} in:\n{output}"
    return match.group(1)


def test_a_failed_test_shows_its_emulator_log_and_the_session_stops_the_process(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, pid_alive: Callable[[int], bool]
) -> None:
    pids_file = pytester.path / "pids.txt"
    monkeypatch.setenv("PIDS_FILE", str(pids_file))
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    pytester.makeconftest(INNER_CONFTEST)
    pytester.makepyfile(test_inner=INNER_TESTS)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=2, failed=1)
    output = result.stdout.str()
    # Only the failed test's report has the section, and it holds what the emulator logged during
    # that test: its CreateThing, not the passing test's.
    assert output.count("iot-jobs-emulator log (call)") == 1, output
    log = section(output, "iot-jobs-emulator log (call)")
    assert "thing-of-the-failing-test" in log, log
    assert "CreateThing" in log and "ListThings" in log, log
    assert "thing-of-the-passing-test" not in log, log
    # One process for the session (every test saw the same pid), gone when the session ended.
    pids = {int(p) for p in pids_file.read_text().split()}
    assert len(pids) == 1, pids
    (pid,) = pids
    assert (pytester.path / "pids.txt.finish").read_text() == f"{pid} gone\n"
    assert not pid_alive(pid)


def test_the_emulator_s_flags_come_from_the_ini_option(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\niot_jobs_emulator_args = --deletion-delay 60 --max-jobs 1\n")
    pytester.makepyfile(
        test_inner="""
        def test_flags(iot_jobs_emulator):
            iot = iot_jobs_emulator.iot
            iot.create_thing(thingName="t")
            iot.create_job(jobId="j", targets=["arn:aws:iot:us-east-1:123456789012:thing/t"], document="{}")
            iot.delete_job(jobId="j", force=True)
            assert iot.describe_job(jobId="j")["job"]["status"] == "DELETION_IN_PROGRESS"
            assert iot_jobs_emulator.stats()["caps"]["jobs"] == 1
            iot_jobs_emulator.advance(60)
            assert iot.list_jobs()["jobs"] == []
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_each_test_starts_at_the_system_time(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_inner="""
        import time

        def test_1_moves_the_clock_on(iot_jobs_emulator):
            iot_jobs_emulator.advance(7200)

        def test_2_starts_where_a_new_emulator_would(iot_jobs_emulator):
            assert abs(iot_jobs_emulator.now() - time.time()) < 60
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize(
    "flags", ["--clock system --log-level info --max-jobs 1", "--clock=system --max-jobs=1 --log-level=info"]
)
def test_the_ini_option_s_clock_and_log_level_replace_the_fixture_s(pytester: pytest.Pytester, flags: str) -> None:
    pytester.makeini(f"[pytest]\niot_jobs_emulator_args = {flags}\n")
    pytester.makepyfile(
        test_inner="""
        import time
        import pytest
        from iot_jobs_emulator import EmulatorError

        def test_flags(iot_jobs_emulator):
            with pytest.raises(EmulatorError, match="--clock manual"):
                iot_jobs_emulator.advance(1)  # the system clock
            assert abs(iot_jobs_emulator.now() - time.time()) < 60
            assert iot_jobs_emulator.stats()["caps"]["jobs"] == 1
            iot_jobs_emulator.iot.list_things()
            # --log-level info: no line per request (debug, the fixture's default, has them).
            assert "clock System" in iot_jobs_emulator.log()
            assert " DEBUG " not in iot_jobs_emulator.log()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    "flags, message",
    [
        ("--addr 127.0.0.1:8080", "--addr is set by the iot_jobs_emulator fixture"),
        ("--mqtt-addr=off", "--mqtt-addr is set by the iot_jobs_emulator fixture"),
        ("--clock system --clock=manual", "--clock is given twice"),
        ("--log-level", "--log-level needs a value"),
        ("--clock sundial", "clock must be 'manual' or 'system'"),
    ],
)
def test_the_ini_option_cannot_set_the_fixture_s_own_flags(pytester: pytest.Pytester, flags: str, message: str) -> None:
    pytester.makeini(f"[pytest]\niot_jobs_emulator_args = {flags}\n")
    pytester.makepyfile(test_inner="def test_x(iot_jobs_emulator):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*UsageError: iot_jobs_emulator_args: {message}*"])


def test_an_emulator_that_cannot_start_fails_the_setup_with_its_message(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\niot_jobs_emulator_args = --max-connections 0\n")
    pytester.makepyfile(test_inner="def test_x(iot_jobs_emulator):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*EmulatorError: iot-jobs-emulator exited with status 2 before serving*"])
    result.stdout.fnmatch_lines(["*--max-connections*"])


def test_a_session_emulator_that_died_errors_the_next_tests_with_its_exit_status(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_inner="""
        import os, signal, time

        def test_kills_it(iot_jobs_emulator):
            os.kill(iot_jobs_emulator.pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while iot_jobs_emulator.running and time.monotonic() < deadline:
                time.sleep(0.01)
            assert not iot_jobs_emulator.running

        def test_next(iot_jobs_emulator):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*EmulatorError: the iot-jobs-emulator process has stopped (exit status -9, killed by SIGKILL)*"]
    )
