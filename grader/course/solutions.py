"""Whether this install holds the reference solutions, and the one-line refusal where not.

A clone of the course holds ``solutions/`` (or ``$DLGRADE_SOLUTIONS`` names a folder);
the wheel and the student kit do not, and grade on practice cases (:mod:`grader.grading.practice`).
Kept free of numpy: ``dlgrade check --solution`` consults it before the heavy imports.
"""

from __future__ import annotations

from collections.abc import Iterable

from grader.core.errors import InputError
from grader.course.info import Course, Exercise

DEFAULT_HOME = "the solutions/ folder of the course's repository"
NO_SOLUTIONS = (
    "{id}: this copy of dlgrade holds no reference solutions (they stay with the "
    "instructor); the course's solutions live in {where}"
)


def has_solution(course: Course, exercise: Exercise) -> bool:
    return course.solution_path(exercise).is_file()


def no_solutions_message(course: Course, exercise: Exercise) -> str:
    return NO_SOLUTIONS.format(id=exercise.id, where=course.solutions_home or DEFAULT_HOME)


def require_solutions(course: Course, exercises: Iterable[Exercise]) -> None:
    """Refuse (InputError, exit 2) when an exercise's reference solution is absent."""
    for exercise in exercises:
        if not has_solution(course, exercise):
            raise InputError(no_solutions_message(course, exercise))


def solution_source(course: Course, exercise: Exercise) -> str:
    """The reference solution's text, or the one-line refusal where none is installed."""
    require_solutions(course, [exercise])
    return course.solution_path(exercise).read_text(encoding="utf-8")
