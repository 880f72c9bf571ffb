"""Code that computes nothing earns nothing.

Degenerate learner files are generated from each numpy exercise's stub: every function
the stub leaves as a TODO is given one body that ignores what it should compute (return
None, 0, 1.0, NaN, its first argument, zeros or ones like it, an empty dict, or a value of
the annotated return type filled with 0, 1 or NaN) and graded by the real grader. Each
must score 0. The hostile fixtures, with their honest functions made degenerate too,
must score 0 as well.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import subprocess
import sys
from functools import cache

import pytest
from conftest import FIXTURES, ROOT, patched_solution
from test_hostile import SMALL_LIMITS

from grader.course.info import load_course
from grader.course.paths import hidden_from_sandbox
from grader.grading.engine import Submission, grade, grade_many
from grader.sandbox.runner import Sandbox

COURSE = load_course()
EXERCISES = [e.id for e in COURSE.exercises if not e.limits.imports]
# Checks whose right answer is itself one of the degenerate values: none. (Each such check
# also asks for a value no constant gives, e.g. count_parameters([784]) is 0 and
# count_parameters([784, 10]) is 7850.) Name a check here only with the reason.
EXCEPTIONS: dict[str, set[str]] = {}
SIMPLE = {
    "none": "None",
    "zero": "0",
    "one": "1.0",
    "nan": "float('nan')",
    "smallest_float": "5e-324",
    "first_argument": "{first}",
    "zeros_like": "np.zeros_like({first})",
    "ones_like": "np.ones_like({first})",
    "empty_dict": "{{}}",
}
FILLS = {"typed_zeros": "0.0", "typed_ones": "1.0", "typed_nan": "float('nan')"}
STRATEGIES = [*SIMPLE, *FILLS]


def _typed(annotation: ast.expr | None, fill: str, fn: ast.FunctionDef) -> str:
    """A value of the annotated type whose every number is ``fill``, sized from the arguments."""
    names = [a.arg for a in fn.args.args]
    first = names[0] if names else "None"
    text = ast.unparse(annotation) if annotation is not None else "None"
    if isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) == "tuple":
        parts = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else []
        return "(" + ", ".join(_typed(p, fill, fn) for p in parts) + ",)"
    if text == "float":
        return f"float({fill})"
    if text == "int":
        return "0" if "nan" in fill else f"int({fill})"
    if text.startswith("list"):
        length = "epochs" if "epochs" in names else f"len({first})"
        item = "0" if "int" in text and "nan" in fill else fill
        return f"[{'int' if 'int' in text else 'float'}({item})] * {length}"
    if text in ("Params", "dict") or text.startswith("dict"):
        dicts = [
            a.arg for a in fn.args.args if a.annotation and "Params" in ast.unparse(a.annotation)
        ]
        if not dicts:
            return "{}"
        return (
            f"{{n: np.full_like(np.asarray(v, dtype=float), {fill}) "
            f"for k, v in {dicts[0]}.items() for n in (k, 'd' + k)}}"
        )
    return f"np.full_like(np.asarray({first}, dtype=float), {fill})"


def degenerate_source(exercise_id: str, strategy: str) -> str:
    """The stub with every TODO function's body replaced by the strategy's return."""
    tree = ast.parse((ROOT / "exercises" / f"{exercise_id}.py").read_text())
    for fn in tree.body:
        todo = isinstance(fn, ast.FunctionDef) and any(
            isinstance(n, ast.Raise) and "NotImplementedError" in ast.unparse(n)
            for n in ast.walk(fn)
        )
        if not todo:
            continue
        first = fn.args.args[0].arg if fn.args.args else "None"
        if strategy in SIMPLE:
            body = SIMPLE[strategy].format(first=first)
        else:
            body = _typed(fn.returns, FILLS[strategy], fn)
        fn.body = [ast.parse(f"return {body}").body[0]]
    return ast.unparse(tree)


@cache
def graded(exercise_id: str) -> dict:
    """Every strategy's file for one exercise, graded in one session with one sandbox."""
    exercise = COURSE.get(exercise_id)
    subs = [Submission(degenerate_source(exercise_id, s).encode(), s) for s in STRATEGIES]
    with Sandbox(exercise.sandbox_limits(), hide=hidden_from_sandbox()) as box:
        results = grade_many(COURSE, exercise, subs, sandbox=box, seed=20261207)
    return dict(zip(STRATEGIES, results, strict=True))


