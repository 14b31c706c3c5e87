"""Shared helpers of the package's tests."""

from __future__ import annotations

import os
from typing import Callable

import pytest


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def pid_alive() -> Callable[[int], bool]:
    """Whether a process id names a live (or not yet reaped) process."""
    return _alive
