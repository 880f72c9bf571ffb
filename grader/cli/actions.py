"""What the single commands and the course loop both do: hints, resets, solutions, where to go.

``dlgrade hint``, ``reset``, ``solution`` and ``list`` call these, and so do the loop's keys
(:mod:`grader.cli.loop`); each returns plain data, and :mod:`grader.grading.report` renders it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.core.errors import InputError
from grader.course import store
from grader.course.info import Exercise
from grader.course.solutions import has_solution, no_solutions_message
from grader.course.workspace import Workspace
from grader.grading import progress

NOT_PASSED = (
    "{id}: the solution opens once your file passes (dlgrade check {id}); "
    "`dlgrade solution {id} --force` shows it now and notes that in your progress"
)


def next_hint(ws: Workspace, exercise: Exercise, *, show_all: bool = False) -> int:
    """Reveal one more hint (or all); returns how many are shown."""
    if show_all:
        return len(exercise.hints)
    with store.connect() as conn:
        return progress.next_hint(conn, str(ws.root), exercise.id, len(exercise.hints))


def reset(ws: Workspace, exercise: Exercise) -> Path | None:
    """Restore the stub; the learner's file is kept in .dlgrade/backups (returned)."""
    return ws.reset(exercise)


def reset_all(ws: Workspace) -> dict[str, Path | None]:
    """Restore every stub, keeping a backup of each changed file."""
    return {exercise.id: ws.reset(exercise) for exercise in ws.course.exercises}


@dataclass(frozen=True)
class Solution:
    """The reference next to the learner's file, and whether the learner passed first."""

    exercise: Exercise
    reference: str
    learner: str
    forced: bool

    def to_dict(self) -> dict:
        return {
            "exercise": self.exercise.id,
            "reference": self.reference,
            "learner": self.learner,
            "forced": self.forced,
        }


def solution(ws: Workspace, exercise: Exercise, *, force: bool = False) -> Solution:
    """The reference once ``exercise`` passed, or with ``force`` (recorded); else InputError."""
    course = ws.course
    if not has_solution(course, exercise):
        raise InputError(no_solutions_message(course, exercise))
    with store.connect() as conn:
        passed = progress.get(conn, str(ws.root), exercise.id).passed
        if not passed and not force:
            raise InputError(NOT_PASSED.format(id=exercise.id))
        progress.record_solution_seen(conn, str(ws.root), exercise.id, forced=not passed)
    path = ws.path(exercise)
    learner = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    reference = course.solution_path(exercise).read_text(encoding="utf-8")
    return Solution(exercise, reference, learner, forced=not passed)


def current(ws: Workspace, exercises: list[Exercise]) -> Exercise:
    """Where the learner stopped: the first exercise not passed yet (the last if all are)."""
    with store.connect() as conn:
        for exercise in exercises:
            if not progress.get(conn, str(ws.root), exercise.id).passed:
                return exercise
    return exercises[-1]
