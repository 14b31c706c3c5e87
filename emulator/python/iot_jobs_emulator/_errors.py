"""The errors of an emulator that could not start, stopped, or refused an admin request."""

from __future__ import annotations

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
