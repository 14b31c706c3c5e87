"""``python -m iot_jobs_emulator [FLAGS]``: runs the installed ``iot-jobs-emulator`` binary with
the same flags (``--help`` lists them)."""

from __future__ import annotations

import os
import subprocess
import sys

from iot_jobs_emulator import find_binary


def main() -> int:
    """Runs the binary with this process's arguments; on POSIX it replaces this process, so
    signals (Ctrl-C, SIGTERM) reach the emulator directly."""
    binary = find_binary()
    args = [binary, *sys.argv[1:]]
    if os.name == "posix":
        os.execv(binary, args)
    return subprocess.call(args)  # pragma: no cover - Windows


if __name__ == "__main__":
    sys.exit(main())
