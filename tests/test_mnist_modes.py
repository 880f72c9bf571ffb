"""Exercise 04 through the command line in each sandbox mode: bubblewrap as root, rlimits as
root without bubblewrap, and rlimits as an ordinary user.

The reference scores full marks in each; a file that plants a FIFO and a symlink to another
model under the names the grader once read scores 0, and grading finishes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, as_ordinary_user, needs_bwrap, patched_solution

IS_ROOT = os.geteuid() == 0
MODES = [
    pytest.param(
        "bubblewrap",
        marks=[needs_bwrap, pytest.mark.skipif(not IS_ROOT, reason="needs root")],
    ),
    pytest.param("rlimits-root", marks=pytest.mark.skipif(not IS_ROOT, reason="needs root")),
    pytest.param("rlimits-user"),
]


@pytest.fixture
def shared_tmp():
    """A folder an ordinary user can enter (pytest's own are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="dlgrade-modes-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def dlgrade(mode: str, home: Path, *args: str) -> subprocess.CompletedProcess:
    home.mkdir(mode=0o777, exist_ok=True)
    os.chmod(home, 0o777)
    python_dir = str(Path(sys.executable).parent)
    env = {"PYTHONPATH": str(ROOT), "DLGRADE_HOME": str(home), "HOME": str(home)}
    env["PATH"] = f"{python_dir}:/usr/bin:/bin" if mode == "bubblewrap" else python_dir
    command = [sys.executable, "-m", "grader", "check", "04_mnist_mlp", "--quick", "--json"]
    command += list(args)
    if mode == "rlimits-user" and IS_ROOT:
        if not (shutil.which("unshare") and shutil.which("setpriv")):
            pytest.fail("unshare and setpriv (util-linux) are needed to test as an ordinary user")
        command = as_ordinary_user(command, python_dir)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def result_of(done: subprocess.CompletedProcess) -> dict:
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode not in (0, 1):
        Path(tempfile.mkstemp(prefix="modes-stderr-")[1]).write_text(done.stderr)
    assert lines, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    return json.loads(lines[-1])


@pytest.mark.parametrize("mode", MODES)
def test_the_reference_scores_full_marks(mode, shared_tmp):
    tmp_path = shared_tmp
    done = dlgrade(mode, tmp_path / "home", "--solution")
    result = result_of(done)
    failed = [(c["name"], c["message"]) for c in result["checks"] if c["status"] != "passed"]
    assert result["score"] == result["max_score"] == 22, failed
    assert result["isolation"] == ("bubblewrap" if mode == "bubblewrap" else "rlimits")
    assert done.returncode == 0


@pytest.mark.parametrize("mode", MODES)
def test_a_planted_model_link_and_fifo_score_zero(mode, shared_tmp):
    tmp_path = shared_tmp
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "model.keras").write_bytes(b"another student's model")
    patch = tomllib.loads((FIXTURES / "mnist.toml").read_text())["plants_links_untrained"]
    source = patched_solution("04_mnist_mlp", patch["patch"])
    learner = tmp_path / "04_mnist_mlp.py"
    learner.write_text(source.replace("{model}", str(outside / "model.keras")))
    learner.chmod(0o644)
    done = dlgrade(mode, tmp_path / "home", "--path", str(learner))
    result = result_of(done)
    assert result["score"] == 0 and done.returncode == 1
    assert sorted(p.name for p in outside.iterdir()) == ["model.keras"]
    assert (outside / "model.keras").read_bytes() == b"another student's model"
