"""The :class:`Emulator` class: one ``iot-jobs-emulator`` process, its lifecycle, its addresses and
its log (the admin API and the boto3 clients are its base class's, in ``_admin.py``)."""

from __future__ import annotations

import atexit
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ._admin import _Admin
from ._errors import EmulatorError
from ._process import (
    _FOLDER_PREFIX,
    _HTTP_LINE,
    _MQTT_LINE,
    _STARTED,
    _WEBSOCKET_LINE,
    _hold_folder,
    _join_host_port,
    _pid_alive,
    _remove_abandoned_folders,
    _resolve_host,
    find_binary,
)

if TYPE_CHECKING:  # pragma: no cover - only for type checkers
    from botocore.client import BaseClient


class Emulator(_Admin):
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
        _remove_abandoned_folders()
        self._dir = tempfile.mkdtemp(prefix=_FOLDER_PREFIX)
        self._log_path = os.path.join(self._dir, "emulator.log")
        self._final_log = None
        self._returncode = None
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("NO_COLOR", "1")
        try:
            self._lock = _hold_folder(self._dir)
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
