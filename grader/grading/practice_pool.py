"""Recording practice pools from the real reference (instructor side; needs ``solutions/``).

For each pool seed the exercise's checks grade the reference solution itself, with the
reference wrapped in a :class:`grader.grading.practice.Recorder`, so every call the checks make to
the reference is kept with its result. The solution must score full marks on every seed.
"""

from __future__ import annotations

import ast
import math
import secrets
from collections.abc import Iterable
from typing import Any

import numpy as np

from grader.core.errors import GraderError
from grader.course.info import Course, Exercise
from grader.course.paths import hidden_from_sandbox
from grader.grading.engine import Submission, grade_many, load_reference
from grader.grading.practice import SEED_FLOOR, Pool, Recorder, decode_value, load_pool
from grader.grading.sources import read_source
from grader.sandbox.runner import Sandbox

SEEDS = 8
RTOL = 1e-9  # recorded results may differ by rounding between machines and numpy builds


def uses_reference(exercise: Exercise) -> bool:
    """Whether any check of the exercise asks for the ``reference`` fixture."""
    tree = ast.parse(exercise.check_module.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.FunctionDef)
        and node.name.startswith("test_")
        and any(arg.arg == "reference" for arg in node.args.args)
        for node in tree.body
    )


def new_seeds(count: int = SEEDS) -> tuple[int, ...]:
    """Seeds drawn from a secret, above every seed graded cases use."""
    return tuple(sorted(SEED_FLOOR + secrets.randbelow(1 << 40) for _ in range(count)))


def record(course: Course, exercise: Exercise, seeds: Iterable[int]) -> Pool:
    """The exercise's pool for ``seeds``: the checks run on the solution, the reference recorded."""
    seeds = tuple(seeds)
    module = load_reference(course, exercise)
    path = course.solution_path(exercise)
    solution = Submission(read_source(path), f"solutions/{path.name}")
    cases, functions = {}, set()
    box = Sandbox(exercise.sandbox_limits(), strict=None, hide=hidden_from_sandbox())
    try:
        for seed in seeds:
            recorder = Recorder(module)
            (result,) = grade_many(
                course, exercise, [solution], sandbox=box, seed=seed, reference=recorder
            )
            if result.grader_error or result.score != result.max_score:
                failing = [c.name for c in result.checks if not c.passed]
                why = result.grader_error or ", ".join(failing[:4])
                raise GraderError(f"{exercise.id}, seed {seed}: the solution does not pass ({why})")
            cases[seed] = recorder.cases
            functions |= recorder.functions
    finally:
        box.close()
    return Pool(exercise.id, seeds, tuple(sorted(functions)), cases)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind in "fc":
            return bool(np.allclose(a, b, rtol=RTOL, atol=0.0, equal_nan=True))
        return bool(np.array_equal(a, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float | np.floating):
        return math.isclose(a, b, rel_tol=RTOL) or (math.isnan(a) and math.isnan(b))
    return a == b


def _paired(gone: list[Any], added: list[Any]) -> bool:
    """Whether each call that is gone has a new one with the same result within RTOL.

    A call whose arguments come out of long float computations (a gradient step after
    backward, say) can land on the other side of a key's rounding boundary on another CPU;
    its key changes while its result stays the same. Keys of every other call are stable.
    """
    if len(gone) != len(added):
        return False
    left = list(added)
    for value in gone:
        match = next((i for i, other in enumerate(left) if _same(value, other)), None)
        if match is None:
            return False
        left.pop(match)
    return True


def differences(old: Pool, new: Pool) -> list[str]:
    """How two pools of one exercise differ, one line per difference (empty: the same)."""
    found = []
    if old.seeds != new.seeds:
        return [f"{old.exercise}: seeds differ"]
    if old.functions != new.functions:
        found.append(f"{old.exercise}: recorded functions {old.functions} → {new.functions}")
    for seed in old.seeds:
        before, after = old.cases[seed], new.cases[seed]
        gone = [decode_value(before[k]) for k in before.keys() - after.keys()]
        added = [decode_value(after[k]) for k in after.keys() - before.keys()]
        if not _paired(gone, added):
            found.append(f"{old.exercise}, seed {seed}: {len(gone)} calls gone, {len(added)} new")
            continue
        shared = before.keys() & after.keys()
        changed = [k for k in shared if not _same(decode_value(before[k]), decode_value(after[k]))]
        if changed:
            found.append(f"{old.exercise}, seed {seed}: {len(changed)} results changed")
    return found


def rebuild(course: Course, exercise: Exercise, *, fresh: bool = False) -> Pool:
    """The exercise's pool recorded again, on its committed seeds unless ``fresh``."""
    seeds = load_pool(course, exercise).seeds
    return record(course, exercise, new_seeds() if fresh or not seeds else seeds)
