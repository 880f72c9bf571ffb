"""Every reference solution scores full marks in every sandbox mode dlgrade claims, and a
sandbox that cannot do what any correct program needs is a grader error, not a zero."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT, as_ordinary_user, needs_bwrap

from grader.sandbox.errors import SandboxError, runtime_fault
from grader.sandbox.runner import Sandbox

IS_ROOT = os.geteuid() == 0
MODES = [
    pytest.param(
        "bubblewrap-root" if IS_ROOT else "bubblewrap",
        marks=needs_bwrap(reason="bubblewrap is not installed"),
    ),
    pytest.param("rlimits-root", marks=pytest.mark.skipif(not IS_ROOT, reason="needs root")),
    pytest.param("rlimits-user"),
    pytest.param("bubblewrap-user", marks=needs_bwrap(reason="bubblewrap is not installed")),
]
EXERCISES = ["00_weighted_sum", "01_activations", "02_perceptron", "03_backprop"]


@pytest.fixture(scope="module")
def scratch():
    """A folder an ordinary user can write to (pytest's own are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="dlgrade-modes-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def check(mode: str, scratch: Path, exercise: str) -> subprocess.CompletedProcess:
    python_dir = str(Path(sys.executable).parent)
    home = scratch / f"home-{mode}"
    home.mkdir(mode=0o777, exist_ok=True)
    env = {"PYTHONPATH": str(ROOT), "DLGRADE_HOME": str(home), "HOME": str(home)}
    env["TMPDIR"] = str(scratch)
    # Without bubblewrap on PATH, dlgrade falls back to the rlimits sandbox.
    path = f"{python_dir}:/usr/bin:/bin" if mode.startswith("bubblewrap") else python_dir
    env["PATH"] = path
    command = [sys.executable, "-m", "grader", "check", exercise, "--solution", "--json"]
    if mode.endswith("-user") and IS_ROOT:
        command = as_ordinary_user(command, path)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("exercise", EXERCISES)
@pytest.mark.parametrize("mode", MODES)
def test_every_reference_scores_full_marks_in_every_mode(mode, exercise, scratch):
    done = check(mode, scratch, exercise)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, (done.returncode, done.stderr[-2000:])
    result = json.loads(lines[-1])
    failed = [(c["name"], c["message"]) for c in result["checks"] if c["status"] != "passed"]
    assert result["score"] == result["max_score"] > 0, failed
    assert result["isolation"] == mode.split("-")[0]
    expected = mode if "-" in mode else f"{mode}-{'root' if IS_ROOT else 'user'}"
    assert result["mode"] == expected
    assert done.returncode == 0


@pytest.mark.parametrize(
    ("type_name", "message", "fault"),
    [
        ("ModuleNotFoundError", "No module named 'encodings.cp437'", True),
        ("ModuleNotFoundError", "No module named 'json'", True),
        ("LookupError", "unknown encoding: cp437", True),
        ("ModuleNotFoundError", "No module named 'torch'", False),
        ("LookupError", "unknown encoding: klingon", False),
        ("ValueError", "No module named 'json'", False),
    ],
)
def test_only_a_missing_piece_of_the_runtime_is_the_sandboxs_fault(type_name, message, fault):
    assert (runtime_fault(type_name, message) is not None) is fault


def test_judging_a_fault_imports_nothing_the_learner_names():
    """The module name in the message is the learner's: judging it must not import it."""
    code = (
        "import sys\nfrom grader.sandbox.errors import runtime_fault\n"
        "runtime_fault('ModuleNotFoundError', \"No module named 'antigravity.x'\")\n"
        "runtime_fault('ModuleNotFoundError', \"No module named 'this.x'\")\n"
        "print('antigravity' in sys.modules or 'this' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "False"


def test_a_sandbox_that_cannot_import_a_standard_module_is_a_grader_error():
    """The child meets the standard library as the rlimits sandbox once did after its uid
    drop: a module of the runtime that cannot be read. That is never the learner's fault."""
    source = "import sys\nsys.modules.pop('json', None)\nsys.path[:] = []\nimport json\n"
    with Sandbox(strict=False) as box, pytest.raises(SandboxError, match="standard module json"):
        box.load(source, "learner.py", "learner")
