"""The course catalogue, as rustlings checks its own: complete entries, failing stubs."""

from __future__ import annotations

import ast

import pytest
from conftest import ROOT

from grader.course.info import load_course
from grader.grading.engine import grade

COURSE = load_course()
NUMPY_EXERCISES = [e for e in COURSE.exercises if not e.limits.imports]


def check_functions(exercise) -> list[str]:
    tree = ast.parse(exercise.check_module.read_text())
    return [
        n.name.removeprefix("test_")
        for n in tree.body
        if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")
    ]


def mistake_ids(exercise) -> tuple[set[str], set[str]]:
    """Ids written as ``mistakes={...}`` keys or ``mistake="..."``, and every string literal."""
    named, literals = set(), set()
    for node in ast.walk(ast.parse(exercise.check_module.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            literals.add(node.value)
        if (
            isinstance(node, ast.keyword)
            and node.arg == "mistakes"
            and isinstance(node.value, ast.Dict)
        ):
            named |= {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
        if (
            isinstance(node, ast.keyword)
            and node.arg == "mistake"
            and isinstance(node.value, ast.Constant)
            and node.value.value
        ):
            named.add(node.value.value)
    return named, literals


@pytest.mark.parametrize("exercise", COURSE.exercises, ids=lambda e: e.id)
def test_every_exercise_has_stub_solution_checks_and_hints(exercise):
    stub = COURSE.stub_path(exercise).read_text()
    assert "NotImplementedError" in stub and "TODO" in stub
    assert COURSE.solution_path(exercise).is_file()
    assert exercise.check_module.is_file()
    assert len(exercise.hints) >= 2 and all(h.strip() for h in exercise.hints)


@pytest.mark.parametrize("exercise", COURSE.exercises, ids=lambda e: e.id)
def test_points_name_exactly_the_checks(exercise):
    names = check_functions(exercise)
    assert len(names) >= 8
    assert sorted(names) == sorted(exercise.points)
    assert all(1 <= p <= 5 for p in exercise.points.values())


@pytest.mark.parametrize("exercise", COURSE.exercises, ids=lambda e: e.id)
def test_every_mistake_hint_is_used_and_every_used_mistake_has_a_hint(exercise):
    named, literals = mistake_ids(exercise)
    assert named <= set(exercise.mistakes)
    assert set(exercise.mistakes) <= literals


def test_no_stray_files():
    ids = {e.file_name for e in COURSE.exercises}
    assert {p.name for p in (ROOT / "exercises").iterdir()} == ids | {"info.toml"}
    assert {p.name for p in (ROOT / "solutions").iterdir() if p.suffix == ".py"} == ids
    checks = {p.name for p in (ROOT / "grader" / "checks").glob("check_*.py")}
    assert checks == {f"check_{e.id}.py" for e in COURSE.exercises}


@pytest.mark.parametrize("exercise", NUMPY_EXERCISES, ids=lambda e: e.id)
def test_every_solution_scores_full_marks(exercise):
    result = grade(COURSE, exercise, COURSE.solution_path(exercise))
    failures = [(c.name, c.message) for c in result.checks if not c.passed]
    assert result.passed and result.score == exercise.max_score, failures


@pytest.mark.parametrize("exercise", NUMPY_EXERCISES, ids=lambda e: e.id)
def test_every_untouched_stub_scores_zero_with_not_implemented(exercise):
    result = grade(COURSE, exercise, COURSE.stub_path(exercise))
    assert result.score == 0
    assert result.not_started, [(c.name, c.status, c.message) for c in result.checks]
    assert all("not implemented yet" in c.message for c in result.checks)


def test_the_fast_path_builds_exactly_what_validation_builds():
    import tomllib

    from grader.course.info import _build, _validate

    path = ROOT / "exercises" / "info.toml"
    data = tomllib.loads(path.read_text())
    assert _validate(data, path) == _build(data)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('summary = "', 'sumary = "', 1), "Unexpected keyword argument"),
        (lambda t: t.replace('id = "00_weighted_sum"', 'id = "weighted"', 1), "must look like"),
        (
            lambda t: t.replace("weighted_sum_adds_bias = 2", 'weighted_sum_adds_bias = "two"'),
            "points.weighted_sum_adds_bias",
        ),
        (lambda t: t.replace('title = "The weighted sum"', 'title = ""'), "at least 1 character"),
        (
            lambda t: t.replace('id = "00_weighted_sum"', f'id = "00_{"w" * 70}"', 1),
            "at most 64 characters",
        ),
    ],
    ids=["unknown-key", "bad-id", "points-not-a-number", "empty-title", "id-too-long"],
)
def test_a_broken_course_file_is_one_clear_error_even_after_a_valid_one(tmp_path, edit, message):
    import shutil

    from grader.core.errors import InputError
    from grader.course.info import load_course as load

    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    assert load(tmp_path).exercises  # valid: validated once, then remembered
    info = tmp_path / "exercises" / "info.toml"
    info.write_text(edit(info.read_text()))
    load.cache_clear()
    with pytest.raises(InputError, match=message) as error:
        load(tmp_path)
    assert str(info) in str(error.value)
