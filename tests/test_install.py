"""dlgrade works from a built wheel, outside the clone: init a workspace, then grade it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel built from this checkout, installed into its own folder (no dependencies)."""
    dist, target = tmp_path_factory.mktemp("dist"), tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
    )
    wheel = next(dist.glob("dlgrade-*.whl"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    return target


def run(installed: Path, *args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(installed), "DLGRADE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_wheel_carries_the_course(installed):
    course = installed / "grader" / "_course"
    for folder in ("exercises", "solutions", "glossary"):
        assert (course / folder).is_dir()
    assert (course / "exercises" / "info.toml").is_file()
    assert (installed / "grader" / "checks" / "check_00_weighted_sum.py").is_file()


def test_init_and_check_work_from_the_wheel(installed, tmp_path, dlgrade_home):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    done = run(installed, "init", "ws", cwd=outside, home=dlgrade_home)
    assert done.returncode == 0, done.stderr
    ws = outside / "ws"
    stub = run(installed, "check", "00_weighted_sum", "--json", cwd=ws, home=dlgrade_home)
    assert stub.returncode == 1 and json.loads(stub.stdout)["score"] == 0
    (ws / "exercises" / "00_weighted_sum.py").write_text(
        (ROOT / "solutions" / "00_weighted_sum.py").read_text()
    )
    solved = run(installed, "check", "00_weighted_sum", "--json", cwd=ws, home=dlgrade_home)
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert json.loads(solved.stdout)["passed"] is True
