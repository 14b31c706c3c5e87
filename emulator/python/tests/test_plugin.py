"""The pytest plugin, seen from a pytest session of its own (pytester, in a subprocess, so the
plugin is loaded the way a user's session loads it: through the installed entry point)."""

from __future__ import annotations

import os
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


def test_a_failed_test_s_report_shows_the_last_lines_of_a_long_log(pytester: pytest.Pytester) -> None:
    # Every request is a line at the fixture's debug level: 450 of them, then a failure.
    pytester.makepyfile(
        test_inner="""
        def test_fails(iot_jobs_emulator):
            for i in range(450):
                iot_jobs_emulator.iot.create_thing(thingName=f"thing-{i}")
            assert False, "deliberate failure"
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    from iot_jobs_emulator import ERROR_LOG_LINES

    lines = section(result.stdout.str(), "iot-jobs-emulator log (call)").splitlines()
    assert len(lines) == ERROR_LOG_LINES + 1, lines[:3]
    assert re.fullmatch(r"\(\d+ earlier lines left out\)", lines[0]), lines[0]
    assert "CreateThing" in lines[-1], lines[-1]


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
    # One usage error at the start, however many tests would use the fixture (it was an error
    # per test).
    pytester.makeini(f"[pytest]\niot_jobs_emulator_args = {flags}\n")
    pytester.makepyfile(test_inner="def test_x(iot_jobs_emulator):\n    pass\n\ndef test_y(iot_jobs_emulator):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: iot_jobs_emulator_args: {message}*"])
    assert "test_x" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize("timeout", ["0", "-1", "soon", "nan", "inf"])
def test_the_timeout_option_must_be_a_positive_number(pytester: pytest.Pytester, timeout: str) -> None:
    pytester.makeini(f"[pytest]\niot_jobs_emulator_timeout = {timeout}\n")
    pytester.makepyfile(test_inner="def test_x(iot_jobs_emulator):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: iot_jobs_emulator_timeout must be a positive number of seconds, not '{timeout}'"])


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

        def test_after(iot_jobs_emulator):
            pass

        def test_after_that(iot_jobs_emulator):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=3)
    result.stdout.fnmatch_lines(
        ["*EmulatorError: the iot-jobs-emulator process has stopped (exit status -9, killed by SIGKILL)*"]
    )
    # The log once, with the first test that found it; the later ones a line naming that test
    # (every later test repeated the whole log: megabytes over a long suite).
    # Counted in the ERRORS section: on a CI machine (CI or BUILD_NUMBER set) pytest also prints
    # each error's whole message in the short summary, so the first one's log appears there again.
    out = result.stdout.str()
    errors, found, summary = out.partition("short test summary info")
    assert found, out
    assert errors.count("--- iot-jobs-emulator log ---") == 1, out
    on_ci = any(os.environ.get(name) for name in ("CI", "BUILD_NUMBER"))
    assert summary.count("--- iot-jobs-emulator log ---") == (1 if on_ci else 0), out
    result.stdout.fnmatch_lines(
        [
            "*EmulatorError: the session's iot-jobs-emulator stopped (exit status -9, killed by SIGKILL; "
            "found by test_inner.py::test_next, whose error has the emulator's log)"
        ]
    )
    assert errors.count("found by test_inner.py::test_next") == 2, out


def test_a_session_emulator_that_stops_answering_errors_the_next_tests_at_once(pytester: pytest.Pytester) -> None:
    # SIGSTOP: the process lives and does not answer. The first test's reset waits the timeout,
    # the later ones do not wait at all (each waited 30 s).
    pytester.makeini("[pytest]\niot_jobs_emulator_timeout = 1\n")
    pytester.makepyfile(
        test_inner="""
        import os, signal, time

        PID = []

        def test_stops_it(iot_jobs_emulator):
            pid = iot_jobs_emulator.pid
            PID.append(pid)
            os.kill(pid, signal.SIGSTOP)
            # `kill` returns before a busy thread has stopped: wait until every one has.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                tasks = os.listdir(f"/proc/{pid}/task")
                if all(open(f"/proc/{pid}/task/{t}/stat").read().rsplit(")", 1)[1].split()[0] == "T" for t in tasks):
                    break
                time.sleep(0.01)

        def test_next(iot_jobs_emulator):
            pass

        def test_after(iot_jobs_emulator):
            pass

        def test_zz_resumes_it():
            os.kill(PID[0], signal.SIGCONT)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--durations=0", "--durations-min=0")
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*EmulatorUnreachable: POST /_emulator/reset: no answer within 1 s (*); every later test that uses it "
            "errors at once",
            "*EmulatorError: the session's iot-jobs-emulator does not answer (found by test_inner.py::test_next, "
            "whose error has the emulator's log)",
        ]
    )
    durations = {m.group(2): float(m.group(1)) for m in re.finditer(r"([0-9.]+)s setup +test_inner.py::(\w+)", result.stdout.str())}
    assert durations["test_next"] >= 1.0 and durations.get("test_after", 0.0) < 0.5, durations


def test_the_env_fixture_points_the_sdk_s_own_clients_at_the_emulator_for_one_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ENDPOINT_URL_IOT", "AWS_ENDPOINT_URL_IOT_JOBS_DATA_PLANE", "AWS_ACCESS_KEY_ID",
                 "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(
        test_inner="""
        import os
        import boto3

        NAMES = ("AWS_ENDPOINT_URL_IOT", "AWS_ENDPOINT_URL_IOT_JOBS_DATA_PLANE", "AWS_ACCESS_KEY_ID",
                 "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")

        def test_code_under_test_makes_its_own_clients(iot_jobs_emulator_env):
            assert os.environ["AWS_ENDPOINT_URL_IOT"] == iot_jobs_emulator_env.endpoint
            iot = boto3.client("iot")  # no endpoint given: the environment's
            iot.create_thing(thingName="t1")
            iot.create_job(jobId="j", document="{}", targets=[iot.describe_thing(thingName="t1")["thingArn"]])
            data = boto3.client("iot-jobs-data")
            assert data.start_next_pending_job_execution(thingName="t1")["execution"]["jobId"] == "j"
            # Other services keep their endpoints.
            assert "127.0.0.1" not in boto3.client("s3").meta.endpoint_url

        def test_the_environment_is_restored_afterwards():
            assert not any(n in os.environ for n in NAMES)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)

