"""The binary and what its processes need of the system: where the binary is, the address lines
it prints, the log folders and their locks, the fork hook, and the host to listen on."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import socket
import sys
import sysconfig
import tempfile
import weakref
from typing import TYPE_CHECKING

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:  # pragma: no cover - only for type checkers
    from ._emulator import Emulator

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
# The log folders: FOLDER_PREFIX + random, in the temporary folder, each with a lock file its
# owner holds flocked (exclusive) for the emulator's life.
_FOLDER_PREFIX = "iot-jobs-emulator-"
_LOCK_FILE = "owner.lock"
# The emulators this process started and has not stopped (see _after_fork_in_child).
_STARTED: weakref.WeakSet[Emulator] = weakref.WeakSet()


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


def _after_fork_in_child() -> None:
    """Runs in every process forked from this one: it gives up what it inherited of this
    process's emulators (see :meth:`Emulator._drop_inherited`), so that they stop when this
    process dies even if the fork lives on."""
    for emulator in list(_STARTED):
        emulator._drop_inherited()
    _STARTED.clear()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _hold_folder(folder: str) -> int | None:
    """Locks ``folder`` for this process: a lock file flocked before it takes its name, so a
    folder's lock file is held from the moment it exists until its owner closes it or dies."""
    if fcntl is None:  # pragma: no cover - not on POSIX
        return None
    pending = os.path.join(folder, _LOCK_FILE + ".new")
    fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(pending, os.path.join(folder, _LOCK_FILE))
    except BaseException:
        os.close(fd)
        raise
    return fd


def _remove_abandoned_folders() -> None:
    """Removes the log folders of this user whose owner died without removing them (killed):
    their lock file is no longer held. Folders without one (made by an older version, or by
    something else) are left alone."""
    if fcntl is None:  # pragma: no cover - not on POSIX
        return
    try:
        entries = list(os.scandir(tempfile.gettempdir()))
    except OSError:
        return
    for entry in entries:
        try:
            if not entry.name.startswith(_FOLDER_PREFIX) or not entry.is_dir(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
            fd = os.open(os.path.join(entry.path, _LOCK_FILE), os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # held: its emulator's owner is alive
        else:
            shutil.rmtree(entry.path, ignore_errors=True)
        finally:
            os.close(fd)


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
