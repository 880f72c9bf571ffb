"""Learner progress in SQLite: attempts, best score and hints seen, per workspace and exercise."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from grader.course import store
from grader.course.info import Course, Exercise
from grader.course.store import transaction
from grader.grading.results import ExerciseResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    workspace TEXT NOT NULL, exercise TEXT NOT NULL, at REAL NOT NULL,
    score INTEGER NOT NULL, max_score INTEGER NOT NULL, passed INTEGER NOT NULL,
    failed_checks TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_by_exercise ON attempts (workspace, exercise);
CREATE TABLE IF NOT EXISTS hints_seen (
    workspace TEXT NOT NULL, exercise TEXT NOT NULL, shown INTEGER NOT NULL,
    PRIMARY KEY (workspace, exercise)
);
"""


@dataclass(frozen=True)
class Progress:
    """What the learner has done on one exercise."""

    attempts: int = 0
    best: int = 0
    last: int | None = None
    last_at: float | None = None
    passed: bool = False
    hints_seen: int = 0
    solution: str | None = None  # "seen" after a pass, "forced" when shown before one


def _ready(conn: sqlite3.Connection) -> sqlite3.Connection:
    conn.executescript(SCHEMA)
    return conn


def record(conn: sqlite3.Connection, workspace: str, result: ExerciseResult) -> None:
    """Store one graded attempt (grader errors are not the learner's attempts)."""
    if result.grader_error:
        return
    failed = ",".join(c.name for c in result.checks if not c.passed)
    with transaction(_ready(conn)):
        conn.execute(
            "INSERT INTO attempts VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                workspace,
                result.exercise,
                time.time(),
                result.score,
                result.max_score,
                int(result.passed),
                failed,
            ),
        )


def get(conn: sqlite3.Connection, workspace: str, exercise: str) -> Progress:
    """The progress on one exercise."""
    row = (
        _ready(conn)
        .execute(
            "SELECT COUNT(*) n, MAX(score) best, MAX(passed) passed, MAX(at) last_at FROM attempts "
            "WHERE workspace = ? AND exercise = ?",
            (workspace, exercise),
        )
        .fetchone()
    )
    last = conn.execute(
        "SELECT score FROM attempts WHERE workspace = ? AND exercise = ? ORDER BY at DESC LIMIT 1",
        (workspace, exercise),
    ).fetchone()
    hints = conn.execute(
        "SELECT shown FROM hints_seen WHERE workspace = ? AND exercise = ?", (workspace, exercise)
    ).fetchone()
    store.ensure_added_tables(conn)
    seen = conn.execute(
        "SELECT forced FROM solution_seen WHERE workspace = ? AND exercise = ?",
        (workspace, exercise),
    ).fetchone()
    return Progress(
        row["n"],
        row["best"] or 0,
        last["score"] if last else None,
        row["last_at"],
        bool(row["passed"]),
        hints["shown"] if hints else 0,
        None if seen is None else "forced" if seen["forced"] else "seen",
    )


def record_solution_seen(
    conn: sqlite3.Connection, workspace: str, exercise: str, *, forced: bool
) -> None:
    """Note that the reference was shown; a view forced before a pass stays noted as forced."""
    store.ensure_added_tables(conn)
    with transaction(conn):
        conn.execute(
            "INSERT INTO solution_seen VALUES (?, ?, ?, ?) ON CONFLICT (workspace, exercise) "
            "DO UPDATE SET forced = MAX(forced, excluded.forced)",
            (workspace, exercise, time.time(), int(forced)),
        )


def next_hint(conn: sqlite3.Connection, workspace: str, exercise: str, available: int) -> int:
    """Reveal one more hint (up to ``available``); returns how many are now shown."""
    with transaction(_ready(conn)):
        row = conn.execute(
            "SELECT shown FROM hints_seen WHERE workspace = ? AND exercise = ?",
            (workspace, exercise),
        ).fetchone()
        shown = min((row["shown"] if row else 0) + 1, available)
        conn.execute(
            "INSERT INTO hints_seen VALUES (?, ?, ?) ON CONFLICT (workspace, exercise) "
            "DO UPDATE SET shown = excluded.shown",
            (workspace, exercise, shown),
        )
    return shown


@dataclass(frozen=True)
class Overview:
    """One course, seen whole: exercises, quiz mastery per topic and cards due."""

    exercises: list[tuple[Exercise, Progress]]
    quiz: dict[str, tuple[int, int]]
    cards: dict[str, int]
    concepts: dict[str, tuple[int, int]] = field(default_factory=dict)  # per exercise
    cards_due: dict[str, int] = field(default_factory=dict)  # per exercise
    current: str | None = None  # where the learner stopped: the first exercise not passed

    def to_dict(self) -> dict:
        return {
            "exercises": [
                {
                    "exercise": e.id,
                    "title": e.title,
                    "max_score": e.max_score,
                    "best": p.best,
                    "attempts": p.attempts,
                    "passed": p.passed,
                    "last_attempt": p.last_at,
                    "hints_seen": p.hints_seen,
                    "concepts": dict(
                        zip(("right", "total"), self.concepts.get(e.id, (0, 0)), strict=True)
                    ),
                    "cards_due": self.cards_due.get(e.id, 0),
                    "solution": p.solution,
                    "current": e.id == self.current,
                }
                for e, p in self.exercises
            ],
            "current": self.current,
            "quiz": {t: {"right": r, "total": n} for t, (r, n) in self.quiz.items()},
            "cards": self.cards,
        }


def overview(course: Course, workspace: str) -> Overview:
    """Everything ``dlgrade list`` shows, read from the one SQLite store."""
    from grader.study.cards import cards_summary, due_by_term
    from grader.study.content import load_content
    from grader.study.quiz import exercise_mastery, quiz_mastery

    content, now = load_content(), datetime.now(UTC)
    conn = store.connect()
    try:
        rows = [(e, get(conn, workspace, e.id)) for e in course.exercises]
        due = due_by_term(conn, now)
        return Overview(
            rows,
            quiz_mastery(conn, content),
            cards_summary(conn, now, content),
            concepts=exercise_mastery(conn, content),
            cards_due={e.id: sum(due.get(t, 0) for t in e.glossary) for e in course.exercises},
            current=next((e.id for e, p in rows if not p.passed), None),
        )
    finally:
        conn.close()
