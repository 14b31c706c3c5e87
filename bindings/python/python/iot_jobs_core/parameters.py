"""Job-document parameters of the AWS managed job templates (SPEC AMBIG-31), substituted by the
core: a managed template's document holds placeholders ``${aws:iot:parameter:NAME}``, and
CreateJob's ``documentParameters`` give their values.

The replacement is textual: a value is inserted as given (checking it against the template's
parameter patterns is the caller's). Text that merely resembles a placeholder of another kind
(``${aws:iot:s3-presigned-url:...}``) is copied unchanged.
"""

from __future__ import annotations

from typing import List, Mapping, Optional

from . import _native

PREFIX: str = _native.PARAMETER_PREFIX
"""What opens a placeholder; a ``}`` closes it."""


class SubstitutionError(ValueError):
    """A document that cannot be substituted: ``reason`` is ``"missing"`` (the parameter
    ``name`` has no value) or ``"unterminated"`` (the placeholder at byte ``position`` of the
    UTF-8 document has no closing ``}``)."""

    def __init__(self, message: str, reason: str, name: Optional[str], position: Optional[int]) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.name = name
        self.position = position


def placeholders(document: str) -> List[str]:
    """The names of ``document``'s placeholders, in order, as often as they occur; raises
    :class:`SubstitutionError` for a placeholder without its ``}``."""
    return list(_native.document_placeholders(document))


def substitute(document: str, values: Mapping[str, str]) -> str:
    """``document`` with each placeholder replaced by its value in ``values``; raises
    :class:`SubstitutionError` for the first placeholder (in document order) with no value or
    no ``}``. Values not used are ignored."""
    return _native.substitute_parameters(document, dict(values))  # type: ignore[no-any-return]


__all__ = ["PREFIX", "SubstitutionError", "placeholders", "substitute"]
