"""``dlgrade gradescope-bundle``: an ``autograder.zip`` that Gradescope can build an image from.

Gradescope's autograder specification: the zip holds ``setup.sh`` and ``run_autograder`` at its
root; it is unpacked into ``/autograder/source`` of an Ubuntu image, ``setup.sh`` runs once as
root while the image is built, and ``run_autograder`` runs per submission (working directory
``/autograder``) with the student's files in ``/autograder/submission``; it must leave
``/autograder/results/results.json``. The dlgrade wheel is built from this checkout and shipped
in the zip, so dlgrade itself never comes from the network; its dependencies are installed with
the checkout's ``constraints.txt``, the versions CI tested. The wheel holds no reference
solutions, so the zip (which students never see) carries ``solutions/`` beside it, readable by
root only, and ``run_autograder`` points ``DLGRADE_SOLUTIONS`` at it.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader.core.atomic import write_bytes
from grader.core.errors import GraderError, InputError
from grader.course.paths import PACKAGE_DIR

GRADE_COMMAND = (
    "dlgrade grade --gradescope /autograder/submission --out /autograder/results/results.json"
)
VENV = "/opt/dlgrade"
SOURCE = "/autograder/source"
CONSTRAINTS = "constraints.txt"
NO_CHECKOUT = "{root}: no pyproject.toml here; run gradescope-bundle from a checkout of dlgrade"
SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (Ubuntu).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap
PYTHON=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    # dlgrade needs Python 3.11 or newer; older Ubuntu images ship it as python3.11.
    apt-get install -y --no-install-recommends python3.11 python3.11-venv
    PYTHON=python3.11
fi
"$PYTHON" -m venv {venv}
{venv}/bin/python -m pip install --upgrade pip
# dlgrade comes from the wheel in this zip; its dependencies from PyPI, at the versions CI
# tested; the jupyter extra reads .ipynb uploads. (Grading 04_mnist_mlp needs TensorFlow too:
# add keras, "[jupyter,keras]".)
{venv}/bin/python -m pip install -c {source}/{constraints} {source}/{wheel}'[jupyter]'
ln -sf {venv}/bin/dlgrade /usr/local/bin/dlgrade
# The reference solutions: for the grader only (learner code runs under another uid).
chmod -R go-rwx {source}/solutions
"""
RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission, from /autograder.
export PATH={venv}/bin:$PATH
export DLGRADE_SOLUTIONS={source}/solutions
mkdir -p /autograder/results
{command}
"""


@dataclass(frozen=True)
class Bundle:
    """The written zip and what it holds."""

    path: Path
    wheel: str
    entries: list[str]

    def to_dict(self) -> dict:
        return {"path": str(self.path), "wheel": self.wheel, "entries": self.entries}


def checkout_root() -> Path:
    """The dlgrade checkout this package runs from (an installed wheel cannot rebuild itself)."""
    root = PACKAGE_DIR.parent
    if not (root / "pyproject.toml").is_file():
        raise InputError(NO_CHECKOUT.format(root=root))
    return root


def build_wheel(root: Path, into: Path) -> Path:
    """Build dlgrade's wheel from ``root`` into ``into`` with pip (no isolation, no deps)."""
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    done = subprocess.run(
        [*command, "-q", "-w", str(into), str(root)], capture_output=True, text=True
    )
    wheels = sorted(into.glob("dlgrade-*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr.strip().splitlines() or ["no wheel was produced"])[-1]
        raise GraderError(f"building the dlgrade wheel failed: {last}")
    return wheels[0]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        raise InputError(
            f"{path}: missing; run scripts/write_constraints.py in CI's venv"
        ) from None


def _add(archive: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def bundle(out: Path, root: Path | None = None) -> Bundle:
    """Write ``out`` (autograder.zip): the two scripts, the wheel, constraints and solutions."""
    root = root or checkout_root()
    if out.is_dir():
        raise InputError(f"{out}: is a folder; give the zip file's path")
    with tempfile.TemporaryDirectory(prefix="dlgrade-wheel-") as tmp:
        wheel = build_wheel(root, Path(tmp))
        setup = SETUP_SH.format(venv=VENV, source=SOURCE, wheel=wheel.name, constraints=CONSTRAINTS)
        run = RUN_AUTOGRADER.format(venv=VENV, source=SOURCE, command=GRADE_COMMAND)
        files = {
            "setup.sh": (setup.encode(), 0o755),
            "run_autograder": (run.encode(), 0o755),
            wheel.name: (wheel.read_bytes(), 0o644),
            CONSTRAINTS: (_read(root / CONSTRAINTS), 0o644),
        }
        solutions = sorted((root / "solutions").glob("*.py"))
        if not solutions:
            raise InputError(f"{root / 'solutions'}: no reference solutions to grade with")
        for path in solutions:
            files[f"solutions/{path.name}"] = (path.read_bytes(), 0o600)
    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, (data, mode) in files.items():
            _add(archive, name, data, mode)
    write_bytes(out, buffer.getvalue())
    return Bundle(out, wheel.name, list(files))
