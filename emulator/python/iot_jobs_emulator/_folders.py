"""The emulators' log folders: ``PREFIX`` + random, in the temporary folder, each with a lock
file its owner holds flocked (exclusive) for the emulator's life, so that the folders of an owner
that died (killed) can be told from those in use and removed."""

from __future__ import annotations

import os
import shutil
import tempfile

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

#: The start of a log folder's name.
PREFIX = "iot-jobs-emulator-"
#: The lock file in each.
LOCK_FILE = "owner.lock"


def hold(folder: str) -> int | None:
    """Locks ``folder`` for this process: a lock file flocked before it takes its name, so a
    folder's lock file is held from the moment it exists until its owner closes it or dies."""
    if fcntl is None:  # pragma: no cover - not on POSIX
        return None
    pending = os.path.join(folder, LOCK_FILE + ".new")
    fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(pending, os.path.join(folder, LOCK_FILE))
    except BaseException:
        os.close(fd)
        raise
    return fd


def remove_abandoned() -> None:
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
            if not entry.name.startswith(PREFIX) or not entry.is_dir(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
            fd = os.open(os.path.join(entry.path, LOCK_FILE), os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
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
