"""A known mistake becomes study: its glossary term's flashcards come due, its questions queue.

When a check fails with a known mistake (``exercises/info.toml`` names its glossary term),
that term's cards are made due now by moving their due date (a card never seen is created
as FSRS creates a new card), so the review log in ``card_review`` holds only real reviews.
The questions tied to both the exercise and the term join ``dlgrade quiz --review``.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from fsrs import Card

from grader.course.store import ensure_added_tables, transaction
from grader.study.cards import DIRECTIONS, ensure_schema, iso

if TYPE_CHECKING:  # a result is read, never built, here
    from grader.grading.results import ExerciseResult


@dataclass(frozen=True)
class Added:
    """One term a mistake put in front of the learner: its cards and questions."""

    term: str
    name: str
    exercise: str
    mistake: str
    cards: tuple[str, ...]
    questions: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "term": self.term,
            "name": self.name,
            "exercise": self.exercise,
            "mistake": self.mistake,
            "cards": list(self.cards),
            "questions": list(self.questions),
        }


def mistakes_in(result: ExerciseResult) -> dict[str, str]:
    """Glossary term -> the first known mistake naming it, among the failed checks."""
    found: dict[str, str] = {}
    for check in result.checks:
        if not check.passed and check.mistake and check.glossary:
            found.setdefault(check.glossary, check.mistake)
    return found


def _due_now(conn: sqlite3.Connection, key: str, now: datetime) -> bool:
    """Make one card due now without a review; True if that changed anything."""
    row = conn.execute("SELECT card_id, fsrs, due FROM card WHERE key = ?", (key,)).fetchone()
    if row is None:
        cursor = conn.execute(
            "INSERT INTO card (key, fsrs, state, due, introduced) VALUES (?, '{}', 1, ?, ?)",
            (key, iso(now), iso(now)),
        )
        card = Card(card_id=cursor.lastrowid, due=now)
    elif row["due"] > iso(now):
        card = Card.from_dict(json.loads(row["fsrs"]))
        card.due = now
    else:
        return False
    conn.execute(
        "UPDATE card SET fsrs = ?, state = ?, due = ? WHERE card_id = ?",
        (json.dumps(card.to_dict()), card.state.value, iso(card.due), card.card_id),
    )
    return True


def record(conn: sqlite3.Connection, result: ExerciseResult, now: datetime) -> list[Added]:
    """Schedule the cards and questions of every known mistake in ``result``.

    Returns the terms whose cards were not already due (those worth telling the learner).
    """
    found = mistakes_in(result)
    if not found:
        return []
    from grader.study.content import load_content
    from grader.study.quiz import ensure_schema as ensure_quiz

    content = load_content()
    ensure_schema(conn)
    ensure_quiz(conn)
    ensure_added_tables(conn)
    added = []
    with transaction(conn):
        for term_id, mistake in found.items():
            term = content.terms.get(term_id)
            if term is None:
                continue
            keys = tuple(f"{term_id}:{d}" for d in DIRECTIONS)
            changed = [_due_now(conn, key, now) for key in keys]
            for key in keys:
                conn.execute(
                    "INSERT OR IGNORE INTO card_origin VALUES (?, ?, ?, ?, ?)",
                    (key, result.exercise, mistake, term_id, iso(now)),
                )
            questions = tuple(
                q.id
                for q in content.questions.values()
                if result.exercise in q.exercises and term_id in q.terms
            )
            for qid in questions:
                conn.execute(
                    "INSERT OR IGNORE INTO quiz_queued VALUES (?, ?, ?, ?)",
                    (qid, result.exercise, term_id, iso(now)),
                )
            if any(changed):
                added.append(Added(term_id, term.term, result.exercise, mistake, keys, questions))
    return added


def origins(conn: sqlite3.Connection) -> dict[str, list[dict[str, str]]]:
    """Card key -> the mistakes that added it (exercise, mistake), oldest first."""
    ensure_added_tables(conn)
    found: dict[str, list[dict[str, str]]] = {}
    for row in conn.execute("SELECT * FROM card_origin ORDER BY added_at, exercise"):
        found.setdefault(row["key"], []).append(
            {"exercise": row["exercise"], "mistake": row["mistake"]}
        )
    return found


def queued_questions(conn: sqlite3.Connection) -> set[str]:
    """Questions a mistake queued for ``quiz --review`` and not yet answered right."""
    ensure_added_tables(conn)
    return {row["question_id"] for row in conn.execute("SELECT question_id FROM quiz_queued")}
