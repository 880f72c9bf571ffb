"""Learner progress in SQLite: attempts, best score and hints seen, per workspace and exercise."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
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
    return Progress(
        row["n"],
        row["best"] or 0,
        last["score"] if last else None,
        row["last_at"],
        bool(row["passed"]),
        hints["shown"] if hints else 0,
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
                }
                for e, p in self.exercises
            ],
            "quiz": {t: {"right": r, "total": n} for t, (r, n) in self.quiz.items()},
            "cards": self.cards,
        }


def overview(course: Course, workspace: str) -> Overview:
    """Everything ``dlgrade list`` shows, read from the one SQLite store."""
    from grader.study.cards import cards_summary
    from grader.study.quiz import quiz_mastery

    conn = store.connect()
    try:
        rows = [(e, get(conn, workspace, e.id)) for e in course.exercises]
        return Overview(rows, quiz_mastery(conn), cards_summary(conn, datetime.now(UTC)))
    finally:
        conn.close()
