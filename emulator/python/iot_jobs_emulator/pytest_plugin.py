"""pytest plugin: the ``iot_jobs_emulator`` fixture (loaded through the ``pytest11`` entry point
once the wheel is installed; pytest 7 or later).

- ``iot_jobs_emulator_session`` (session scope): one ``iot-jobs-emulator`` process for the whole
  session, on free loopback ports (HTTP and MQTT), with the manual clock and every request
  logged; stopped by its PID (SIGTERM, then SIGKILL) when the session ends, and at interpreter
  exit if the session did not get that far.
- ``iot_jobs_emulator_env`` (per test): ``iot_jobs_emulator``, with the environment of
  :meth:`~iot_jobs_emulator.Emulator.aws_env` set for the test (``AWS_ENDPOINT_URL_IOT``,
  ``AWS_ENDPOINT_URL_IOT_JOBS_DATA_PLANE``, dummy credentials, the region), so that code under test
  that makes its own boto3 clients reaches the emulator, and never AWS.
- ``iot_jobs_emulator`` (per test): the same :class:`~iot_jobs_emulator.Emulator`, reset first
  (``POST /_emulator/reset``: no things, groups, jobs or executions; the manual clock back at
  the system time, where a new emulator starts, so that no test sees the time an earlier one
  advanced to). It has ``endpoint``,
  ``mqtt_address``, the boto3 clients ``iot`` and ``jobs_data``, ``advance(seconds)``, ``now()``,
  ``reset()`` and ``stats()``.

When a test that uses it fails, its report gets a section ``iot-jobs-emulator log (call)`` (or
``setup``/``teardown``) with what the emulator logged during that test: one line per request with
the operation and the status, and the events it published.

With pytest-xdist each worker process has its own session, so its own emulator (on its own
free ports): a flag that names a fixed resource (``--state-file``, a fixed ``--mqtts-addr``)
clashes between workers; give ``:0`` ports.

When the session's emulator has stopped or stops answering, the test that finds it errors with
the emulator's log (its last 400 lines) and every later test at once with a one-line error
naming that test: no restart, no wait.

Configuration (``pytest.ini``, ``pyproject.toml`` ``[tool.pytest.ini_options]``...):
``iot_jobs_emulator_timeout`` (seconds, default 30) bounds each admin request (the reset);
``iot_jobs_emulator_args`` adds flags to the command line, e.g. ``--deletion-delay 60
--max-jobs 100``; ``$IOT_JOBS_EMULATOR_BIN`` runs another binary than the installed one. The
fixture sets ``--clock manual`` and ``--log-level debug`` itself: a ``--clock`` or
``--log-level`` in the option (``--clock system`` or ``--clock=system``) replaces its default.
``--addr``, ``--mqtt-addr`` and ``--stop-on-stdin-eof`` are the fixture's own (free loopback
ports, read back from the process; the process stops with pytest): the option cannot set them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from iot_jobs_emulator import Emulator, EmulatorError, EmulatorUnreachable
from iot_jobs_emulator._errors import _tail

__all__ = ["iot_jobs_emulator", "iot_jobs_emulator_env", "iot_jobs_emulator_session"]

#: Flags of ``iot_jobs_emulator_args`` that replace the fixture's defaults: the Emulator
#: argument each sets.
REPLACEABLE_FLAGS = {"--clock": "clock", "--log-level": "log_level"}
#: Flags the fixture sets and ``iot_jobs_emulator_args`` cannot.
FIXTURE_FLAGS = ("--addr", "--mqtt-addr", "--stop-on-stdin-eof")

_EMULATOR = pytest.StashKey[Emulator]()
_LOG_START = pytest.StashKey[int]()
#: Why the session's emulator cannot be used any more, and the test that found it.
_BROKEN = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "iot_jobs_emulator_args",
        type="args",
        default=[],
        help="more iot-jobs-emulator flags for the iot_jobs_emulator fixture, e.g. --deletion-delay 60",
    )
    parser.addini(
        "iot_jobs_emulator_timeout",
        type="string",
        default="30",
        help="seconds the iot_jobs_emulator fixture waits for the emulator's answer to an admin request (the reset)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Checks the ini options once, at the start: a mistake there is one usage error, not one
    error per test."""
    session_options(config)


