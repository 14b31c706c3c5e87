"""The installed package: the binary on the PATH, ``python -m``, and the ``Emulator`` class."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Callable

import pytest

import iot_jobs_emulator
from iot_jobs_emulator import BINARY_ENV, ERROR_LOG_LINES, Emulator, EmulatorError, EmulatorUnreachable, find_binary


def test_the_wheel_puts_the_binary_in_the_environment_s_scripts_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BINARY_ENV, raising=False)
    installed = os.path.join(sysconfig.get_path("scripts"), "iot-jobs-emulator")
    assert find_binary() == installed
    assert shutil.which("iot-jobs-emulator") == installed
    version = importlib.metadata.version("iot-jobs-emulator")
    out = subprocess.run([installed, "--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"iot-jobs-emulator {version}"


def test_python_m_runs_the_binary() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "iot_jobs_emulator", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "--mqtt-addr" in done.stdout and "--clock" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "iot_jobs_emulator", "--no-such-flag"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "--no-such-flag" in bad.stderr


def test_the_override_must_name_an_executable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(BINARY_ENV, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match=BINARY_ENV):
        find_binary()


def test_an_emulator_as_a_context_manager(pid_alive: Callable[[int], bool]) -> None:
    with Emulator(mqtt=False, deletion_delay=60) as emu:
        pid = emu.pid
        assert emu.running and emu.mqtt_address is None
        assert emu.endpoint.startswith("http://127.0.0.1:")
        iot = emu.iot
        assert emu.iot is iot  # one client per start
        iot.create_thing(thingName="t")
        iot.create_job(jobId="j", targets=["arn:aws:iot:us-east-1:123456789012:thing/t"], document="{}")
        iot.delete_job(jobId="j", force=True)
        # --deletion-delay 60 was passed: the job stays DELETION_IN_PROGRESS for 60 s.
        assert iot.describe_job(jobId="j")["job"]["status"] == "DELETION_IN_PROGRESS"
        emu.advance(59)
        assert emu.stats()["jobsDeleting"] == 1
        emu.advance(1)
        assert emu.stats()["jobsDeleting"] == 0
        with pytest.raises(iot.exceptions.ResourceNotFoundException):
            iot.describe_job(jobId="j")
    assert not emu.running and not pid_alive(pid)
    assert "DeleteJob" in emu.log()  # the log outlives the process
    with pytest.raises(EmulatorError, match="not running"):
        _ = emu.endpoint
    assert emu.stop() is None  # idempotent


def test_start_and_stop_return_the_exit_status() -> None:
    emu = Emulator().start()
    try:
        host, port = emu.mqtt_address or ("", 0)
        assert host == "127.0.0.1" and port > 0
        assert emu.log_size() > 0
        with pytest.raises(EmulatorError, match="already running"):
            emu.start()
    finally:
        code = emu.stop()
    assert code == 0  # SIGTERM is a graceful stop


def test_mqtt_over_websocket_is_served_when_asked_for() -> None:
    with Emulator() as emu:
        assert emu.mqtt_websocket_url is None
    with Emulator(mqtt_websocket=True) as emu:
        url = emu.mqtt_websocket_url or ""
        host, _, port = url.removeprefix("ws://").removesuffix("/mqtt").rpartition(":")
        assert url.startswith("ws://127.0.0.1:") and url.endswith("/mqtt") and int(port) > 0, url
        # The upgrade with the mqtt subprotocol is answered 101 (switching protocols).
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(
                b"GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                b"Sec-WebSocket-Protocol: mqtt\r\n\r\n"
            )
            answer = s.recv(4096).decode()
        assert answer.startswith("HTTP/1.1 101") and "sec-websocket-protocol: mqtt" in answer.lower(), answer


def test_a_saved_state_loads_into_this_emulator_or_another_and_a_bad_one_changes_nothing() -> None:
    thing_arn = "arn:aws:iot:us-east-1:123456789012:thing/t1"
    with Emulator(mqtt=False) as emu:
        emu.iot.create_thing(thingName="t1")
        emu.iot.create_job(jobId="j1", targets=[thing_arn], document='{"v":1}')
        emu.jobs_data.start_next_pending_job_execution(thingName="t1")
        saved_at = emu.advance(100)
        snapshot = emu.save_state()
        assert isinstance(snapshot, bytes) and snapshot
        emu.reset()
        emu.advance(50)
        with pytest.raises(emu.iot.exceptions.ResourceNotFoundException):
            emu.iot.describe_thing(thingName="t1")
        emu.load_state(snapshot)
        assert emu.now() == saved_at  # the manual clock's time comes back with the state
        execution = emu.iot.describe_job_execution(jobId="j1", thingName="t1")["execution"]
        assert execution["status"] == "IN_PROGRESS"
        assert emu.iot.get_job_document(jobId="j1")["document"] == '{"v":1}'
        # Refused: not a snapshot, or not bytes. Nothing changes.
        loaded = emu.save_state()
        with pytest.raises(EmulatorError, match="HTTP 400.*cannot be loaded"):
            emu.load_state(b"not a snapshot")
        with pytest.raises(TypeError, match="bytes"):
            emu.load_state(snapshot.decode("latin-1"))  # type: ignore[arg-type]
        assert emu.iot.describe_thing(thingName="t1")["thingName"] == "t1"
        assert emu.save_state() == loaded
        # The state loaded is the one saved, but for the count of changes, which the load
        # advanced.
        again, before = json.loads(loaded), json.loads(snapshot)
        assert again.pop("seq") > before.pop("seq") and again == before
    # Another emulator, later: the same world.
    with Emulator(mqtt=False) as other:
        other.load_state(snapshot)
        assert other.now() == saved_at
        assert other.iot.describe_job_execution(jobId="j1", thingName="t1")["execution"]["status"] == "IN_PROGRESS"
        # A body over --max-body-bytes (1 MiB) is still read: a snapshot has its own limit.
        with pytest.raises(EmulatorError, match="HTTP 400.*cannot be loaded"):
            other.load_state(bytes(2 << 20))
    # Over --max-state-bytes: the 413 names the flag.
    with Emulator(mqtt=False, extra_args=["--max-state-bytes", str(len(snapshot) - 1)]) as small:
        with pytest.raises(EmulatorError, match=r"HTTP 413.*--max-state-bytes"):
            small.load_state(snapshot)


def test_bad_flags_and_bad_admin_calls_raise_with_the_reason() -> None:
    with pytest.raises(EmulatorError, match="exited with status 2 before serving") as failed:
        Emulator(extra_args=["--no-such-flag"]).start()
    assert "--no-such-flag" in failed.value.log
    with pytest.raises(ValueError):
        Emulator(clock="sundial")
    with Emulator(clock="system", mqtt=False) as emu:
        with pytest.raises(EmulatorError, match="--clock manual"):
            emu.advance(1)
        with pytest.raises(ValueError):
            emu.advance(-1)
        assert abs(emu.now() - time.time()) < 60


def test_an_injected_throttle_drives_boto3_s_own_retries_and_changes_nothing() -> None:
    import botocore.config
    import botocore.exceptions

    with Emulator(mqtt=False) as emu:
        emu.iot.create_thing(thingName="t")
        emu.iot.create_job(jobId="j", targets=["arn:aws:iot:us-east-1:123456789012:thing/t"], document="{}")
        # boto3's standard retry mode takes two throttles and succeeds on its third attempt.
        waiting = emu.inject_fault("ThrottlingException", count=2, operations=["UpdateJobExecution"])
        assert waiting == [{"error": "ThrottlingException", "count": 2, "operations": ["UpdateJobExecution"]}]
        retrying = botocore.config.Config(retries={"mode": "standard", "max_attempts": 3})
        data = emu.client("iot-jobs-data", config=retrying)
        out = data.update_job_execution(
            thingName="t", jobId="j", status="SUCCEEDED", expectedVersion=1, includeJobExecutionState=True
        )
        assert out["ResponseMetadata"]["RetryAttempts"] == 2
        assert out["executionState"]["versionNumber"] == 2  # the refused attempts changed nothing
        # Without retries (the clients `emu.iot` and `emu.jobs_data` make one attempt), the
        # client sees the service's exception.
        emu.inject_fault("ServiceUnavailableException", operations=["DescribeJob"])
        iot = emu.iot
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            iot.describe_job(jobId="j")
        assert refused.value.response["Error"]["Code"] == "ServiceUnavailableException"
        assert iot.describe_job(jobId="j")["job"]["status"] == "COMPLETED"
        emu.inject_fault(count=5)
        emu.clear_faults()
        assert emu.iot.describe_job(jobId="j")["job"]["jobId"] == "j"
        with pytest.raises(EmulatorError, match="is not an operation a fault can refuse"):
            emu.inject_fault(operations=["Reset"])
        with pytest.raises(TypeError, match="not a str"):
            emu.inject_fault(operations="ListJobs")
        # One plane's DescribeJobExecution: the control plane's is answered.
        emu.inject_fault(operations=["DescribeJobExecution"], plane="data")
        assert emu.iot.describe_job_execution(jobId="j", thingName="t")["execution"]["status"] == "SUCCEEDED"
        assert emu.clear_faults() is None


def test_a_lost_answer_is_retried_by_boto3_and_the_update_is_made_once() -> None:
    import botocore.config
    import botocore.exceptions

    with pytest.raises(ValueError, match="not error and drop"):
        Emulator().inject_fault("ThrottlingException", drop="reply")  # not started: no request made
    with Emulator(mqtt=False) as emu:
        emu.iot.create_thing(thingName="t")
        emu.iot.create_job(jobId="j", targets=["arn:aws:iot:us-east-1:123456789012:thing/t"], document="{}")
        waiting = emu.inject_fault(drop="reply", operations=["UpdateJobExecution"], thing="t")
        assert waiting == [{"drop": "reply", "count": 1, "operations": ["UpdateJobExecution"], "thing": "t"}]
        # The first attempt is carried out, and its connection closed with no answer: botocore
        # sees ConnectionClosedError and retries. The retry, with the same expectedVersion, is
        # answered 409 InvalidStateTransitionException (the execution is at version 2 now), which
        # botocore raises without retrying: the update was made once, and the caller resyncs.
        retrying = botocore.config.Config(retries={"mode": "standard", "max_attempts": 3})
        data = emu.client("iot-jobs-data", config=retrying)
        with pytest.raises(botocore.exceptions.ClientError) as stale:
            data.update_job_execution(thingName="t", jobId="j", status="IN_PROGRESS", expectedVersion=1)
        assert stale.value.response["Error"]["Code"] == "InvalidStateTransitionException"
        assert stale.value.response["ResponseMetadata"]["RetryAttempts"] == 1
        execution = emu.jobs_data.describe_job_execution(thingName="t", jobId="j")["execution"]
        assert (execution["status"], execution["versionNumber"]) == ("IN_PROGRESS", 2)
        # A lost request is not carried out: the retry is, once.
        emu.inject_fault(drop="request", operations=["UpdateJobExecution"])
        done = data.update_job_execution(thingName="t", jobId="j", status="SUCCEEDED", expectedVersion=2)
        assert done["ResponseMetadata"]["RetryAttempts"] == 1
        execution = emu.iot.describe_job_execution(thingName="t", jobId="j")["execution"]
        assert (execution["status"], execution["versionNumber"]) == ("SUCCEEDED", 3)
        # A delayed answer, for one thing only.
        emu.iot.create_thing(thingName="other")
        emu.inject_fault(delay_ms=300, operations=["DescribeThing"], thing="t")
        assert emu.iot.describe_thing(thingName="other")["thingName"] == "other"
        asked = time.monotonic()
        assert emu.iot.describe_thing(thingName="t")["thingName"] == "t"
        assert time.monotonic() - asked >= 0.3


def test_a_policy_flag_changes_the_reading_it_names() -> None:
    with Emulator(mqtt=False, extra_args=["--policy", "delete_queued_without_force=true"]) as emu:
        emu.iot.create_thing(thingName="t")
        emu.iot.create_job(jobId="j", targets=["arn:aws:iot:us-east-1:123456789012:thing/t"], document="{}")
        emu.iot.delete_job_execution(jobId="j", thingName="t", executionNumber=1)  # QUEUED, no force: R2
        assert emu.stats()["policy"]["delete_queued_without_force"] is True
    with pytest.raises(EmulatorError, match="exited with status 2 before serving") as failed:
        Emulator(extra_args=["--policy", "pending_cap=12"]).start()
    assert "pending_cap takes 10|15 (R12), not \"12\"" in failed.value.log
    with pytest.raises(EmulatorError, match="exited with status 2 before serving") as failed:
        Emulator(extra_args=["--policy", "pending_cap=15", "--policy", "pending_cap=10"]).start()
    assert "--policy: pending_cap is given twice" in failed.value.log


def test_advance_takes_an_int_from_0_to_2_to_the_64_minus_1() -> None:
    with Emulator(mqtt=False) as emu:
        before = emu.log_size()
        for bad in (2**64, 2**70, -1, -(2**70), 1.5, True, "1"):
            with pytest.raises(ValueError, match=r"from 0 to 2\*\*64 - 1"):
                emu.advance(bad)  # type: ignore[arg-type]
        assert "/_emulator/clock" not in emu.log(since=before)  # refused before any request
        now = emu.now()
        assert emu.advance(0) == now
        # In range, but past what the clock can show: the emulator's own refusal.
        with pytest.raises(EmulatorError, match="advanceSeconds .* would move the clock past 2106"):
            emu.advance(2**64 - 1)
        assert emu.now() == now


def test_a_reset_may_put_the_manual_clock_back() -> None:
    with Emulator(mqtt=False) as emu:
        start = emu.now()
        emu.iot.create_thing(thingName="t1")
        emu.advance(7200)
        for bad in (2**64, -1, 1.5, True, "1"):
            with pytest.raises(ValueError, match=r"from 0 to 2\*\*64 - 1"):
                emu.reset(now=bad)  # type: ignore[arg-type]
        with pytest.raises(EmulatorError, match="past 2106"):
            emu.reset(now=2**40)
        emu.iot.describe_thing(thingName="t1")  # nothing was forgotten
        assert emu.now() == start + 7200
        emu.reset()
        assert emu.now() == start + 7200  # the clock stays by default
        emu.reset(now=start)
        assert emu.now() == start


def test_a_host_name_is_resolved_to_its_address() -> None:
    loopback = {info[4][0] for info in socket.getaddrinfo("localhost", None, type=socket.SOCK_STREAM)}
    with Emulator(host="localhost", mqtt_websocket=True) as emu:
        host, port = emu.mqtt_address or ("", 0)
        assert host in loopback and port > 0
        assert emu.endpoint.startswith("http://" + (f"[{host}]" if ":" in host else host) + ":")
        assert emu.now() > 0
        with socket.create_connection((host, port), timeout=10):
            pass
    with Emulator(host="[::1]" if "::1" in loopback else "127.0.0.1", mqtt=False) as emu:
        assert emu.now() > 0
    with pytest.raises(ValueError, match="host must be an IP address or a host name that resolves"):
        Emulator(host="no-such-host.invalid").start()


def test_an_emulator_left_running_is_stopped_at_interpreter_exit(pid_alive: Callable[[int], bool]) -> None:
    script = "from iot_jobs_emulator import Emulator; print(Emulator().start().pid, flush=True)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout)
    try:
        assert not pid_alive(pid)
    finally:
        if pid_alive(pid):
            os.kill(pid, 9)


def running(pid: int, pid_alive: Callable[[int], bool]) -> bool:
    """Whether a process id names a live process, not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # pragma: no cover - no /proc
        return pid_alive(pid)


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Polls ``condition`` until it holds or ``timeout`` seconds have passed; its last answer."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return condition()
        time.sleep(0.01)
    return True


