"""The time budget per exercise: a file whose calls all hang costs the budget, not minutes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from grader.course.info import load_course

HANGS = """\
import time


def weighted_sum(x, w, b=0.0):
    time.sleep(3600)


def dense_forward(X, W, b):
    time.sleep(3600)


def count_parameters(layer_sizes, include_biases=True):
    time.sleep(3600)
"""


def check(*args: str, cwd: Path) -> tuple[int, dict]:
    done = subprocess.run(
        [sys.executable, "-m", "grader", "check", *args, "--json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.stderr.count("Traceback") == 0, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_every_exercise_has_a_budget_and_04s_fits_its_training():
    course = load_course()
    budgets = {e.id: e.sandbox_limits().time_budget for e in course.exercises}
    assert budgets["00_weighted_sum"] == 60
    mnist = course.get("04_mnist_mlp")
    assert budgets["04_mnist_mlp"] > mnist.grading["full"]["time_budget"]


def test_calls_that_hang_fail_as_time_budget_used_up(tmp_path: Path):
    learner = tmp_path / "00_weighted_sum.py"
    learner.write_text(HANGS)
    code, result = check("00_weighted_sum", "--path", str(learner), "--budget", "2", cwd=tmp_path)
    assert code == 1
    assert result["score"] == 0 and result["checks"]
    messages = [c["message"] for c in result["checks"]]
    used_up = [m for m in messages if "time budget used up" in m]
    # The first call runs into the budget (it is shorter than the call timeout); every later
    # check fails at once instead of waiting out a call timeout of its own.
    assert len(used_up) >= len(messages) - 1, messages
    assert all(not c["passed"] for c in result["checks"])


def test_the_reference_passes_within_a_small_budget(tmp_path: Path):
    code, result = check("00_weighted_sum", "--solution", "--budget", "20", cwd=tmp_path)
    assert code == 0, result
    assert result["score"] == result["max_score"]
