"""The README's pytest example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_pytest_example_passes():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "the README has a python example"
    env: dict = {}
    exec(compile(blocks[0], str(README), "exec"), env)
    tests = [v for k, v in env.items() if k.startswith("test_")]
    assert tests
    for t in tests:
        t()