@pytest.mark.parametrize("death", ["SIGKILL", "SIGTERM", "os._exit"])
def test_an_emulator_stops_when_the_process_that_started_it_dies(
    death: str, pid_alive: Callable[[int], bool]
) -> None:
    # The parent prints the emulator's pid, then dies without running any cleanup: killed by a
    # signal (SIGTERM with Python's default handler, SIGKILL), or os._exit.
    script = (
        "import os, sys, time\n"
        "from iot_jobs_emulator import Emulator\n"
        "emu = Emulator(mqtt=False).start()\n"
        "print(emu.pid, flush=True)\n"
        + ("os._exit(3)\n" if death == "os._exit" else "time.sleep(60)\n")
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pid = 0
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        if death != "os._exit":
            parent.send_signal(getattr(signal, death))
        parent.wait(30)
        # Orphaned, the emulator is the child of whatever adopts it, which may leave it a zombie:
        # a zombie has stopped.
        assert wait_until(lambda: not running(pid, pid_alive)), f"the emulator {pid} outlived its parent ({death})"
    finally:
        parent.kill()
        parent.wait()
        if pid and running(pid, pid_alive):
            os.kill(pid, signal.SIGKILL)


def test_the_folder_a_killed_process_left_is_removed_by_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pid_alive: Callable[[int], bool]
) -> None:
    # Every emulator of this test makes its folder in tmp_path (TMPDIR for the child).
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    script = (
        "import os, time\n"
        "from iot_jobs_emulator import Emulator\n"
        "emu = Emulator(mqtt=False).start()\n"
        "print(emu.pid, os.path.dirname(emu._log_path), flush=True)\n"
        "time.sleep(60)\n"
    )
    killed = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(tmp_path)}
    )
    try:
        assert killed.stdout is not None
        pid_text, left = killed.stdout.readline().split()
        with Emulator(mqtt=False) as alive:  # its folder is held: the next start keeps it
            kept = os.path.dirname(alive._log_path or "")
            killed.kill()
            killed.wait(30)
            assert wait_until(lambda: not running(int(pid_text), pid_alive))
            assert os.path.isdir(left)  # nobody could remove it
            foreign = tmp_path / "iot-jobs-emulator-foreign"  # no lock file: not one of ours
            foreign.mkdir()
            with Emulator(mqtt=False) as emu:
                assert emu.now() > 0
                assert not os.path.exists(left)  # removed by that start
                assert os.path.isdir(kept) and foreign.is_dir()
                assert alive.now() > 0
    finally:
        killed.kill()
        killed.wait()


