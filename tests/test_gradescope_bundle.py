"""`dlgrade gradescope-bundle`: an autograder.zip laid out as Gradescope's specification asks."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from grader.classgrade.gradescope_bundle import GRADE_COMMAND
from grader.cli.kit import gradescope_bundle

EXPECTED_COMMAND = (
    "dlgrade grade --gradescope /autograder/submission --out /autograder/results/results.json"
)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    done = CliRunner().invoke(gradescope_bundle, ["--out", str(out), "--json"])
    assert done.exit_code == 0, done.output
    return out, json.loads(done.stdout)


def entry(zip_path: Path, name: str) -> tuple[str, int]:
    with zipfile.ZipFile(zip_path) as archive:
        info = archive.getinfo(name)
        return archive.read(name).decode(), stat.S_IMODE(info.external_attr >> 16)


def test_zip_holds_both_scripts_and_the_wheel_at_its_root(bundle):
    path, summary = bundle
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    solutions = {f"solutions/{p.name}" for p in (ROOT / "solutions").glob("*.py")}
    assert {"setup.sh", "run_autograder", "constraints.txt", summary["wheel"]} | solutions == set(
        names
    )
    assert summary["wheel"].startswith("dlgrade-") and summary["wheel"].endswith(".whl")


@pytest.mark.parametrize("name", ["setup.sh", "run_autograder"])
def test_scripts_are_executable_with_a_shebang_and_valid_bash(bundle, tmp_path, name):
    text, mode = entry(bundle[0], name)
    assert mode == 0o755
    assert text.startswith("#!/usr/bin/env bash\n")
    script = tmp_path / name
    script.write_text(text)
    if shutil.which("bash"):
        assert subprocess.run(["bash", "-n", str(script)]).returncode == 0


def test_run_autograder_runs_the_class_grader_on_the_submission(bundle):
    text, _ = entry(bundle[0], "run_autograder")
    assert GRADE_COMMAND == EXPECTED_COMMAND
    assert EXPECTED_COMMAND in text.splitlines()


def test_setup_installs_bubblewrap_and_the_bundled_wheel_with_constraints(bundle):
    path, summary = bundle
    text, _ = entry(path, "setup.sh")
    assert "apt-get install" in text and "bubblewrap" in text
    wheel = f"/autograder/source/{summary['wheel']}"
    assert f"pip install -c /autograder/source/constraints.txt {wheel}" in text
    assert "chmod -R go-rwx /autograder/source/solutions" in text


def test_the_bundle_grades_with_its_solutions_and_tested_versions(bundle):
    path, _ = bundle
    text, _ = entry(path, "run_autograder")
    assert "export DLGRADE_SOLUTIONS=/autograder/source/solutions" in text.splitlines()
    for name in ("00_weighted_sum.py", "03_backprop.py"):
        shipped, mode = entry(path, f"solutions/{name}")
        assert shipped == (ROOT / "solutions" / name).read_text() and mode == 0o600
    constraints, _ = entry(path, "constraints.txt")
    assert constraints == (ROOT / "constraints.txt").read_text()
    pins = {line.split("==")[0].lower() for line in constraints.splitlines() if "==" in line}
    assert {"numpy", "pytest", "click", "rich", "pydantic", "fsrs"} <= pins


def test_wheel_installs_and_imports_with_the_course_inside(bundle, tmp_path):
    path, summary = bundle
    with zipfile.ZipFile(path) as archive:
        archive.extract(summary["wheel"], tmp_path)
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index"]
    done = subprocess.run(
        [*pip, "--target", str(target), str(tmp_path / summary["wheel"])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    probe = (
        "import grader, json; from grader.course.info import load_course; "
        "print(json.dumps([grader.__file__, [e.id for e in load_course().exercises]]))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    ran = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    module, exercises = json.loads(ran.stdout)
    assert Path(module).is_relative_to(target)
    assert "00_weighted_sum" in exercises
    assert (target / "grader" / "_course" / "practice" / "00_weighted_sum.json").is_file()
    assert not (target / "grader" / "_course" / "solutions").exists()
