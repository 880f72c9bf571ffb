"""The layers of grader/ hold: import-linter's contracts (pyproject.toml) pass, and can fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = [
    sys.executable,
    "-c",
    "from importlinter.cli import lint_imports_command; lint_imports_command()",
]


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LINT, "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )


def test_every_contract_is_kept():
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout
    assert done.stdout.count("KEPT") == 5


def copy_of_grader(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "grader",
        tmp_path / "grader",
        ignore=shutil.ignore_patterns("__pycache__", "*.npz", "*.json.gz"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_an_upward_import_breaks_the_layers(tmp_path):
    root = copy_of_grader(tmp_path)
    atomic = root / "grader" / "core" / "atomic.py"
    atomic.write_text(atomic.read_text() + "\nfrom grader.grading import report  # noqa\n")
    done = lint(root)
    assert done.returncode != 0
    assert "grader.core.atomic -> grader.grading.report" in done.stdout


def test_study_importing_the_sandbox_is_refused(tmp_path):
    root = copy_of_grader(tmp_path)
    quiz = root / "grader" / "study" / "quiz.py"
    quiz.write_text(quiz.read_text() + "\nfrom grader.sandbox import wire  # noqa\n")
    done = lint(root)
    assert done.returncode != 0
    assert "grader.study.quiz -> grader.sandbox.wire" in done.stdout