def test_a_forked_child_that_exits_leaves_its_parent_s_emulator_alone() -> None:
    # The child inherits the Emulator and its interpreter-exit hook; it exits normally (the hook
    # runs), then the parent's emulator must still serve and its log folder still be there.
    script = """
import os, sys
from iot_jobs_emulator import Emulator
emu = Emulator(mqtt=False).start()
folder = os.path.dirname(emu._log_path)
child = os.fork()
if child == 0:
    print("child sees running:", emu.running, flush=True)
    emu.now()  # the child may use it too
    sys.exit(0)  # a normal exit: atexit handlers run
_, status = os.waitpid(child, 0)
print("child exit:", os.waitstatus_to_exitcode(status), flush=True)
print("parent sees running:", emu.running, flush=True)
print("folder kept:", os.path.isdir(folder), flush=True)
print("serves:", emu.now() > 0, flush=True)
print("stop:", emu.stop(), "folder removed:", not os.path.isdir(folder), flush=True)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "child sees running: True",
        "child exit: 0",
        "parent sees running: True",
        "folder kept: True",
        "serves: True",
        "stop: 0 folder removed: True",
    ], done.stdout + done.stderr


def test_a_forked_child_that_outlives_its_killed_parent_does_not_keep_the_emulator_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pid_alive: Callable[[int], bool]
) -> None:
    # The parent starts an emulator and forks a child that lives on; the child uses the
    # emulator, then the parent is SIGKILLed. The child must not hold the emulator's standard
    # input (nor its folder's lock): the emulator stops, and the next start removes the folder.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    script = """
