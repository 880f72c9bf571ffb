"""Concept quizzes: reproducible selection, grading of every question type, missed questions.

Questions are picked and ordered by sha256 of (seed, question id), so a seed names one
exam form on every Python version. Attempts and missed questions live in SQLite.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from grader.course.store import ensure_added_tables, transaction
from grader.study.answers import Unreadable, asks_percent, matches, parse_number, truth
from grader.study.content import Content, load_content, unknown
from grader.study.schema import (
    EXERCISE_IDS,
    LETTERS,
    ChoiceQuestion,
    NumericQuestion,
    Question,
    ShortQuestion,
    TrueFalseQuestion,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS quiz_attempt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    question_id TEXT NOT NULL,
    answer TEXT NOT NULL,
    correct INTEGER NOT NULL,
    mode TEXT NOT NULL,
    answered_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS quiz_missed (
    question_id TEXT PRIMARY KEY,
    missed_at TEXT NOT NULL
);
"""


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the quiz tables (and the review queue mistakes feed) if they do not exist yet."""
    conn.executescript(SCHEMA)
    ensure_added_tables(conn)


def order_key(seed: int, question_id: str) -> str:
    """The sort key that places a question in the form named by ``seed``."""
    return hashlib.sha256(f"{seed}:{question_id}".encode()).hexdigest()


def select(
    content: Content,
    *,
    seed: int,
    topic: str | None = None,
    exercise: str | None = None,
    n: int | None = None,
    ids: Sequence[str] | None = None,
    among: set[str] | None = None,
) -> list[Question]:
    """``ids`` exactly, in that order; else the questions matching the filters, by seed."""
    if ids:
        missing = [qid for qid in ids if qid not in content.questions]
        if missing:
            raise unknown("question id", missing[0], content.questions)
        return [content.questions[qid] for qid in ids]
    if topic is not None and topic not in content.topics:
        raise unknown("topic", topic, content.topics)
    if exercise is not None and exercise not in EXERCISE_IDS:
        raise unknown("exercise", exercise, EXERCISE_IDS)
    chosen = [
        q
        for q in content.questions.values()
        if (topic is None or q.topic == topic)
        and (exercise is None or exercise in q.exercises)
        and (among is None or q.id in among)
    ]
    chosen.sort(key=lambda q: order_key(seed, q.id))
    return chosen if n is None else chosen[:n]


def _letters(question: ChoiceQuestion, text: str) -> set[str]:
    parts = [p for p in re.split(r"[\s,;]+", text.strip().upper()) if p]
    if len(parts) == 1 and parts[0].isalpha():
        parts = list(parts[0])
    valid = LETTERS[: len(question.choices)]
    if not parts or any(len(p) != 1 or p not in valid for p in parts):
        raise ValueError(f"answer with letters {valid[0]}-{valid[-1]}")
    if question.type == "single" and len(set(parts)) != 1:
        raise ValueError("answer with one letter")
    return set(parts)


def short_answers(question: ShortQuestion, content: Content | None) -> list[str]:
    """The accepted answers plus the name and aliases of every glossary term they name."""
    accepted = list(question.accepted)
    for term in content.terms.values() if content else ():
        names = [term.term, *term.aliases]
        if any(matches(name, question.accepted) for name in names):
            accepted += [name for name in names if name not in accepted]
    return accepted


def _close(a: Decimal, b: float, tolerance: float) -> bool:
    return abs(a - Decimal(str(b))) <= Decimal(str(tolerance))


@dataclass
class Outcome:
    """One asked question: what was given, whether it was right, and why not."""

    question: Question
    given: str | None
    correct: bool = False
    feedback: list[str] = field(default_factory=list)
    chosen: list[str] | None = None
    note: str | None = None

    @property
    def order(self) -> list[str] | None:
        """Choice ids in the order shown (choice questions only)."""
        return (
            [c.id for c in self.question.choices]
            if isinstance(self.question, ChoiceQuestion)
            else None
        )

    def to_dict(self) -> dict[str, Any]:
        q = self.question
        return {
            "id": q.id,
            "type": q.type,
            "topic": q.topic,
            "answer": self.given,
            "answered": self.given is not None,
            "correct": self.correct,
            "order": self.order,
            "chosen": self.chosen,
            "note": self.note,
            "expected": expected(q),
            "feedback": self.feedback,
            "explanation": q.explanation,
            "source": q.sources[0],
            "sources": q.sources,
        }


def check(question: Question, text: str, content: Content | None = None) -> tuple[bool, list[str]]:
    """Grade an answer: (right?, why-wrong messages). Unreadable -> ValueError.

    ``content`` adds the glossary aliases of the accepted short answers.
    """
    if isinstance(question, TrueFalseQuestion):
        right = truth(text) == question.answer
        return right, [] if right else [question.feedback]
    if isinstance(question, NumericQuestion):
        value = parse_number(text, percent=asks_percent(question.prompt), prompt=question.prompt)
        if _close(value, question.answer, question.tolerance):
            return True, []
        hits = [
            w.feedback for w in question.wrong_values if _close(value, w.value, question.tolerance)
        ]
        return False, hits
    if isinstance(question, ShortQuestion):
        right = matches(text, short_answers(question, content))
        return right, [] if right else [question.feedback]
    chosen = _letters(question, text)
    correct = set(question.correct_letters())
    why = [
        f"{LETTERS[i]}: {choice.feedback}"
        for i, choice in enumerate(question.choices)
        if LETTERS[i] in chosen and not choice.correct
    ]
    if question.type == "multiple" and correct - chosen:
        why.append(f"you left out {', '.join(sorted(correct - chosen))}")
    return chosen == correct, why


def grade(question: Question, text: str | None, content: Content | None = None) -> Outcome:
    """Grade one raw answer line; None means the learner never answered."""
    if text is None:
        return Outcome(question, None)
    try:
        right, why = check(question, text, content)
    except Unreadable as exc:
        return Outcome(question, text.strip(), feedback=[str(exc)], note=str(exc))
    except ValueError as exc:
        note = f"could not read '{text.strip()}': {exc}"
        return Outcome(question, text.strip(), feedback=[note], note=note)
    chosen = None
    if isinstance(question, ChoiceQuestion):
        letters = _letters(question, text)
        pairs = zip(LETTERS, question.choices, strict=False)
        chosen = [c.id for letter, c in pairs if letter in letters]
    return Outcome(question, text.strip(), right, why, chosen=chosen)


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.10g}"


def expected(question: Question) -> str:
    """The right answer, written for a learner."""
    if isinstance(question, TrueFalseQuestion):
        return "true" if question.answer else "false"
    if isinstance(question, NumericQuestion):
        within = f" (± {_number(question.tolerance)})" if question.tolerance else ""
        return _number(question.answer) + within
    if isinstance(question, ShortQuestion):
        return " / ".join(question.accepted)
    return ", ".join(
        f"{letter}. {question.choices[LETTERS.index(letter)].text}"
        for letter in question.correct_letters()
    )


class Stop(Exception):
    """Raised by an ``ask`` function when the learner quits (``q``, Ctrl-C)."""


@dataclass
class QuizResult:
    """A quiz: the form's seed, its mode, every outcome in order, and whether it was cut short.

    An interrupted quiz holds only the questions asked before the interruption.
    """

    seed: int
    mode: str
    outcomes: list[Outcome]
    interrupted: bool = False
    planned: int = 0

    @property
    def score(self) -> int:
        return sum(o.correct for o in self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "mode": self.mode,
            "score": self.score,
            "total": len(self.outcomes),
            "answered": sum(o.given is not None for o in self.outcomes),
            "interrupted": self.interrupted,
            "planned": self.planned,
            "questions": [o.to_dict() for o in self.outcomes],
        }


def exam_sheet(result: QuizResult, student: str, now: datetime) -> dict[str, Any]:
    """The result file an instructor collects after an exam."""
    return {
        "student": student,
        "timestamp": now.isoformat(),
        "seed": result.seed,
        "questions": [
            {
                "id": o.question.id,
                "answer": o.given,
                "correct": o.correct,
                "order": o.order,
                "chosen": o.chosen,
            }
            for o in result.outcomes
        ],
        "score": result.score,
        "total": len(result.outcomes),
        "interrupted": result.interrupted,
    }


def record(conn: sqlite3.Connection, outcome: Outcome, mode: str, now: datetime) -> None:
    """Store an answered question; a miss is remembered until answered right."""
    if outcome.given is None:
        return
    qid = outcome.question.id
    with transaction(conn):
        conn.execute(
            "INSERT INTO quiz_attempt (question_id, answer, correct, mode, answered_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (qid, outcome.given, int(outcome.correct), mode, now.isoformat()),
        )
        if outcome.correct:
            conn.execute("DELETE FROM quiz_missed WHERE question_id = ?", (qid,))
            conn.execute("DELETE FROM quiz_queued WHERE question_id = ?", (qid,))
        else:
            conn.execute(
                "INSERT OR REPLACE INTO quiz_missed (question_id, missed_at) VALUES (?, ?)",
                (qid, now.isoformat()),
            )


def missed(conn: sqlite3.Connection) -> set[str]:
    """Ids of questions to review: missed, or queued by a coding mistake, and not right since."""
    from grader.study.mistake_cards import queued_questions

    ensure_schema(conn)
    rows = conn.execute("SELECT question_id FROM quiz_missed")
    return {row["question_id"] for row in rows} | queued_questions(conn)


def run_quiz(
    conn: sqlite3.Connection,
    questions: Sequence[Question],
    ask: Callable[[int, Question], str | None],
    *,
    seed: int,
    mode: str,
    now: datetime,
    on_outcome: Callable[[Outcome], None] | None = None,
    content: Content | None = None,
) -> QuizResult:
    """Ask each question and grade it against ``content``'s glossary.

    Once ``ask`` returns None (end of piped input) the rest count as unanswered, unshown.
    When it raises Stop or the learner presses Ctrl-C, the quiz ends there: the result holds
    only the questions asked, and says it was interrupted.
    """
    ensure_schema(conn)
    result = QuizResult(seed, mode, [], planned=len(questions))
    finished = False
    for index, question in enumerate(questions):
        try:
            text = None if finished else ask(index, question)
        except (Stop, KeyboardInterrupt):
            result.interrupted = True
            break
        outcome = grade(question, text, content)
        record(conn, outcome, mode, now)
        result.outcomes.append(outcome)
        if on_outcome and not finished:
            on_outcome(outcome)
        finished = text is None
    return result


def quiz_mastery(
    conn: sqlite3.Connection, content: Content | None = None
) -> dict[str, tuple[int, int]]:
    """Per topic: (questions right at their latest attempt, questions in the topic)."""
    content = content or load_content()
    mastery = _mastery(conn, content, lambda q: (q.topic,))
    return {topic: mastery[topic] for topic in [*content.topics, *mastery] if topic in mastery}


def exercise_mastery(
    conn: sqlite3.Connection, content: Content | None = None
) -> dict[str, tuple[int, int]]:
    """Per exercise: (its questions right at their latest attempt, its questions)."""
    return _mastery(conn, content or load_content(), lambda q: q.exercises)


def _mastery(
    conn: sqlite3.Connection, content: Content, groups: Callable[[Question], Iterable[str]]
) -> dict[str, tuple[int, int]]:
    """Per group of questions: (right at their latest attempt, how many)."""
    latest = _latest(conn)
    mastery: dict[str, tuple[int, int]] = {}
    for question in content.questions.values():
        for group in groups(question):
            right, total = mastery.get(group, (0, 0))
            mastery[group] = (right + latest.get(question.id, False), total + 1)
    return mastery


def answered(conn: sqlite3.Connection) -> set[str]:
    """Ids of every question answered at least once, right or wrong."""
    return set(_latest(conn))


def _latest(conn: sqlite3.Connection) -> dict[str, bool]:
    ensure_schema(conn)
    return {
        row["question_id"]: bool(row["correct"])
        for row in conn.execute(
            "SELECT question_id, correct FROM quiz_attempt"
            " WHERE id IN (SELECT MAX(id) FROM quiz_attempt GROUP BY question_id)"
        )
    }