def test_every_strategy_changes_every_todo_function():
    for exercise_id in EXERCISES:
        stub = (ROOT / "exercises" / f"{exercise_id}.py").read_text()
        for strategy in STRATEGIES:
            source = degenerate_source(exercise_id, strategy)
            assert "NotImplementedError" not in source and source != stub
            compile(source, f"{exercise_id}-{strategy}", "exec")


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_a_file_that_computes_nothing_scores_zero(exercise_id, strategy):
    result = graded(exercise_id)[strategy]
    assert result.grader_error is None and result.load_error is None
    allowed = EXCEPTIONS.get(exercise_id, set())
    paid = [(c.name, c.message) for c in result.checks if c.passed and c.name not in allowed]
    assert not paid
    assert all(c.status != "not_implemented" for c in result.checks)


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_the_cli_gives_a_degenerate_file_zero(tmp_path, exercise_id):
    path = tmp_path / f"{exercise_id}.py"
    path.write_text(degenerate_source(exercise_id, "typed_zeros"))
    done = subprocess.run(
        [sys.executable, "-m", "grader", "check", exercise_id, "--path", str(path), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["score"] == 0 and not any(c["passed"] for c in report["checks"])


def _graded_once(exercise_id: str, patch: list[dict[str, str]], seed: int = 7):
    exercise = COURSE.get(exercise_id)
    source = patched_solution(exercise_id, patch).encode()
    with Sandbox(exercise.sandbox_limits(), hide=hidden_from_sandbox()) as box:
        (result,) = grade_many(COURSE, exercise, [Submission(source, "x")], sandbox=box, seed=seed)
    return {c.name: c for c in result.checks}


def test_a_sigmoid_that_is_constantly_the_smallest_float_fails_the_tail_check():
    """5e-324 is within any fixed atol of σ(−720); the tail check's tolerance is relative."""
    patch = [
        {
            "old": "    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n",
            "new": "    return np.full_like(z, 5e-324)\n",
        }
    ]
    tail = _graded_once("01_activations", patch)["sigmoid_far_negative_tail_not_zero"]
    assert not tail.passed and "5 of 5 entries differ" in tail.message


HOSTILE = FIXTURES / "hostile"
COMPUTES_NOTHING = [
    "infinite_loop",
    "memory_bomb",
    "fork_bomb",
    "exits",
    "sys_exit",
    "fake_output",
    "patches",
    "equals_anything",
    "kills_parent",
    "import_error",
]


def without_honest_functions(source: str) -> str:
    """A hostile fixture whose honest functions (all but weighted_sum) return None."""
    tree = ast.parse(source)
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef) and fn.name in ("dense_forward", "count_parameters"):
            fn.body = [ast.Return(ast.Constant(None))]
    return ast.unparse(tree)


@pytest.mark.parametrize("fixture", COMPUTES_NOTHING)
def test_a_hostile_file_that_computes_nothing_scores_zero(tmp_path, fixture):
    exercise = COURSE.get("00_weighted_sum")
    path = tmp_path / "00_weighted_sum.py"
    path.write_text(without_honest_functions((HOSTILE / f"{fixture}.py").read_text()))
    changes = {"call_timeout": 1.5, **SMALL_LIMITS.get(fixture, {})}  # see test_hostile
    limits = dataclasses.replace(exercise.sandbox_limits(), **changes)
    with Sandbox(limits, hide=hidden_from_sandbox()) as box:
        result = grade(COURSE, exercise, path, sandbox=box)
    assert result.grader_error is None
    assert result.score == 0, [(c.name, c.message) for c in result.checks if c.passed]


def test_a_random_case_describes_the_expected_value_and_a_worked_example_shows_it():
    """Feedback for a random case gives shape and differences, never the reference's values."""
    patch = [
        {
            "old": "    return np.asarray(X, dtype=float) @ np.asarray(W, dtype=float) + "
            "np.asarray(b, dtype=float)\n",
            "new": "    return np.asarray(X, dtype=float) @ np.asarray(W, dtype=float) + 1.0\n",
        }
    ]
    checks = _graded_once("00_weighted_sum", patch)
    random_case = checks["dense_forward_random_layers"]
    assert not random_case.passed
    assert random_case.expected.startswith("an array of shape (")
    assert "entries differ; largest difference" in random_case.message
    assert random_case.got and random_case.call
    worked = checks["dense_forward_worked_example"]
    assert not worked.passed and "0.827" in worked.expected
