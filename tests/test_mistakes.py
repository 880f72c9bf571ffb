"""Each known mistake fails the check aimed at it and gets that mistake's targeted hint.

Each buggy variant is a reference solution with one mistake, written as the edits that
make it (tests/fixtures/mistakes.toml), with the checks it must fail and the mistake id
each failure must carry.
"""

from __future__ import annotations

import tomllib
from functools import cache

import pytest
from conftest import FIXTURES, ROOT, patched_solution

from grader.course.info import load_course
from grader.course.paths import hidden_from_sandbox
from grader.grading.engine import Submission, grade_many
from grader.sandbox.runner import Sandbox

VARIANTS = tomllib.loads((FIXTURES / "mistakes.toml").read_text())
EXPECTED = {ex: {n: v["fails"] for n, v in vs.items()} for ex, vs in VARIANTS.items()}
COURSE = load_course()
CASES = [(ex, variant) for ex, variants in EXPECTED.items() for variant in variants]


@cache
def graded(exercise_id: str) -> dict:
    """Every variant of one exercise, graded in one session with one sandbox."""
    exercise = COURSE.get(exercise_id)
    names = sorted(EXPECTED[exercise_id])
    patches = {n: VARIANTS[exercise_id][n]["patch"] for n in names}
    subs = [Submission(patched_solution(exercise_id, patches[n]).encode(), n) for n in names]
    with Sandbox(exercise.sandbox_limits(), hide=hidden_from_sandbox()) as box:
        results = grade_many(COURSE, exercise, subs, sandbox=box, seed=20261123)
    return dict(zip(names, results, strict=True))


def test_every_known_mistake_in_info_toml_has_a_variant_that_triggers_it():
    triggered = {(ex, m) for ex, vs in EXPECTED.items() for v in vs.values() for m in v.values()}
    for exercise in COURSE.exercises:
        for mistake in exercise.mistakes:
            if exercise.id in EXPECTED:
                assert (exercise.id, mistake) in triggered, f"{exercise.id}: {mistake}"


@pytest.mark.parametrize(("exercise_id", "variant"), CASES, ids=[f"{e}-{v}" for e, v in CASES])
def test_the_mistake_fails_its_check_with_the_targeted_hint(exercise_id, variant):
    exercise = COURSE.get(exercise_id)
    result = graded(exercise_id)[variant]
    assert result.grader_error is None and result.load_error is None
    checks = {c.name: c for c in result.checks}
    for check_name, mistake in EXPECTED[exercise_id][variant].items():
        check = checks[check_name]
        assert not check.passed, f"{check_name} passed"
        if mistake:
            assert check.mistake == mistake
            assert check.hint == exercise.mistakes[mistake].hint
    assert result.score < exercise.max_score
    untouched = [c for c in result.checks if c.name not in EXPECTED[exercise_id][variant]]
    assert any(c.passed for c in untouched)


@pytest.mark.parametrize(("exercise_id", "variant"), CASES, ids=[f"{e}-{v}" for e, v in CASES])
def test_every_variant_really_changes_the_solution(exercise_id, variant):
    solution = (ROOT / "solutions" / f"{exercise_id}.py").read_text()
    assert patched_solution(exercise_id, VARIANTS[exercise_id][variant]["patch"]) != solution
