"""The concept gate: with ``concept_gate = true`` in info.toml's ``[course]``, ``check`` grades
an exercise's code only after its concept questions were each answered once, right or wrong.

At a terminal ``check`` asks the open questions first (as ``dlgrade quiz`` does); elsewhere
it refuses in one line and names the quiz command that opens the gate.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from grader.core.errors import InputError
from grader.course.info import Course, Exercise

GATED = (
    "{id}: answer its {n} concept question(s) first, right or wrong "
    "(dlgrade quiz --exercise {id} -n {n}); the course grades the code after that"
)


def pending(exercise: Exercise) -> list[str]:
    """Ids of the exercise's concept questions never answered yet."""
    from grader.course.store import connect
    from grader.study.content import load_content
    from grader.study.quiz import answered

    content = load_content()
    conn = connect()
    try:
        done = answered(conn)
    finally:
        conn.close()
    return [
        q.id for q in content.questions.values() if exercise.id in q.exercises and q.id not in done
    ]


def require(course: Course, exercises: Sequence[Exercise], *, ask: bool) -> None:
    """Open the gate of each exercise (asking its questions if ``ask``), or InputError."""
    if not course.concept_gate:
        return
    for exercise in exercises:
        open_ids = pending(exercise)
        if open_ids and ask:
            _ask(exercise, open_ids)
            open_ids = pending(exercise)
        if open_ids:
            raise InputError(GATED.format(id=exercise.id, n=len(open_ids)))


def _ask(exercise: Exercise, ids: list[str]) -> None:
    """The quiz's own flow, at a prompt, on just these questions."""
    from grader import __version__
    from grader.cli.quiz import _ask as asker  # the prompt `dlgrade quiz` uses
    from grader.course.store import connect
    from grader.study import report
    from grader.study.choices import shown_all
    from grader.study.content import load_content
    from grader.study.quiz import run_quiz, select

    content, seed = load_content(), secrets.randbelow(1_000_000)
    chosen = shown_all(select(content, seed=seed, ids=ids), seed)
    report.quiz_header(
        f"dlgrade {__version__} · {exercise.id}: {len(chosen)} concept question(s) "
        "before the code is graded"
    )
    conn = connect()
    try:
        result = run_quiz(
            conn,
            chosen,
            asker(True, False, len(chosen), content),
            seed=seed,
            mode="gate",
            now=datetime.now(UTC),
            on_outcome=lambda outcome: report.outcome(outcome, content),
            content=content,
        )
    finally:
        conn.close()
    report.quiz_summary(result, content, details=False)
