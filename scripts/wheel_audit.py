"""Audits a wheel built by scripts/python.sh: its tag, its files, its native code.

Usage: python scripts/wheel_audit.py WHEEL PACKAGE TAG_GLOB [--auditwheel PATH]

- the file name's tag and the WHEEL metadata's single ``Tag:`` both match TAG_GLOB (for example
  ``cp39-abi3-manylinux_*`` or ``py3-none-manylinux_*``);
- every file is one this package is expected to ship (see ``LAYOUTS``): the Python package, its
  dist-info, and exactly the native files listed there; no other ELF file anywhere, so no stray or
  vendored shared library (``*.libs/``, a second extension module, a leftover binary);
- ``auditwheel show`` finds the wheel consistent with the platform tag it carries and needing no
  shared library outside the manylinux policy's system libraries.

Prints one line per wheel (name, size, files, native files) and exits non-zero on any finding.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import subprocess
import sys
import zipfile

# Per import name: globs every shipped file must match (besides its .dist-info), and the native
# files (ELF), each glob matching exactly one file.
LAYOUTS: dict[str, dict[str, list[str]]] = {
    # The emulator: a `bindings = "bin"` wheel (the binary in .data/scripts) and a pure Python
    # package (the Emulator class and the pytest plugin).
    "iot_jobs_emulator": {
        "files": [
            "iot_jobs_emulator/__init__.py",
            "iot_jobs_emulator/__main__.py",
            "iot_jobs_emulator/_folders.py",
            "iot_jobs_emulator/pytest_plugin.py",
            "iot_jobs_emulator/py.typed",
            "iot_jobs_emulator-*.data/scripts/iot-jobs-emulator",
        ],
        "native": ["iot_jobs_emulator-*.data/scripts/iot-jobs-emulator"],
    },
    # The core's bindings: a maturin mixed layout (Python files, stubs, one abi3 extension).
    "iot_jobs_core": {
        "files": [
            "iot_jobs_core/*.py",
            "iot_jobs_core/*.pyi",
            "iot_jobs_core/py.typed",
            "iot_jobs_core/*.abi3.so",
        ],
        "native": ["iot_jobs_core/*.abi3.so"],
    },
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel")
    parser.add_argument("package", choices=sorted(LAYOUTS))
    parser.add_argument("tag")
    parser.add_argument("--auditwheel", default="auditwheel")
    args = parser.parse_args()
    problems = audit(args.wheel, args.package, args.tag, args.auditwheel)
    for p in problems:
        print(f"wheel audit: {os.path.basename(args.wheel)}: {p}", file=sys.stderr)
    return 1 if problems else 0


def audit(wheel: str, package: str, tag_glob: str, auditwheel: str) -> list[str]:
    layout = LAYOUTS[package]
    problems: list[str] = []
    name = os.path.basename(wheel)
    parts = name[: -len(".whl")].split("-") if name.endswith(".whl") else []
    if len(parts) != 5 or parts[0] != package:
        return [f"not a wheel of {package} (name-version-python-abi-platform.whl)"]
    file_tag = "-".join(parts[2:])
    if not fnmatch.fnmatchcase(file_tag, tag_glob):
        problems.append(f"tag {file_tag} does not match {tag_glob}")
    dist_info = f"{parts[0]}-{parts[1]}.dist-info/"

    with zipfile.ZipFile(wheel) as z:
        names = [i.filename for i in z.infolist() if not i.is_dir()]
        wheel_meta = z.read(dist_info + "WHEEL").decode()
        tags = re.findall(r"^Tag: (\S+)$", wheel_meta, re.M)
        if tags != [file_tag]:
            problems.append(f"WHEEL lists tags {tags}, expected exactly [{file_tag}]")
        elf = [n for n in names if z.read(n)[:4] == b"\x7fELF"]

    for n in names:
        if n.startswith(dist_info):
            continue
        if not any(fnmatch.fnmatchcase(n, g) for g in layout["files"]):
            problems.append(f"unexpected file {n}")
    for g in layout["native"]:
        hits = [n for n in names if fnmatch.fnmatchcase(n, g)]
        if len(hits) != 1:
            problems.append(f"expected exactly one native file {g}, found {hits}")
    for n in elf:
        if not any(fnmatch.fnmatchcase(n, g) for g in layout["native"]):
            problems.append(f"stray native file {n}")

    shown = subprocess.run([auditwheel, "show", wheel], capture_output=True, text=True)
    text = " ".join(shown.stdout.split())
    platform = parts[4]
    if shown.returncode != 0:
        problems.append(f"auditwheel show failed: {shown.stderr.strip() or shown.stdout.strip()}")
    elif f'consistent with the following platform tag: "{platform}"' not in text:
        problems.append(f"auditwheel does not find it consistent with {platform}: {text}")
    if "external shared libraries are required" in text:
        problems.append(f"it needs shared libraries outside the manylinux policy: {text}")

    size = os.path.getsize(wheel)
    print(
        f"wheel audit: {name}: {size / 1e6:.2f} MB, {len(names)} files, native: "
        f"{', '.join(sorted(elf)) or 'none'}; " + ("ok" if not problems else f"{len(problems)} problem(s)")
    )
    return problems


if __name__ == "__main__":
    sys.exit(main())
