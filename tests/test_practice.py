"""Practice pools: fresh against the checks, keyed robustly, and useless for graded cases.

The lookup-table learner here knows every answer the checks asked for on some practice seeds
(recorded from the reference solution, as a learner could harvest them from the pool and the
checks). It scores full marks in practice mode and nothing on the checks with random inputs
when `dlgrade grade` draws its fresh cases.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ROOT, needs_bwrap

from grader.core.errors import InputError
from grader.course.info import load_course
from grader.grading import practice, practice_pool
from grader.grading.learner import Learner
from grader.sandbox.errors import LearnerRaised
from grader.sandbox.wire import FunctionRef, Ref

COURSE = load_course()
POOLED = [e.id for e in COURSE.exercises if practice_pool.uses_reference(e)]
LOOKUP_EXERCISES = ["00_weighted_sum", "01_activations", "02_perceptron", "03_backprop"]


@pytest.mark.parametrize("exercise_id", POOLED)
def test_committed_pool_matches_the_current_checks_and_solution(exercise_id):
    """A stale pool fails here: run `python scripts/build_practice_pool.py` and commit."""
    exercise = COURSE.get(exercise_id)
    committed = practice.load_pool(COURSE, exercise)
    assert committed.seeds, f"no pool for {exercise_id}: run scripts/build_practice_pool.py"
    assert practice_pool.differences(committed, practice_pool.rebuild(COURSE, exercise)) == []


def test_pools_exist_exactly_where_checks_ask_for_the_reference():
    assert {"00_weighted_sum", "03_backprop"} <= set(POOLED)
    shipped = {p.stem for p in (ROOT / "practice").glob("*.json")}
    assert shipped == set(POOLED)


def test_a_changed_result_or_a_missing_call_counts_as_a_difference():
    exercise = COURSE.get("00_weighted_sum")
    pool = practice.load_pool(COURSE, exercise)
    seed = pool.seeds[0]
    first = sorted(pool.cases[seed])[0]
    changed = dict(pool.cases[seed], **{first: practice.encode_value(123.0)})
    shorter = {k: v for k, v in pool.cases[seed].items() if k != first}
    for table in (changed, shorter):
        other = practice.Pool(
            pool.exercise, pool.seeds, pool.functions, {**pool.cases, seed: table}
        )
        assert practice_pool.differences(pool, other)


def test_a_call_whose_key_moved_counts_only_if_its_result_changed():
    exercise = COURSE.get("00_weighted_sum")
    pool = practice.load_pool(COURSE, exercise)
    seed = pool.seeds[0]
    first = sorted(pool.cases[seed])[0]
    moved = {k: v for k, v in pool.cases[seed].items() if k != first}

    def other(table):
        return practice.Pool(pool.exercise, pool.seeds, pool.functions, {**pool.cases, seed: table})

    same_result = {**moved, "0" * 32: pool.cases[seed][first]}
    assert practice_pool.differences(pool, other(same_result)) == []
    new_result = {**moved, "0" * 32: practice.encode_value(123.0)}
    assert practice_pool.differences(pool, other(new_result))


def test_keys_ignore_rounding_noise_and_nothing_else():
    x = np.random.default_rng(1).normal(size=(3, 4))
    key = practice.case_key("f", (x, 0.1), {"b": 2})
    assert practice.case_key("f", [x * (1 + 4e-16), 0.1 + 1e-17], {"b": 2}) == key
    assert practice.case_key("f", (x + 1e-6, 0.1), {"b": 2}) != key
    assert practice.case_key("g", (x, 0.1), {"b": 2}) != key
    assert practice.case_key("f", (x.T, 0.1), {"b": 2}) != key
    assert practice.case_key("f", (x, 0.1), {"b": 2.0}) != key
    assert practice.case_key("f", ({"a": 1, "b": x},), {}) == practice.case_key(
        "f", ({"b": x, "a": 1},), {}
    )

    def relu(z):
        return z

    # A function argument counts by name: the trusted side's FunctionRef, the child's function.
    assert practice.case_key("n", (FunctionRef("relu"),), {}) == practice.case_key("n", (relu,), {})
    assert practice.case_key("n", (relu,), {}) != practice.case_key("n", (FunctionRef("step"),), {})


def test_results_come_back_with_their_types():
    value = (np.arange(6.0).reshape(2, 3), {"A1": np.float32(1.5), "n": [1, 2]}, 0.25, [np.nan])
    back = practice.decode_value(practice.encode_value(value))
    assert type(back) is tuple and back[0].dtype == np.float64 and back[0].shape == (2, 3)
    assert type(back[1]["A1"]) is np.float32 and back[1]["n"] == [1, 2] and back[2] == 0.25
    assert np.isnan(back[3][0])


def test_graded_cases_never_use_a_pool_seed():
    for exercise_id in POOLED:
        exercise = COURSE.get(exercise_id)
        seeds = practice.load_pool(COURSE, exercise).seeds
        assert min(seeds) >= practice.SEED_FLOOR
        drawn = {practice.draw_seed(COURSE, exercise) for _ in range(200)}
        assert not drawn & set(seeds) and max(drawn) < practice.SEED_FLOOR
        with pytest.raises(InputError, match="belongs to the practice pool"):
            practice.reference_for(COURSE, exercise, seeds[0])
        assert practice.cases_of(practice.reference_for(COURSE, exercise, 7)) == practice.GRADED


def test_practice_mode_answers_recorded_calls_and_refuses_others(monkeypatch, tmp_path):
    monkeypatch.setenv("DLGRADE_SOLUTIONS", str(tmp_path))
    exercise = COURSE.get("01_activations")
    seed = practice.load_pool(COURSE, exercise).seeds[0]
    reference = practice.reference_for(COURSE, exercise, seed)
    assert practice.cases_of(reference) == practice.PRACTICE
    with pytest.raises(practice.NotInPractice, match="not available in practice mode"):
        reference.sigmoid(np.array([0.123]))
    with pytest.raises(AttributeError):
        _ = reference.no_such_function
    with pytest.raises(InputError, match="not a practice seed"):
        practice.reference_for(COURSE, exercise, 7)


# -- the lookup-table learner ------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A result as JSON the lookup learner decodes without dlgrade."""
    if isinstance(value, np.ndarray):
        return {"nd": [value.dtype.str, list(value.shape), value.ravel().tolist()]}
    if isinstance(value, np.generic):
        return {"np": [value.dtype.str, value.item()]}
    if isinstance(value, tuple):
        return {"t": [_plain(v) for v in value]}
    if isinstance(value, dict):
        return {"d": [[k, _plain(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    assert value is None or isinstance(value, bool | int | float | str), type(value)
    return value


LOOKUP_RUNTIME = """
import builtins, hashlib, json, struct
import numpy as np

class wire:
    class FunctionRef:
        pass

def _load(v):
    if isinstance(v, list):
        return [_load(x) for x in v]
    if isinstance(v, dict):
        (tag, body), = v.items()
        if tag == "nd":
            return np.array(body[2], dtype=body[0]).reshape(body[1])
        if tag == "np":
            return np.dtype(body[0]).type(body[1])
        if tag == "t":
            return tuple(_load(x) for x in body)
        return {k: _load(x) for k, x in body}
    return v

def _answer(fn, args, kwargs):
    found = TABLE.get(case_key(fn, args, kwargs))
    if found is None:
        raise NotImplementedError(fn)
    if "raise" in found:
        raise getattr(builtins, found["raise"], RuntimeError)("recorded")
    return _load(found["value"])
"""


def _lookup_learner(table: dict[str, Any], functions: set[str]) -> str:
    parts = [
        LOOKUP_RUNTIME,
        "MANTISSA_BITS = 30",
        inspect.getsource(practice._quantised),
        inspect.getsource(practice._feed),
        inspect.getsource(practice.case_key),
        f"TABLE = json.loads({json.dumps(json.dumps(table))})",
    ]
    for fn in sorted(functions):
        parts.append(f"def {fn}(*args, **kwargs):\n    return _answer({fn!r}, args, kwargs)\n")
    return "from __future__ import annotations\nfrom typing import Any\n" + "\n".join(parts)


def _harvest(monkeypatch, exercise_id: str, seeds: tuple[int, ...]) -> str:
    """Every call the checks make on ``seeds`` with the solution's answer, as a lookup file."""
    from grader.grading.engine import grade

    table: dict[str, Any] = {}
    functions: set[str] = set()
    kept: dict[int, Any] = {}
    original = Learner.call

    def resolve(value: Any) -> Any:
        if isinstance(value, Ref):
            found = kept[value.call_id]
            for step in value.path:
                found = found[step]
            return found
        if isinstance(value, list | tuple):
            return type(value)(resolve(v) for v in value)
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    def spy(self, fn, args, kwargs=None, **options):
        key = practice.case_key(fn, resolve(list(args)), resolve(kwargs or {}))
        functions.add(fn)
        try:
            reply = original(self, fn, args, kwargs, **options)
        except LearnerRaised as exc:
            table[key] = {"raise": exc.type_name}
            raise
        value = reply.value if options.get("keep") else reply
        if options.get("keep"):
            kept[reply._ref.call_id] = reply.value
        elif options.get("return_args"):
            value = reply[0]
        table[key] = {"value": _plain(value)}
        return reply

    monkeypatch.setattr(Learner, "call", spy)
    exercise = COURSE.get(exercise_id)
    for seed in seeds:
        result = grade(COURSE, exercise, ROOT / "solutions" / exercise.file_name, seed=seed)
        assert result.score == result.max_score and result.cases == practice.PRACTICE
    monkeypatch.setattr(Learner, "call", original)
    return _lookup_learner(table, functions)


def _random_checks(exercise_id: str) -> set[str]:
    """The checks whose inputs come from the seeded ``rng`` fixture."""
    tree = ast.parse(COURSE.get(exercise_id).check_module.read_text(encoding="utf-8"))
    return {
        node.name.removeprefix("test_")
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and node.name.startswith("test_")
        and any(a.arg == "rng" for a in node.args.args)
    }


def _dlgrade(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@needs_bwrap(reason="class grading is strict: needs bubblewrap")
def test_a_lookup_table_of_the_practice_cases_passes_practice_and_fails_graded_cases(
    monkeypatch, tmp_path, dlgrade_home
):
    no_solutions = tmp_path / "no-solutions"
    no_solutions.mkdir()
    monkeypatch.setenv("DLGRADE_SOLUTIONS", str(no_solutions))
    submission = tmp_path / "subs" / "lookup"
    submission.mkdir(parents=True)
    practised = {}
    for exercise_id in LOOKUP_EXERCISES:
        seeds = practice.load_pool(COURSE, COURSE.get(exercise_id)).seeds[:2]
        (submission / f"{exercise_id}.py").write_text(_harvest(monkeypatch, exercise_id, seeds))
        practised[exercise_id] = seeds
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DLGRADE_SOLUTIONS": str(no_solutions)}
    for exercise_id, seeds in practised.items():
        path = str(submission / f"{exercise_id}.py")
        for seed in seeds:
            done = _dlgrade(
                "check", "--path", path, "--seed", str(seed), "--json", env=env, cwd=tmp_path
            )
            result = json.loads(done.stdout)
            assert result["cases"] == practice.PRACTICE
            assert result["score"] == result["max_score"], (exercise_id, done.stdout)

    env.pop("DLGRADE_SOLUTIONS")
    out = tmp_path / "grades"
    ids = [arg for e in LOOKUP_EXERCISES for arg in ("-e", e)]
    done = _dlgrade("grade", "subs", "--out", str(out), *ids, "--json", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    (student,) = json.loads((out / "results.json").read_text())["students"]
    for exercise_id in LOOKUP_EXERCISES:
        result = student["exercises"][exercise_id]
        assert result["cases"] == practice.GRADED
        assert result["seed"] not in practice.load_pool(COURSE, COURSE.get(exercise_id)).seeds
        graded = {c["name"]: c for c in result["checks"]}
        random = _random_checks(exercise_id)
        assert random and random <= set(graded)
        assert all(graded[name]["points"] == 0 for name in random), exercise_id
        fixed = set(graded) - random  # worked examples: the same for everyone, learned by heart
        assert result["score"] == sum(graded[name]["points"] for name in fixed)


def test_solution_source_is_the_file_or_a_one_line_refusal(monkeypatch, tmp_path):
    """What `dlgrade solution` will print: the reference in a clone, a refusal elsewhere."""
    from grader.course.solutions import solution_source

    exercise = COURSE.get("02_perceptron")
    expected = (ROOT / "solutions" / "02_perceptron.py").read_text(encoding="utf-8")
    assert solution_source(COURSE, exercise) == expected
    monkeypatch.setenv("DLGRADE_SOLUTIONS", str(tmp_path))
    with pytest.raises(InputError, match="no reference solutions") as refused:
        solution_source(COURSE, exercise)
    assert "\n" not in refused.value.format_message()


def test_class_grading_refuses_a_pool_seed_in_one_line(tmp_path):
    (tmp_path / "subs" / "ada").mkdir(parents=True)
    seed = practice.load_pool(COURSE, COURSE.get("00_weighted_sum")).seeds[0]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DLGRADE_SOLUTIONS", None)
    out = tmp_path / "grades"
    done = _dlgrade("grade", "subs", "--out", str(out), "--seed", str(seed), env=env, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "belongs to the practice pool" in done.stderr and not out.exists()
