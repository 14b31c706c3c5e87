"""The type stubs name exactly what the extension exposes, with the same parameters."""

from __future__ import annotations

import ast
import inspect
import typing
from pathlib import Path

import pytest

import iot_jobs_core
from iot_jobs_core import _native
from iot_jobs_core.errors import JobsError

STUB = Path(iot_jobs_core.__file__).with_name("_native.pyi")


def stub_tree() -> ast.Module:
    return ast.parse(STUB.read_text(encoding="utf-8"))


def params(fn: ast.FunctionDef) -> list:
    a = fn.args
    return [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs if x.arg != "self"]


def runtime_params(obj) -> list:
    return [p for p in inspect.signature(obj).parameters if p != "self"]


def check_constructor(init: ast.FunctionDef) -> None:
    """The stub's keywords are the constructor's: compared through the signature where CPython
    exposes a class's one (3.10+ for abi3 extensions), and in any case by calling the
    constructor with each keyword at its stubbed default."""
    try:
        assert params(init) == runtime_params(_native.Registry)
    except ValueError:  # no signature for an extension class on this interpreter
        pass
    for arg, default in zip(init.args.kwonlyargs, init.args.kw_defaults):
        assert default is not None
        _native.Registry(**{arg.arg: ast.literal_eval(default)})


def test_stub_names_match_the_extension():
    tree = stub_tree()
    stubbed = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    stubbed |= {t.id for n in tree.body if isinstance(n, ast.AnnAssign) for t in [n.target]}
    exposed = {n for n in dir(_native) if not n.startswith("_")}
    assert exposed == stubbed - {"_Id"}


def test_stub_signatures_match_functions_and_registry_methods():
    tree = stub_tree()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            assert params(node) == runtime_params(getattr(_native, node.name)), node.name
        if isinstance(node, ast.ClassDef) and node.name == "Registry":
            methods = [m for m in node.body if isinstance(m, ast.FunctionDef)]
            for m in methods:
                attr = getattr(_native.Registry, m.name)
                if isinstance(attr, property) or m.name in ("policy", "clock"):
                    continue
                if m.name == "__init__":
                    check_constructor(m)
                    continue
                assert params(m) == runtime_params(attr), m.name
            public = {n for n in dir(_native.Registry) if not n.startswith("_")}
            assert public == {m.name for m in methods if not m.name.startswith("_")}


def test_the_error_methods_are_typed_to_take_a_plane_s_wire_string_as_they_do_at_run_time():
    # The README: a wire string is accepted wherever a member is; the annotations must say so, or
    # a type checker refuses `e.http_status("data")` that works.
    for method in (JobsError.http_status, JobsError.exception_name_on):
        hint = typing.get_type_hints(method)["plane"]
        accepted = set(typing.get_args(hint))
        for arg in typing.get_args(hint):
            accepted |= set(typing.get_args(arg))
        assert {iot_jobs_core.Plane, str} <= accepted, (method.__name__, hint)
    registry = _native.Registry()
    registry.add_thing("t")
    registry.create_job("j", ["t"], 0)
    with pytest.raises(JobsError) as info:
        registry.update_execution("j", "t", "IN_PROGRESS", 0, expected_version=7)
    error = info.value
    assert (error.http_status("data"), error.exception_name_on("data")) == (409, "InvalidStateTransitionException")
    assert (error.http_status("control"), error.exception_name_on("control")) == (409, "VersionConflictException")
