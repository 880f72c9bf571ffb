"""What ``dlgrade check`` and ``dlgrade watch`` do: pick the files, grade them, record progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grader.core.errors import InputError
from grader.course import extras, store
from grader.course.info import Course, Exercise
from grader.course.workspace import Workspace
from grader.grading import progress
from grader.grading.results import ExerciseResult
from grader.sandbox.errors import SandboxError


@dataclass(frozen=True)
class Target:
    """One file to grade against one exercise; ``record`` if it is the learner's own file."""

    exercise: Exercise
    path: Path
    shown: str
    record: bool


def targets(
    course: Course,
    ids: Sequence[str],
    *,
    path: Path | None,
    solution: bool,
    workspace: Callable[[], Workspace],
) -> list[Target]:
    """Resolve the command line into (exercise, file) pairs, in course order."""
    if path is not None:
        if len(ids) > 1 or solution:
            raise InputError("--path grades one file against one exercise")
        exercise = course.get(ids[0]) if ids else course.get(_exercise_from_name(course, path))
        _require_extras([exercise])
        return [Target(exercise, path, str(path), record=False)]
    if ids:
        exercises = [course.get(i) for i in ids]
        _require_extras(exercises)
    else:  # all of them: those whose optional dependencies are absent are left out (see skipped)
        exercises = [e for e in course.exercises if not extras.missing(e)]
    if solution:
        from grader.course.solutions import require_solutions

        require_solutions(course, exercises)
        return [
            Target(e, course.solution_path(e), f"solutions/{e.file_name}", record=False)
            for e in exercises
        ]
    ws = workspace()
    chosen = [(e, ws.graded_path(e)) for e in exercises]
    return [Target(e, path, ws.display(e, path), record=True) for e, path in chosen]


def _require_extras(exercises: Sequence[Exercise]) -> None:
    for exercise in exercises:
        problem = extras.missing(exercise)
        if problem:
            raise InputError(problem)


def skipped(course: Course) -> list[str]:
    """One line per exercise that ``dlgrade check`` (all exercises) leaves out, and why."""
    return [f"skipped {line}" for e in course.exercises if (line := extras.missing(e))]


def _exercise_from_name(course: Course, path: Path) -> str:
    for exercise in course.exercises:
        if path.stem == exercise.id:
            return exercise.id
    if path.suffix.lower() == ".ipynb":  # LMS downloads rename: "Ana_1234_03_backprop (1).ipynb"
        named = [e.id for e in course.exercises if e.id.lower() in path.name.lower()]
        if len(named) == 1:
            return named[0]
        named = _tagged_exercises(course, path)
        if len(named) == 1:
            return named[0]
        if named:
            raise InputError(
                f"{path.name} holds cells tagged for {', '.join(named)}: name one, "
                f"e.g. `dlgrade check {named[0]} --path FILE`"
            )
    raise InputError(
        f"{path.name}: cannot tell which exercise this file is for; "
        "name it, e.g. `dlgrade check 02_perceptron --path FILE`"
    )


def _tagged_exercises(course: Course, path: Path) -> list[str]:
    """The course's exercises that a notebook's code cells are tagged for (its JSON only)."""
    from grader.grading import notebooks

    limit = notebooks.MAX_NOTEBOOK_MB << 20
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError:
        return []
    if len(raw) > limit:
        return []
    tags = notebooks.tagged(raw)
    return [e.id for e in course.exercises if e.id in tags]


def run(
    course: Course,
    chosen: list[Target],
    *,
    workspace_key: str | None,
    seed: int | None = None,
    options: dict[str, Any] | None = None,
    budget: float | None = None,
    on_event: Callable[[Any], None] | None = None,
) -> Iterator[tuple[Target, ExerciseResult]]:
    """Grade each target in turn, recording attempts on the learner's own files."""
    from grader.grading.engine import grade  # pytest: imported once there is work to do

    conn = store.connect() if workspace_key and any(t.record for t in chosen) else None
    try:
        for target in chosen:
            try:
                result = grade(
                    course,
                    target.exercise,
                    target.path,
                    seed=seed,
                    display_name=target.shown,
                    options=options,
                    budget=budget,
                    on_event=on_event,
                )
            except SandboxError as exc:
                result = ExerciseResult(
                    target.exercise.id, target.exercise.title, target.shown, grader_error=str(exc)
                )
            if conn is not None and target.record:
                progress.record(conn, workspace_key, result)
                result.flashcards_added = _mistakes_to_cards(conn, result)
            yield target, result
    finally:
        if conn is not None:
            conn.close()


def _mistakes_to_cards(conn: Any, result: ExerciseResult) -> list[dict]:
    """Known mistakes' terms into the flashcard deck (fsrs imported only when there are some)."""
    if not any(c.mistake and c.glossary and not c.passed for c in result.checks):
        return []
    from grader.study import mistake_cards

    return [a.to_dict() for a in mistake_cards.record(conn, result, datetime.now(UTC))]


def exit_code(results: Sequence[ExerciseResult]) -> int:
    """0 when everything passed, 1 when a check failed, 3 on a grader error."""
    if any(r.grader_error for r in results):
        return 3
    return 0 if results and all(r.passed for r in results) else 1
