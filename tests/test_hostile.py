"""Hostile learner files graded for real: none of them changes a grade or escapes.

Each fixture in tests/fixtures/hostile/ implements exercise 00 with an honest
``dense_forward`` and ``count_parameters`` and a hostile ``weighted_sum``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import FIXTURES, ISOLATIONS, ROOT, needs_bwrap
from test_sandbox import leftovers

from grader.course.info import load_course
from grader.course.paths import CHECKS_DIR, hidden_from_sandbox
from grader.grading.engine import grade
from grader.sandbox.runner import Sandbox

HOSTILE = FIXTURES / "hostile"
COURSE = load_course()
EXERCISE = COURSE.get("00_weighted_sum")


def run(fixture: str, strict: bool, call_timeout: float = 1.5, **changes):
    limits = dataclasses.replace(
        EXERCISE.sandbox_limits(),
        call_timeout=call_timeout,
        time_budget=max(60, call_timeout),
        **changes,
    )
    box = Sandbox(limits, strict=strict, hide=hidden_from_sandbox())
    try:
        result = grade(COURSE, EXERCISE, HOSTILE / f"{fixture}.py", sandbox=box)
    finally:
        box.close()
    assert result.grader_error is None
    hostile = [c for c in result.checks if c.name.startswith("weighted_sum")]
    honest = [c for c in result.checks if not c.name.startswith("weighted_sum")]
    assert hostile and honest
    return result, hostile, honest, box


# Each weighted_sum check of the endless loop waits out its call's timeout, and each of the
# memory bomb fills the memory cap; the honest calls of the same file need milliseconds and
# a few MiB, so these two run with a short timeout and a small cap.
SMALL_LIMITS = {"infinite_loop": {"call_timeout": 0.5}, "memory_bomb": {"memory_mb": 512}}


@pytest.mark.parametrize("strict", ISOLATIONS)
@pytest.mark.parametrize(
    ("fixture", "statuses"),
    [
        ("infinite_loop", {"timeout"}),
        ("memory_bomb", {"error", "crashed", "timeout", "failed"}),
        ("fork_bomb", {"error", "crashed", "timeout", "failed"}),
        ("exits", {"crashed"}),
        ("sys_exit", {"error", "failed"}),
        ("fake_output", {"failed"}),
        ("patches", {"failed"}),
        ("equals_anything", {"failed"}),
        ("kills_parent", {"error", "crashed", "failed"}),
    ],
)
def test_hostile_weighted_sum_fails_only_its_own_checks(fixture, statuses, strict):
    _result, hostile, honest, box = run(fixture, strict, **SMALL_LIMITS.get(fixture, {}))
    assert not any(c.passed for c in hostile)
    assert {c.status for c in hostile} <= statuses
    assert all(c.passed for c in honest), [c.message for c in honest if not c.passed]
    assert leftovers(box) == []


@pytest.mark.parametrize("strict", ISOLATIONS)
def test_an_exception_at_import_fails_every_check_with_one_message(strict):
    result = grade(COURSE, EXERCISE, HOSTILE / "import_error.py", strict=strict)
    assert result.score == 0 and result.load_error
    assert "import_error.py:5: RuntimeError: this file refuses to load" in result.load_error


@pytest.mark.parametrize("strict", ISOLATIONS)
def test_a_daemon_left_behind_does_not_survive_grading(strict):
    result, _hostile, _honest, box = run("daemon", strict)
    assert result.passed
    assert leftovers(box) == []


@needs_bwrap(reason="bubblewrap is not installed")
def test_the_strict_sandbox_hides_solutions_and_checks():
    # The hunt walks every visible file, the interpreter's whole prefix included: minutes on a
    # busy machine, so the call gets a wall limit to match.
    result, hostile, _honest, _ = run("reads_solution", strict=True, call_timeout=300)
    assert result.passed, [c.message for c in hostile if not c.passed]


@needs_bwrap(reason="bubblewrap is not installed")
def test_files_written_by_learner_code_stay_in_the_sandbox():
    planted = Path("/tmp/dlgrade-planted")
    planted.unlink(missing_ok=True)
    result, *_ = run("writes_files", strict=True)
    assert result.passed
    assert not planted.exists()
    assert not (CHECKS_DIR / "conftest.py").exists()
    assert not (Path.cwd() / "conftest.py").exists()
    assert not (Path.home() / "planted.txt").exists()
    assert not list(ROOT.glob("**/planted.txt"))


def test_results_are_identical_for_the_same_seed():
    path = ROOT / "solutions" / "00_weighted_sum.py"
    first = grade(COURSE, EXERCISE, path, seed=1234)
    second = grade(COURSE, EXERCISE, path, seed=1234)
    assert [c.to_dict() | {"duration": 0} for c in first.checks] == [
        c.to_dict() | {"duration": 0} for c in second.checks
    ]
