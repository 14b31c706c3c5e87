"""`iot_jobs_core.parameters`: a managed template's document parameters, substituted by the
core (SPEC AMBIG-31)."""

from __future__ import annotations

import pytest

from iot_jobs_core import parameters as p

DOC = '{"a":"${aws:iot:parameter:x}","b":["${aws:iot:parameter:y}","${aws:iot:parameter:x}"],' \
      '"c":"${aws:iot:s3-presigned-url:u}"}'


def test_every_placeholder_is_replaced_and_other_text_kept():
    got = p.substitute(DOC, {"x": "1", "y": "é/2", "unused": "z"})
    assert got == '{"a":"1","b":["é/2","1"],"c":"${aws:iot:s3-presigned-url:u}"}'
    assert p.placeholders(DOC) == ["x", "y", "x"]
    assert p.substitute("no placeholders", {}) == "no placeholders"
    assert p.substitute("", {}) == ""
    # A value is inserted as given, even one that looks like a placeholder (no second pass).
    assert p.substitute("${aws:iot:parameter:a}", {"a": "${aws:iot:parameter:a}"}) == "${aws:iot:parameter:a}"
    # Longer values than their placeholders, many times over.
    assert p.substitute("${aws:iot:parameter:v}" * 50, {"v": "x" * 1000}) == "x" * 50_000
    assert p.PREFIX == "${aws:iot:parameter:"


def test_missing_and_unterminated_placeholders():
    with pytest.raises(p.SubstitutionError) as e:
        p.substitute(DOC, {"x": "1"})
    assert (e.value.reason, e.value.name, e.value.position) == ("missing", "y", None)
    assert isinstance(e.value, ValueError) and "y" in str(e.value)
    with pytest.raises(p.SubstitutionError) as e:
        p.substitute('["é ${aws:iot:parameter:x"]', {"x": "1"})
    assert (e.value.reason, e.value.name, e.value.position) == ("unterminated", None, 5)
    with pytest.raises(p.SubstitutionError) as e:
        p.placeholders("${aws:iot:parameter:x} ${aws:iot:parameter:")
    assert (e.value.reason, e.value.position) == ("unterminated", 23)


def test_bad_arguments_raise_type_errors():
    with pytest.raises(TypeError):
        p.substitute(b"doc", {})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        p.substitute("${aws:iot:parameter:x}", {"x": 1})  # type: ignore[dict-item]
    with pytest.raises(UnicodeEncodeError):
        p.substitute("\ud800", {})
