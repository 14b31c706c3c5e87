"""Run the ``iot-jobs-emulator`` binary from Python.

The wheel installs the emulator (a local AWS IoT Jobs endpoint: the ``iot`` control plane, the
``iot-jobs-data`` data plane and an MQTT broker) as the ``iot-jobs-emulator`` command; this
package finds that binary and drives it:

    from iot_jobs_emulator import Emulator

    with Emulator() as emu:                         # free loopback ports, manual clock
        emu.iot.create_thing(thingName="dev1")      # boto3 clients (the ``boto3`` extra)
        emu.advance(60)                             # timeouts, retries, deletions fall due
        emu.reset()                                 # forget everything (the clock stays)

The pytest plugin (``iot_jobs_emulator.pytest_plugin``, loaded automatically) gives tests the
``iot_jobs_emulator`` fixture: one emulator per session, reset before every test.

Only the standard library is needed, except for the ``iot`` and ``jobs_data`` clients (boto3).
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import _folders

if TYPE_CHECKING:  # pragma: no cover - only for type checkers
    from botocore.client import BaseClient

__all__ = ["BINARY_NAME", "BINARY_ENV", "ERROR_LOG_LINES", "Emulator", "EmulatorError", "EmulatorUnreachable", "find_binary"]

#: The command the wheel installs.
BINARY_NAME = "iot-jobs-emulator"
#: An environment variable that, when set, names the binary to run instead of the installed one
#: (for example ``target/debug/iot-jobs-emulator`` while working on the emulator itself).
BINARY_ENV = "IOT_JOBS_EMULATOR_BIN"

# The lines the binary prints once its listeners are bound (src/main.rs); the trailing blank
# makes sure a line is read whole.
_HTTP_LINE = re.compile(r"listening on (http://[0-9A-Za-z.\[\]:]+)\s")
_MQTT_LINE = re.compile(r"on mqtt://([0-9A-Za-z.\[\]:]+):([0-9]+)\s")
_WEBSOCKET_LINE = re.compile(r"on (ws://[0-9A-Za-z.\[\]:]+/mqtt)\s")
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# The largest advanceSeconds the admin API takes (a u64).
_U64_MAX = 2**64 - 1
# The emulators this process started and has not stopped (see _after_fork_in_child).
_STARTED: weakref.WeakSet[Emulator] = weakref.WeakSet()


#: Most lines of the emulator's log an :class:`EmulatorError`'s message shows (the last ones;
#: its ``log`` attribute has them all).
ERROR_LOG_LINES = 400


class EmulatorError(RuntimeError):
    """The emulator could not start, stopped, or refused an admin request.

    ``log`` holds what the process wrote (its address lines and its log) when that helps; the
    message shows its last :data:`ERROR_LOG_LINES` lines.
    """

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message if not log else f"{message}\n--- iot-jobs-emulator log ---\n{_tail(log)}")
        self.log = log


class EmulatorUnreachable(EmulatorError):
    """An admin request got no answer: the emulator did not answer within ``admin_timeout``
    seconds (hung, or stopped by a debugger or ``SIGSTOP``), or refused the connection."""


def _tail(log: str, where: str = "; the exception's .log has them") -> str:
    """The last :data:`ERROR_LOG_LINES` lines of ``log``, after a line that counts those left out
    (``where`` says where they are)."""
    lines = log.splitlines()
    if len(lines) <= ERROR_LOG_LINES:
        return log
    left_out = len(lines) - ERROR_LOG_LINES
    return "\n".join([f"({left_out} earlier lines left out{where})", *lines[-ERROR_LOG_LINES:]])


def find_binary() -> str:
    """The path of the ``iot-jobs-emulator`` executable.

    In order: the file named by ``$IOT_JOBS_EMULATOR_BIN``; the scripts folder of this
    interpreter's environment (where pip installs the wheel's binary); the user scheme's scripts
    folder (``pip install --user``); a ``bin`` folder beside the package (``pip install
    --target``); then the ``PATH``.

    Raises:
        FileNotFoundError: none of them has it.
    """
    override = os.environ.get(BINARY_ENV)
    if override:
        if os.path.isfile(override) and os.access(override, os.X_OK):
            return os.path.abspath(override)
        raise FileNotFoundError(f"${BINARY_ENV} names {override!r}, which is not an executable file")
    exe = BINARY_NAME + (sysconfig.get_config_var("EXE") or "")
    candidates = [os.path.join(sysconfig.get_path("scripts"), exe)]
    user_scheme = _user_scheme()
    if user_scheme is not None:
        try:
            candidates.append(os.path.join(sysconfig.get_path("scripts", scheme=user_scheme), exe))
        except KeyError:  # pragma: no cover - an interpreter without that scheme
            pass
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates.append(os.path.join(package_root, "bin", exe))
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    on_path = shutil.which(exe)
    if on_path:
        return on_path
    raise FileNotFoundError(
        f"{exe} not found (looked in {', '.join(candidates)} and on PATH); "
        f"install the iot-jobs-emulator wheel or set ${BINARY_ENV}"
    )


def _user_scheme() -> str | None:
    if sys.version_info >= (3, 10):
        return sysconfig.get_preferred_scheme("user")
    if os.name == "nt":  # pragma: no cover - platform specific
        return "nt_user"
    if sys.platform == "darwin" and getattr(sys, "_framework", None):  # pragma: no cover
        return "osx_framework_user"
    return "posix_user"


class Emulator:
    """One ``iot-jobs-emulator`` process on free loopback ports.

    Every argument is optional; the defaults suit tests: HTTP and MQTT on ports the system picks
    on ``127.0.0.1``, the manual clock (time moves only by :meth:`advance`), every request logged
    (``debug``). ``host`` is an IP address or a host name, resolved here to its first address
    (``"localhost"``: ``127.0.0.1`` or ``::1``, as the system's resolver orders them); a name that
    does not resolve raises ValueError at :meth:`start`. ``mqtt_websocket`` also serves MQTT over
    WebSocket (:attr:`mqtt_websocket_url`). ``deletion_delay`` (seconds a deleted job stays DELETION_IN_PROGRESS),
    ``region`` and ``account_id`` (in ARNs) are passed only when given (the binary's defaults:
    0, ``us-east-1``, ``123456789012``). ``extra_args`` are more command-line flags
    (``iot-jobs-emulator --help``), for example ``["--max-jobs", "10"]``; they must not repeat a
    flag an argument sets, nor the ones always set (``--addr``, ``--mqtt-addr``, ``--clock``,
    ``--log-level``, ``--stop-on-stdin-eof``): the emulator refuses a flag given twice.
    ``admin_timeout`` bounds each admin request (:meth:`reset`, :meth:`advance`, ...): an
    emulator that does not answer within it raises :class:`EmulatorUnreachable`.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. A started emulator is
    also stopped when the interpreter exits, and when this process dies without exiting
    cleanly (SIGKILL, a SIGTERM Python does not handle, ``os._exit``): its standard input is a
    pipe this process holds, and the binary runs with ``--stop-on-stdin-eof``. A process forked
    from this one (``os.fork``, ``multiprocessing``'s fork start method) closes its copy of that
    pipe as it starts (``os.register_at_fork``), so a child that outlives this process does not
    keep the emulator running; the child may still use the emulator while this process lives.
    """

    def __init__(
        self,
        *,
        binary: str | None = None,
        host: str = "127.0.0.1",
        mqtt: bool = True,
        mqtt_websocket: bool = False,
        clock: str = "manual",
        deletion_delay: int | None = None,
        region: str | None = None,
        account_id: str | None = None,
        log_level: str = "debug",
        extra_args: Sequence[str] = (),
        startup_timeout: float = 20.0,
        env: Mapping[str, str] | None = None,
        admin_timeout: float = 30.0,
    ) -> None:
        if clock not in ("manual", "system"):
            raise ValueError(f"clock must be 'manual' or 'system', not {clock!r}")
        if deletion_delay is not None and (
            isinstance(deletion_delay, bool) or not isinstance(deletion_delay, int) or deletion_delay < 0
        ):
            raise ValueError(f"deletion_delay must be a non-negative int (seconds), not {deletion_delay!r}")
        self.binary = binary
        self.host = host
        self.mqtt = mqtt
        self.mqtt_websocket = mqtt_websocket
        self.clock = clock
        self.deletion_delay = deletion_delay
        self.region = region
        self.account_id = account_id
        self.log_level = log_level
        self.extra_args = tuple(extra_args)
        if (
            isinstance(admin_timeout, bool)
            or not isinstance(admin_timeout, (int, float))
            or not (math.isfinite(admin_timeout) and admin_timeout > 0)
        ):
            raise ValueError(f"admin_timeout must be a positive number of seconds, not {admin_timeout!r}")
        self.startup_timeout = startup_timeout
        self.admin_timeout = float(admin_timeout)
        self.env = dict(env) if env is not None else None
        self._proc: subprocess.Popen[bytes] | None = None
        self._owner: int | None = None  # the id of the process that started it
        self._returncode: int | None = None
        self._lock: int | None = None  # a descriptor of the folder's lock file, flocked
        self._dir: str | None = None
        self._log_path: str | None = None
        self._final_log: bytes | None = None
        self._endpoint: str | None = None
        self._mqtt_address: tuple[str, int] | None = None
        self._websocket_url: str | None = None
        self._clients: dict[str, BaseClient] = {}

    # ---- lifecycle ----------------------------------------------------------------------------

    def command(self) -> list[str]:
        """The command line :meth:`start` runs.

        Raises:
            ValueError: ``host`` is neither an IP address nor a name that resolves.
        """
        binary = self.binary or find_binary()
        address = _join_host_port(_resolve_host(self.host), 0)
        return [
            binary,
            "--addr",
            address,
            "--mqtt-addr",
            address if self.mqtt else "off",
            *(["--mqtt-ws-addr", address] if self.mqtt_websocket else []),
            "--clock",
            self.clock,
            "--log-level",
            self.log_level,
            *(["--deletion-delay", str(self.deletion_delay)] if self.deletion_delay is not None else []),
            *(["--region", self.region] if self.region is not None else []),
            *(["--account-id", self.account_id] if self.account_id is not None else []),
            "--stop-on-stdin-eof",
            *self.extra_args,
        ]

    def start(self) -> Emulator:
        """Starts the process and waits until it serves (it prints its addresses once bound).

        Returns:
            self, so ``emu = Emulator().start()`` works.

        A process this object started earlier that has since ended (killed, crashed) is reaped
        first, as by :meth:`stop` (its log folder removed; :attr:`returncode` has its status),
        and a new one starts: ``start()`` works whenever :attr:`running` is false.

        Raises:
            EmulatorError: it is already running, it exited (a bad flag, say), or it did not
                print its address within ``startup_timeout`` seconds; the error carries its log.
            FileNotFoundError: no binary (see :func:`find_binary`), or ``binary`` names none.
            PermissionError: ``binary`` is not executable.
        """
        if self._proc is not None:
            if self.running:
                raise EmulatorError(f"already running (pid {self._proc.pid})")
            self.stop()  # it ended on its own: reap it and remove its folder
        command = self.command()
        _folders.remove_abandoned()
        self._dir = tempfile.mkdtemp(prefix=_folders.PREFIX)
        self._log_path = os.path.join(self._dir, "emulator.log")
        self._final_log = None
        self._returncode = None
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("NO_COLOR", "1")
        try:
            self._lock = _folders.hold(self._dir)
            with open(self._log_path, "wb") as log:
                # Its standard input is a pipe this process holds open for the emulator's life:
                # when this process ends, however it ends (SIGKILL included), the pipe closes and
                # --stop-on-stdin-eof stops the emulator.
                self._proc = subprocess.Popen(
                    command, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=env
                )
        except BaseException:  # no such binary, not executable...: no folder left behind
            shutil.rmtree(self._dir, ignore_errors=True)
            self._release_folder()
            self._dir = self._log_path = None
            raise
        self._owner = os.getpid()
        _STARTED.add(self)
        atexit.register(self.stop)
        try:
            self._wait_for_address()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_address(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            text = self.log()
            http = _HTTP_LINE.search(text)
            mqtt = _MQTT_LINE.search(text)
            websocket = _WEBSOCKET_LINE.search(text)
            if http and (mqtt or not self.mqtt) and (websocket or not self.mqtt_websocket):
                self._endpoint = http.group(1)
                self._mqtt_address = (mqtt.group(1).strip("[]"), int(mqtt.group(2))) if mqtt else None
                self._websocket_url = websocket.group(1) if websocket else None
                return
            code = self._proc.poll()
            if code is not None:
                raise EmulatorError(f"iot-jobs-emulator exited with status {code} before serving", self.log())
            if time.monotonic() > deadline:
                raise EmulatorError(f"iot-jobs-emulator printed no address within {self.startup_timeout} s", self.log())
            time.sleep(0.005)

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stops the process (closes its standard input and sends SIGTERM to its PID, then
        SIGKILL after ``timeout`` seconds).

        Idempotent. The log stays readable (:meth:`log`) after the stop.

        Only the process that started the emulator stops it. In a process forked from that one
        (``os.fork``, ``multiprocessing``'s fork start method), which inherits this object, the
        interpreter-exit hook and ``stop()`` only forget the emulator there: they do not signal
        it or remove its log folder, which go on serving the process that started it.

        Returns:
            the exit status, or None if it was not running (or not this process's).
        """
        atexit.unregister(self.stop)
        _STARTED.discard(self)
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        if self._proc is not None and not self._owned():
            self._forget()
            return None
        proc, self._proc = self._proc, None
        code: int | None = None
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()  # the end of its standard input stops it too
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            code = self._returncode = proc.returncode
        if self._dir is not None:
            self._final_log = self._read_log(0)
            shutil.rmtree(self._dir, ignore_errors=True)
        self._reset()
        return code

    def _owned(self) -> bool:
        return self._owner == os.getpid()

    def _release_folder(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            os.close(lock)

    def _drop_inherited(self) -> None:
        """In a process just forked from the owner: closes this process's copies of the
        emulator's standard input and of its folder's lock, which would otherwise keep the
        emulator running and its folder locked for as long as this process lives, past its
        owner. The addresses stay: this process may use the emulator while its owner lives."""
        proc = self._proc
        if proc is not None and proc.stdin is not None:
            try:
                proc.stdin.close()
            except OSError:  # pragma: no cover - nothing was ever written, nothing to flush
                pass
        self._release_folder()

    def _forget(self) -> None:
        """Drops, in a forked process, what it inherited of the emulator of its parent."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.stdin is not None:
            proc.stdin.close()  # this process's copy: the parent's keeps the emulator up
        self._final_log = None
        self._reset()  # this process's copy of the lock: the parent's keeps the folder locked

    def _reset(self) -> None:
        """Forgets the log folder (releasing its lock) and the addresses of the last emulator."""
        self._release_folder()
        self._dir = None
        self._log_path = None
        self._endpoint = None
        self._mqtt_address = None
        self._websocket_url = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        if self._proc is None:
            return False
        if not self._owned():  # a forked process cannot wait for its parent's child
            return _pid_alive(self._proc.pid)
        return self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit status of the process once it has ended (negative when a signal killed it:
        ``-9`` for SIGKILL), whether it stopped on its own or by :meth:`stop`; None while it runs
        and before the first start."""
        if self._proc is not None:
            return self._proc.poll() if self._owned() else None
        return self._returncode

    def _describe_exit(self) -> str:
        """The exit status in words, e.g. ``"exit status -9, killed by SIGKILL"``, or
        ``"running"``."""
        code = self.returncode
        if code is None:
            return "running" if self.running else "not started"
        if code < 0:
            try:
                return f"exit status {code}, killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"exit status {code}, killed by signal {-code}"
        return f"exit status {code}"

    @property
    def pid(self) -> int:
        """The process id (raises :class:`EmulatorError` when not started)."""
        return self._require().pid

    # ---- addresses ----------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """The HTTP endpoint of both planes and the admin API, e.g. ``http://127.0.0.1:41237``:
        the ``endpoint_url`` for boto3 and ``--endpoint-url`` for the AWS CLI."""
        self._require()
        if self._endpoint is None:
            raise EmulatorError("the emulator has not printed its address yet")
        return self._endpoint

    @property
    def mqtt_address(self) -> tuple[str, int] | None:
        """The MQTT broker's ``(host, port)`` (plain TCP, MQTT 3.1.1 and 5), or None when
        started with ``mqtt=False``; e.g. ``paho_client.connect(*emu.mqtt_address)``."""
        self._require()
        return self._mqtt_address

    @property
    def mqtt_websocket_url(self) -> str | None:
        """The broker's MQTT over WebSocket URL, ``ws://HOST:PORT/mqtt`` (subprotocol ``mqtt``), or
        None unless started with ``mqtt_websocket=True``; e.g. a paho client made with
        ``transport="websockets"`` connects to its host and port after ``ws_set_options(path="/mqtt")``."""
        self._require()
        return self._websocket_url

    # ---- admin API ----------------------------------------------------------------------------

    def now(self) -> int:
        """The emulator's clock, in epoch seconds (``GET /_emulator/clock``)."""
        return int(self._admin("GET", "/_emulator/clock")["now"])

    def advance(self, seconds: int) -> int:
        """Moves the manual clock forward and applies everything that falls due (timeouts,
        retries, abort criteria, schedules, rollout pacing, the end of DELETION_IN_PROGRESS).

        Returns:
            the new time in epoch seconds.

        Raises:
            ValueError: ``seconds`` is not an int from 0 to 2**64 - 1 (the emulator's range),
                raised before any request.
            EmulatorError: the emulator refused (the system clock; a time past
                2106-01-01T00:00:00Z).
        """
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= _U64_MAX:
            raise ValueError(f"seconds must be an int from 0 to 2**64 - 1 ({_U64_MAX}), not {seconds!r}")
        return int(self._admin("POST", "/_emulator/clock", {"advanceSeconds": seconds})["now"])

    def reset(self, now: int | None = None) -> None:
        """Forgets every thing, thing group, job and execution (``POST /_emulator/reset``), and
        the MQTT broker's offline sessions and retained messages. Connected MQTT clients keep
        their connections and sessions.

        Args:
            now: where the manual clock starts again, in epoch seconds, earlier than it is too
                (``int(time.time())``: where a new emulator would start); by default the clock
                stays where it is.

        Raises:
            ValueError: ``now`` is not an int from 0 to 2**64 - 1, raised before any request.
            EmulatorError: the emulator refused ``now`` (the system clock; a time past
                2106-01-01T00:00:00Z); nothing was forgotten.
        """
        if now is None:
            self._admin("POST", "/_emulator/reset")
            return
        if isinstance(now, bool) or not isinstance(now, int) or not 0 <= now < 2**64:
            raise ValueError(f"now must be an int from 0 to 2**64 - 1, not {now!r}")
        self._admin("POST", "/_emulator/reset", {"now": now})

    def stats(self) -> dict[str, Any]:
        """Table usage and caps, jobs being deleted and notification counts (``GET
        /_emulator/stats``)."""
        return self._admin("GET", "/_emulator/stats")

    def inject_fault(
        self,
        error: str | None = None,
        count: int = 1,
        operations: Sequence[str] | None = None,
        plane: str | None = None,
        *,
        drop: str | None = None,
        delay_ms: int | None = None,
        thing: str | None = None,
    ) -> list[dict[str, Any]]:
        """Makes the next ``count`` requests of ``operations`` (every client operation, HTTP
        and MQTT, if ``None``) fail as a real service's do, so that the retry and idempotency
        paths of the code under test run (``POST /_emulator/faults``): refused with ``error``
        (not run: nothing changes), lost (``drop``), or answered late (``delay_ms``). Faults
        given earlier apply first; :meth:`reset` and :meth:`clear_faults` forget them.

        Args:
            error: ``"ThrottlingException"`` (429; MQTT ``RequestThrottled``; the default when
                neither ``drop`` nor ``delay_ms`` is given), ``"ServiceUnavailableException"``
                (503), ``"InternalFailureException"`` (500; both MQTT ``InternalError``) or
                ``"LimitExceededException"`` (410; MQTT ``RequestThrottled``).
            count: how many requests, 1 to 1,000,000.
            operations: AWS operation names, such as ``["UpdateJobExecution"]`` (an MQTT request
                counts as its data-plane operation).
            plane: ``"control"`` (``iot``) or ``"data"`` (``iot-jobs-data``, over HTTP and MQTT):
                the plane whose requests it takes; both if ``None`` (``DescribeJobExecution``
                names an operation of each).
            drop: ``"request"``: the request is lost on its way (not run, nothing changes, no
                answer); ``"reply"``: it runs and its change is kept, but its answer is lost.
                Over HTTP the connection is closed without a response (boto3 raises
                ``ConnectionClosedError``, and retries it); over MQTT no reply is published.
            delay_ms: the request runs at once and its answer goes out this many milliseconds
                later (1 to 60,000).
            thing: only the requests about this thing (the thing their path or topic names);
                any thing's, and those naming none, if ``None``.

        Returns:
            the faults waiting, this one last, as given.

        Raises:
            ValueError: more than one of ``error``, ``drop`` and ``delay_ms`` is given, raised
                before any request.
            TypeError: ``operations`` is a ``str`` (one name goes in a list), raised before any
                request.
            EmulatorError: the emulator refused the fault (an unknown error, loss or operation,
                a count or delay out of range, a thing name that is not one), naming what is
                allowed.
        """
        if isinstance(operations, str):
            raise TypeError(f"operations must be a sequence of operation names, not a str: [{operations!r}]")
        kinds = [
            (name, key, value)
            for name, key, value in (("error", "error", error), ("drop", "drop", drop), ("delay_ms", "delayMs", delay_ms))
            if value is not None
        ]
        if len(kinds) > 1:
            raise ValueError(f"a fault has one of error, drop and delay_ms, not {' and '.join(n for n, _, _ in kinds)}")
        _, key, value = kinds[0] if kinds else ("error", "error", "ThrottlingException")
        fault: dict[str, Any] = {key: value, "count": count}
        if operations is not None:
            fault["operations"] = list(operations)
        if plane is not None:
            fault["plane"] = plane
        if thing is not None:
            fault["thing"] = thing
        return list(self._admin("POST", "/_emulator/faults", fault)["faults"])

    def clear_faults(self) -> None:
        """Forgets every injected fault (``DELETE /_emulator/faults``)."""
        self._admin("DELETE", "/_emulator/faults")

    def save_state(self) -> bytes:
        """The whole state as a snapshot (``GET /_emulator/state``): things, groups, jobs,
        executions, tags, the event configuration and the manual clock's time, in the format of
        the state file. Give it to :meth:`load_state` (of this emulator or another, later) to
        start a test from a world seeded once, or attach it to a bug report. The MQTT broker's
        sessions and retained messages are not in it."""
        return self._request("GET", "/_emulator/state")

    def load_state(self, snapshot: bytes) -> None:
        """Replaces the whole state with ``snapshot``, one :meth:`save_state` gave (``POST
        /_emulator/state``), the manual clock's time included. A snapshot the emulator refuses
        (not one, damaged, or over this emulator's caps) raises :class:`EmulatorError` with the
        reason and changes nothing. A snapshot larger than 512 MiB needs a larger
        ``--max-state-bytes`` (``extra_args=["--max-state-bytes", "1000000000"]``).

        Raises:
            TypeError: ``snapshot`` is not bytes.
            EmulatorError: the emulator refused the snapshot.
        """
        if not isinstance(snapshot, (bytes, bytearray, memoryview)):
            raise TypeError(f"snapshot must be bytes (from save_state()), not {type(snapshot).__name__}")
        self._request("POST", "/_emulator/state", bytes(snapshot), "application/octet-stream")

    def _admin(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        raw = self._request(method, path, data)
        return json.loads(raw) if raw.strip() else {}

    def _request(
        self, method: str, path: str, data: bytes | None = None, content_type: str = "application/json"
    ) -> bytes:
        request = urllib.request.Request(self.endpoint + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with _NO_PROXY.open(request, timeout=self.admin_timeout) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")
            raise EmulatorError(f"{method} {path}: HTTP {e.code}: {detail}") from None
        except OSError as e:
            reason = getattr(e, "reason", e)
            raise EmulatorUnreachable(
                f"{method} {path}: no answer within {self.admin_timeout:g} s ({reason})", self.log()
            ) from None

    # ---- boto3 --------------------------------------------------------------------------------

    def aws_env(self) -> dict[str, str]:
        """The environment that points the AWS SDKs and the AWS CLI at this emulator for the
        IoT services only: ``AWS_ENDPOINT_URL_IOT`` and ``AWS_ENDPOINT_URL_IOT_JOBS_DATA_PLANE``
        (the names botocore reads; ``..._IOT_JOBS_DATA`` is silently ignored), dummy
        credentials and the region. Other services (S3, DynamoDB, ...) keep their endpoints,
        which the global ``AWS_ENDPOINT_URL`` would send here too. The pytest fixture
        ``iot_jobs_emulator_env`` sets it for one test."""
        return {
            "AWS_ENDPOINT_URL_IOT": self.endpoint,
            "AWS_ENDPOINT_URL_IOT_JOBS_DATA_PLANE": self.endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": self.region or _region(self.extra_args),
        }

    def client(self, service_name: str, **kwargs: Any) -> BaseClient:
        """A new boto3 client for this emulator: its endpoint, its region, dummy credentials
        (signatures are not checked) and no retries (an error shows at once). ``kwargs`` go to
        ``boto3.session.Session.client`` and win over these.

        Raises:
            ImportError: boto3 is not installed (``pip install "iot-jobs-emulator[boto3]"``).
        """
        try:
            import boto3
            from botocore.config import Config
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError('the boto3 clients need boto3: pip install "iot-jobs-emulator[boto3]"') from e
        session = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name=self.region or _region(self.extra_args)
        )
        options: dict[str, Any] = {
            "endpoint_url": self.endpoint,
            "config": Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        }
        options.update(kwargs)
        return session.client(service_name, **options)

    @property
    def iot(self) -> BaseClient:
        """A boto3 ``iot`` (control plane) client, made once per start."""
        return self._cached_client("iot")

    @property
    def jobs_data(self) -> BaseClient:
        """A boto3 ``iot-jobs-data`` (device data plane) client, made once per start."""
        return self._cached_client("iot-jobs-data")

    def _cached_client(self, service_name: str) -> BaseClient:
        self._require()
        client = self._clients.get(service_name)
        if client is None:
            client = self._clients[service_name] = self.client(service_name)
        return client

    # ---- log ----------------------------------------------------------------------------------

    def log_size(self) -> int:
        """How many bytes the process has written so far (an offset for :meth:`log`)."""
        if self._log_path is not None:
            try:
                return os.path.getsize(self._log_path)
            except OSError:
                return 0
        return len(self._final_log or b"")

    def log(self, since: int = 0) -> str:
        """What the process wrote (its address lines, then its log), from byte offset
        ``since``; still readable after :meth:`stop`."""
        return self._read_log(since).decode("utf-8", "replace")

    def _read_log(self, since: int) -> bytes:
        if self._log_path is not None:
            try:
                with open(self._log_path, "rb") as f:
                    f.seek(since)
                    return f.read()
            except OSError:
                return b""
        return (self._final_log or b"")[since:]

    def _require(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            raise EmulatorError("the emulator is not running (call start())")
        return self._proc

    def __repr__(self) -> str:
        if self._proc is None:
            return "<Emulator stopped>"
        return f"<Emulator pid={self._proc.pid} endpoint={self._endpoint} mqtt={self._mqtt_address}>"


def _after_fork_in_child() -> None:
    """Runs in every process forked from this one: it gives up what it inherited of this
    process's emulators (see :meth:`Emulator._drop_inherited`), so that they stop when this
    process dies even if the fork lives on."""
    for emulator in list(_STARTED):
        emulator._drop_inherited()
    _STARTED.clear()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process reusing the id
        return False
    return True


def _resolve_host(host: str) -> str:
    """``host`` as an IP address (the binary takes no names): itself if it is one (brackets
    around an IPv6 address dropped), else the first address the system's resolver gives."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(bare, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise ValueError(f"host must be an IP address or a host name that resolves, not {host!r} ({e})") from None
    if not infos:  # pragma: no cover - getaddrinfo raises rather than answer nothing
        raise ValueError(f"host {host!r} resolves to no address")
    return str(infos[0][4][0])


def _join_host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _region(args: Sequence[str]) -> str:
    """The region a command line sets (``--region R`` or ``--region=R``), else the binary's default."""
    for i, arg in enumerate(args):
        if arg == "--region" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--region="):
            return arg[len("--region=") :]
    return "us-east-1"