def session_options(config: pytest.Config) -> dict[str, Any]:
    """The :class:`Emulator` arguments the ini options give.

    Raises:
        pytest.UsageError: an option the fixture cannot take (see :func:`emulator_options`), or
            a timeout that is not a positive number.
    """
    raw = config.getini("iot_jobs_emulator_timeout")
    try:
        timeout = float(raw)
    except ValueError:
        timeout = math.nan
    if not (math.isfinite(timeout) and timeout > 0):
        raise pytest.UsageError(f"iot_jobs_emulator_timeout must be a positive number of seconds, not {raw!r}")
    options = emulator_options(config.getini("iot_jobs_emulator_args"))
    options["admin_timeout"] = timeout
    try:
        Emulator(**options)
    except ValueError as e:
        raise pytest.UsageError(f"iot_jobs_emulator_args: {e}") from None
    return options


@pytest.fixture(scope="session")
def iot_jobs_emulator_session(pytestconfig: pytest.Config) -> Iterator[Emulator]:
    """One emulator for the session (not reset between tests: use ``iot_jobs_emulator``)."""
    emulator = Emulator(**session_options(pytestconfig))
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


def emulator_options(args: Sequence[str]) -> dict[str, Any]:
    """The :class:`Emulator` arguments of the ini option's flags: ``--clock`` and ``--log-level``
    (``--flag value`` or ``--flag=value``) become ``clock`` and ``log_level``, which replace the
    fixture's defaults; the other flags are ``extra_args``.

    Raises:
        pytest.UsageError: a flag the fixture sets itself, one of those two without its value
            or given twice.
    """
    options: dict[str, Any] = {}
    extra: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        name, equals, value = arg.partition("=")
        if name in FIXTURE_FLAGS:
            raise pytest.UsageError(
                f"iot_jobs_emulator_args: {name} is set by the iot_jobs_emulator fixture and cannot be given "
                f"(it sets {', '.join(FIXTURE_FLAGS)}; use the Emulator class for other addresses)"
            )
        if name in REPLACEABLE_FLAGS:
            if not equals:
                if i + 1 >= len(args):
                    raise pytest.UsageError(f"iot_jobs_emulator_args: {name} needs a value")
                i += 1
                value = args[i]
            key = REPLACEABLE_FLAGS[name]
            if key in options:
                raise pytest.UsageError(f"iot_jobs_emulator_args: {name} is given twice")
            options[key] = value
        else:
            extra.append(arg)
        i += 1
    options["extra_args"] = extra
    return options


@pytest.fixture
def iot_jobs_emulator(iot_jobs_emulator_session: Emulator, request: pytest.FixtureRequest) -> Emulator:
    """The session's emulator, reset for this test (empty tables; a manual clock at the system
    time)."""
    emulator = iot_jobs_emulator_session
    stash = request.config.stash
    broken = stash.get(_BROKEN, None)
    if broken is not None:
        # Reported in full once: each later test says so in a line, at once.
        raise EmulatorError(broken)
    request.node.stash[_EMULATOR] = emulator
    request.node.stash[_LOG_START] = emulator.log_size()
    found = f"found by {request.node.nodeid}, whose error has the emulator's log"
    if not emulator.running:
        # Not restarted: the state the earlier tests built is gone, and a restart would hide
        # what killed it (the status and the log say).
        stash[_BROKEN] = f"the session's iot-jobs-emulator stopped ({emulator._describe_exit()}; {found})"
        raise EmulatorError(
            f"the iot-jobs-emulator process has stopped ({emulator._describe_exit()}); the session's "
            "emulator is not restarted, so every later test that uses it errors too",
            emulator.log(),
        )
    try:
        emulator.reset(now=int(time.time()) if emulator.clock == "manual" else None)
    except EmulatorUnreachable as e:
        stash[_BROKEN] = f"the session's iot-jobs-emulator does not answer ({found})"
        raise EmulatorUnreachable(
            f"{str(e).splitlines()[0]}; every later test that uses it errors at once", e.log
        ) from None
    return emulator


@pytest.fixture
def iot_jobs_emulator_env(iot_jobs_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """``iot_jobs_emulator``, with :meth:`~iot_jobs_emulator.Emulator.aws_env` set in the
    environment for this test: boto3 clients the code under test makes reach the emulator for
    ``iot`` and ``iot-jobs-data`` (and only those), with dummy credentials."""
    for name, value in iot_jobs_emulator.aws_env().items():
        monkeypatch.setenv(name, value)
    return iot_jobs_emulator


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Adds the emulator's log of this test to the report of a failed phase."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    emulator = item.stash.get(_EMULATOR, None)
    if emulator is None or not report.failed:
        return
    text = emulator.log(since=item.stash.get(_LOG_START, 0))
    # The last ERROR_LOG_LINES lines, as in an EmulatorError's message.
    report.sections.append((f"iot-jobs-emulator log ({report.when})", _tail(text, "") or "(nothing logged)"))
