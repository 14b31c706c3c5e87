"""The AWS IoT Jobs MQTT topics (SPEC §7): parse any jobs topic, build one from its parts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from . import _native

KINDS = (
    "get_pending",
    "start_next",
    "describe",
    "update",
    "notify",
    "notify_next",
    "documented_notify",
    "job_event",
    "execution_event",
)
"""The topic kinds, as :attr:`Topic.kind` names them."""


@dataclass(frozen=True)
class Topic:
    """One jobs topic, by its parts, validated when it is made: an invalid id raises
    ``InvalidFieldError``, a missing, unknown or unused part ``ValueError``, so no ``Topic``
    holds parts that build no topic. ``str(topic)`` builds it; :meth:`Topic.parse` is the
    inverse.

    ``job`` may be ``"$next"`` for ``describe``; ``reply`` is ``None`` (the request topic),
    ``"accepted"`` or ``"rejected"``; ``event`` names the job or execution event.
    """

    kind: str
    thing: Optional[str] = None
    job: Optional[str] = None
    namespace: Optional[str] = None
    reply: Optional[str] = None
    event: Optional[str] = None

    def __post_init__(self) -> None:
        self.build()

    @classmethod
    def parse(cls, topic: str) -> "Topic":
        """Parses ``topic``; raises ``ValueError`` (saying where) for anything that is not a
        jobs topic this crate serves."""
        return cls(*_native.parse_topic(topic))

    def build(self) -> str:
        """The topic string; raises ``InvalidFieldError`` for an invalid id, ``ValueError`` for
        a missing or unknown part."""
        return _native.build_topic(self.kind, self.thing, self.job, self.namespace, self.reply, self.event)

    def __str__(self) -> str:
        return self.build()


__all__ = ["Topic", "KINDS"]