import os, time
from iot_jobs_emulator import Emulator
emu = Emulator(mqtt=False).start()
child = os.fork()
if child == 0:
    print("child serves:", emu.now() > 0, flush=True)
    time.sleep(120)
    os._exit(0)
print("parent", emu.pid, child, os.path.dirname(emu._log_path), flush=True)
time.sleep(120)
"""
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(tmp_path)}
    )
    pid = child = 0
    try:
        assert parent.stdout is not None
        lines = sorted([parent.stdout.readline().split(), parent.stdout.readline().split()])
        assert lines[0] == ["child", "serves:", "True"], lines
        _, pid_text, child_text, folder = lines[1]
        pid, child = int(pid_text), int(child_text)
        parent.kill()
        parent.wait(30)
        assert wait_until(lambda: not running(pid, pid_alive)), f"the emulator {pid} outlived its parent"
        assert running(child, pid_alive), "the child must still be alive for the test to mean anything"
        with Emulator(mqtt=False) as emu:
            assert emu.now() > 0
            assert not os.path.exists(folder), "the child kept the folder locked"
    finally:
        parent.kill()
        parent.wait()
        for p in (pid, child):
            if p and running(p, pid_alive):
                os.kill(p, signal.SIGKILL)


def test_an_emulator_that_died_can_be_started_again(pid_alive: Callable[[int], bool]) -> None:
    emu = Emulator(mqtt=False).start()
    try:
        first, folder = emu.pid, os.path.dirname(emu._log_path or "")
        assert emu.returncode is None and os.path.isdir(folder)
        os.kill(first, signal.SIGKILL)
        assert wait_until(lambda: not emu.running)
        assert emu.returncode == -signal.SIGKILL
        emu.start()  # reaps the dead one and starts anew
        assert emu.pid != first and emu.running and emu.returncode is None
        assert emu.now() > 0
        assert not os.path.isdir(folder)  # the dead one's folder went with it
    finally:
        code = emu.stop()
    assert code == 0 and emu.returncode == 0 and not pid_alive(first)


def test_a_binary_that_cannot_run_leaves_no_folder_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The log folders are made in the temporary folder: point it at one of the test's own.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    not_executable = tmp_path / "not-executable"
    not_executable.write_text("#!/bin/sh\n")
    for binary, error in [(tmp_path / "missing", FileNotFoundError), (not_executable, PermissionError)]:
        emu = Emulator(binary=str(binary))
        with pytest.raises(error):
            emu.start()
        assert not emu.running and emu.log() == ""
        assert sorted(p.name for p in tmp_path.iterdir()) == ["not-executable"]


def test_the_tests_run_the_installed_package_and_it_is_typed() -> None:
    package = os.path.dirname(iot_jobs_emulator.__file__)
    assert os.path.dirname(package) in {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    assert os.path.isfile(os.path.join(package, "py.typed"))


def test_an_error_s_message_shows_the_log_s_tail_and_keeps_it_all() -> None:
    log = "\n".join(f"line {i}" for i in range(1000))
    e = EmulatorError("it stopped", log)
    assert e.log == log
    shown = str(e).splitlines()
    assert shown[:2] == ["it stopped", "--- iot-jobs-emulator log ---"]
    assert shown[2] == "(600 earlier lines left out; the exception's .log has them)"
    assert shown[3:] == [f"line {i}" for i in range(600, 1000)] and len(shown[3:]) == ERROR_LOG_LINES
    assert str(EmulatorError("short", "a\nb")) == "short\n--- iot-jobs-emulator log ---\na\nb"


@pytest.mark.parametrize("timeout", [0, -1.5, float("nan"), float("inf"), True, "5"])
def test_the_admin_timeout_must_be_a_positive_number(timeout: object) -> None:
    with pytest.raises(ValueError, match="admin_timeout must be a positive number of seconds"):
        Emulator(admin_timeout=timeout)  # type: ignore[arg-type]


def test_an_emulator_that_does_not_answer_is_unreachable_within_the_admin_timeout() -> None:
    with Emulator(mqtt=False, admin_timeout=0.5) as emu:
        emu.reset()
        os.kill(emu.pid, signal.SIGSTOP)
        try:
            _wait_stopped(emu.pid)
            started = time.monotonic()
            with pytest.raises(EmulatorUnreachable, match=r"POST /_emulator/reset: no answer within 0.5 s") as info:
                emu.reset()
            assert time.monotonic() - started < 10
            assert isinstance(info.value, EmulatorError) and "listening on" in info.value.log
        finally:
            os.kill(emu.pid, signal.SIGCONT)
        emu.reset()  # answers again


def test_aws_env_names_the_two_iot_endpoints_and_dummy_credentials() -> None:
    with Emulator(mqtt=False, region="eu-west-1") as emu:
        assert emu.aws_env() == {
            "AWS_ENDPOINT_URL_IOT": emu.endpoint,
            "AWS_ENDPOINT_URL_IOT_JOBS_DATA_PLANE": emu.endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "eu-west-1",
        }


def _wait_stopped(pid: int) -> None:
    """Until every thread of `pid` has stopped: `kill` returns before a busy thread does."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        tasks = os.listdir(f"/proc/{pid}/task")
        states = [Path(f"/proc/{pid}/task/{t}/stat").read_text().rsplit(")", 1)[1].split()[0] for t in tasks]
        if all(state == "T" for state in states):
            return
        time.sleep(0.01)
    raise AssertionError(f"{pid} did not stop")
