"""A synthetic class written straight into a gradebook (no grading): for report.html sizes.

Each student gets a result per exercise built from the course's real check names and
points: most checks pass, some fail with one of a few messages (expected vs got, a hint,
printed output), a few results time out or are missing. Exercise 04 (when named) also gets
a test accuracy and a learning curve. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from pathlib import Path

from grader.classgrade import gradebook
from grader.classgrade.run import missing_result
from grader.course.info import Course, Exercise
from grader.grading.results import CheckResult, ExerciseResult

MESSAGES = (
    "returned the wrong value",
    "the bias is not added",
    "the shape of the result is wrong",
)


def _result(ex: Exercise, seed: int, rng: random.Random, skill: float) -> dict:
    result = ExerciseResult(ex.id, ex.title, ex.file_name, seed=seed, isolation="bubblewrap")
    timeout = rng.random() < 0.02
    for name, points in ex.points.items():
        ok = rng.random() < skill and not timeout
        status = "passed" if ok else ("timeout" if timeout else "failed")
        check = CheckResult(name, name.replace("_", " "), status, points if ok else 0, points)
        if not ok:
            check.message = rng.choice(MESSAGES)
            check.call, check.expected = f"{name}(x)", "1.5"
            check.got = f"{rng.random():.6f}"  # every learner gets a value of their own
            check.hint = "compare with the formula in the article"
            if rng.random() < 0.3:
                check.output = "\n".join(f"debug {i}: {rng.random():.4f}" for i in range(12))
        result.checks.append(check)
    if ex.id.startswith("04"):
        accuracy = min(0.99, max(0.1, rng.gauss(0.93, 0.05)))
        result.artifacts = {
            "accuracy": accuracy,
            "history": {
                "loss": [round(1.5 / (e + 1), 4) for e in range(10)],
                "accuracy": [round(accuracy * (1 - 0.5 / (e + 1)), 4) for e in range(10)],
            },
        }
    return result.to_dict()


def build(out: Path, course: Course, exercises: list[str], students: int, seed: int = 1) -> Path:
    """Write a gradebook of ``students`` × ``exercises`` into ``out``; returns ``out``."""
    rng = random.Random(seed)
    chosen = [course.get(e) for e in exercises]
    settings = gradebook.Settings.new(seed, tuple(e.id for e in chosen), None, {"quick": True})
    conn = gradebook.create(out, settings)
    started = gradebook.start_run(
        conn, {"version": "synthetic", "sandbox": "bubblewrap", "started": gradebook.now()}
    )
    try:
        for n in range(students):
            student = f"student_{n:04d}"
            gradebook.record_student(conn, student, [])
            skill = rng.uniform(0.3, 1.0)
            for ex in chosen:
                own = settings.seed_for(student)
                if rng.random() < 0.05:
                    result = missing_result(ex, own, f"no {ex.file_name} was submitted")
                else:
                    result = _result(ex, own, rng, skill)
                gradebook.commit(conn, student, result, None)
        gradebook.finish_run(conn, started, seconds=float(students), graded=students)
    finally:
        conn.close()
    return out
