"""The device messages of the jobs API (SPEC §4.3, §4.4, §7.1, §7.2), read and written by the core.

:func:`parse` reads a payload the way the service does (unknown members skipped, duplicates,
missing members, wrong types, unknown statuses and every field constraint refused) and returns
what it read as a ``dict`` with the wire member names. :func:`serialize` checks a ``dict`` the
same way and returns the core's canonical JSON bytes. ``flavor`` is ``"mqtt"`` (default) or
``"http"`` (the ``iot-jobs-data`` form: no ``clientToken``/``timestamp``, ``jobDocument`` as a
JSON string); :func:`convert` rewrites a payload from one form into the other.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List

from . import _native

KINDS: List[str] = list(_native.message_kinds())
"""``get_pending_request``, ``start_next_request``, ``describe_request``, ``update_request``,
``get_pending_response``, ``execution_response``, ``update_response``, ``error_response``,
``job_executions_changed``, ``next_job_execution_changed``."""


class MessageError(ValueError):
    """A payload the service refuses; ``mqtt_code`` is the ErrorResponse code that answers it
    (``InvalidJson`` for input that is not JSON, ``InvalidRequest`` for invalid contents)."""

    def __init__(self, message: str, mqtt_code: str) -> None:
        super().__init__(message)
        self.message = message
        self.mqtt_code = mqtt_code


def parse(kind: str, payload: bytes, flavor: str = "mqtt") -> Dict[str, Any]:
    """Reads ``payload`` as the message ``kind``; raises :class:`MessageError`."""
    return json.loads(_native.canonical_message(kind, bytes(payload), flavor, flavor))  # type: ignore[no-any-return]


def serialize(kind: str, message: Dict[str, Any], flavor: str = "mqtt") -> bytes:
    """Writes ``message`` (wire member names) as the message ``kind``, checked by the core;
    raises :class:`MessageError` for anything the service would refuse."""
    text = json.dumps(message, ensure_ascii=False, allow_nan=False).encode("utf-8")
    return _native.canonical_message(kind, text, flavor, flavor)  # type: ignore[no-any-return]


def convert(kind: str, payload: bytes, source: str, target: str) -> bytes:
    """Rewrites ``payload`` from the ``source`` flavor into the ``target`` one."""
    return _native.canonical_message(kind, bytes(payload), source, target)  # type: ignore[no-any-return]


__all__ = ["KINDS", "MessageError", "parse", "serialize", "convert"]
