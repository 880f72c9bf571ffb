"""Glossary flashcards in both directions, scheduled with FSRS and kept in SQLite.

A term gives two cards: ``<term id>:fwd`` (term -> definition) and ``<term id>:rev``
(definition -> term). FSRS wants integer card ids, so the ``card`` table maps our string
keys to integers; each review updates the card and appends to ``card_review`` atomically.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fsrs import Card, Rating, Scheduler, State

from grader.course.store import transaction
from grader.study.content import Content, load_content
from grader.study.schema import Term

DIRECTIONS = ("fwd", "rev")
LEARN_AHEAD = timedelta(minutes=20)  # learning cards due this soon come back in the session
RATINGS = {"again": Rating.Again, "hard": Rating.Hard, "good": Rating.Good, "easy": Rating.Easy}
RATING_NAMES = {rating: name for name, rating in RATINGS.items()}
FUZZING = True  # tests turn this off: fuzzing draws from the module-level random

SCHEMA = """
CREATE TABLE IF NOT EXISTS card (
    card_id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    fsrs TEXT NOT NULL,
    state INTEGER NOT NULL,
    due TEXT NOT NULL,
    introduced TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS card_review (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    card_id INTEGER NOT NULL REFERENCES card(card_id),
    rating INTEGER NOT NULL,
    reviewed_at TEXT NOT NULL,
    duration_ms INTEGER
);
CREATE INDEX IF NOT EXISTS card_due ON card(due);
"""


def iso(moment: datetime) -> str:
    """A timezone-aware moment as sortable UTC text."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _day_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the card tables if they do not exist yet."""
    conn.executescript(SCHEMA)


def parse_rating(text: str) -> Rating | None:
    """'again'/'hard'/'good'/'easy' (any case) or 1-4 -> Rating; anything else -> None."""
    word = text.strip().lower()
    if word in RATINGS:
        return RATINGS[word]
    return Rating(int(word)) if word in ("1", "2", "3", "4") else None


@dataclass(frozen=True)
class Flashcard:
    """One side-pair of a term: front is asked, back is revealed."""

    key: str
    term: Term
    direction: str

    @property
    def front(self) -> str:
        return self.term.term if self.direction == "fwd" else _masked(self.term)

    @property
    def back(self) -> str:
        return self.term.definition if self.direction == "fwd" else self.term.term


def _masked(term: Term) -> str:
    """The definition with the term's own names blanked, so it does not give itself away."""
    names = sorted({term.term, *term.aliases}, key=len, reverse=True)
    pattern = "|".join(re.escape(name) for name in names if len(name) > 2)
    if not pattern:
        return term.definition
    return re.sub(rf"\b({pattern})\b", "____", term.definition, flags=re.IGNORECASE)


def flashcards(content: Content) -> dict[str, Flashcard]:
    """Every card of the content, forward cards first, each in content order."""
    return {
        f"{term.id}:{direction}": Flashcard(f"{term.id}:{direction}", term, direction)
        for direction in DIRECTIONS
        for term in content.terms.values()
    }


def _rows(conn: sqlite3.Connection, known: dict[str, Flashcard]) -> list[sqlite3.Row]:
    ensure_schema(conn)
    rows = conn.execute("SELECT * FROM card ORDER BY due, card_id").fetchall()
    return [row for row in rows if row["key"] in known]


def session_queue(
    conn: sqlite3.Connection,
    content: Content,
    now: datetime,
    *,
    new_limit: int = 10,
    limit: int | None = None,
) -> list[str]:
    """Due cards (oldest first), then new ones up to what is left of today's new-card limit."""
    cards = flashcards(content)
    rows = _rows(conn, cards)
    due = [row["key"] for row in rows if row["due"] <= iso(now)]
    today = sum(row["introduced"] >= iso(_day_start(now)) for row in rows)
    seen = {row["key"] for row in rows}
    fresh = [key for key in cards if key not in seen][: max(0, new_limit - today)]
    queue = due + fresh
    return queue if limit is None else queue[:limit]


def load_card(conn: sqlite3.Connection, key: str) -> Card | None:
    """The stored FSRS card for ``key``, or None if it was never reviewed."""
    ensure_schema(conn)
    row = conn.execute("SELECT fsrs FROM card WHERE key = ?", (key,)).fetchone()
    return Card.from_dict(json.loads(row["fsrs"])) if row else None


def review(
    conn: sqlite3.Connection,
    key: str,
    rating: Rating,
    now: datetime,
    *,
    scheduler: Scheduler | None = None,
    duration_ms: int | None = None,
) -> Card:
    """Rate one card at ``now``: schedule it with FSRS and store card and log in one write."""
    scheduler = scheduler or Scheduler(enable_fuzzing=FUZZING)
    ensure_schema(conn)
    with transaction(conn):
        row = conn.execute("SELECT card_id, fsrs FROM card WHERE key = ?", (key,)).fetchone()
        if row is None:
            cursor = conn.execute(
                "INSERT INTO card (key, fsrs, state, due, introduced) VALUES (?, '{}', 1, ?, ?)",
                (key, iso(now), iso(now)),
            )
            card = Card(card_id=cursor.lastrowid, due=now)
        else:
            card = Card.from_dict(json.loads(row["fsrs"]))
        card, log = scheduler.review_card(card, rating, now, duration_ms)
        conn.execute(
            "UPDATE card SET fsrs = ?, state = ?, due = ? WHERE card_id = ?",
            (json.dumps(card.to_dict()), card.state.value, iso(card.due), card.card_id),
        )
        conn.execute(
            "INSERT INTO card_review (card_id, rating, reviewed_at, duration_ms) VALUES (?,?,?,?)",
            (card.card_id, log.rating.value, iso(now), duration_ms),
        )
    return card


@dataclass
class Session:
    """What happened in one review session."""

    reviews: list[dict[str, Any]] = field(default_factory=list)
    left: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"reviewed": len(self.reviews), "left": self.left, "reviews": self.reviews}


Asker = Callable[[Flashcard], tuple[Rating, int | None] | None]


def run_session(
    conn: sqlite3.Connection,
    content: Content,
    ask: Asker,
    clock: Callable[[], datetime],
    *,
    new_limit: int = 10,
    limit: int | None = None,
) -> Session:
    """Show queued cards until the queue, the limit or the answers run out.

    ``ask`` returns (rating, milliseconds) or None to stop. A card that comes due again
    within LEARN_AHEAD (a learning step) goes back at the end of the queue.
    """
    from grader.study.mistake_cards import origins

    cards, came_from = flashcards(content), origins(conn)
    queue = session_queue(conn, content, clock(), new_limit=new_limit, limit=limit)
    session = Session()
    while queue and (limit is None or len(session.reviews) < limit):
        answer = ask(cards[queue[0]])
        if answer is None:
            break
        key, (rating, duration) = queue.pop(0), answer
        card = review(conn, key, rating, clock(), duration_ms=duration)
        session.reviews.append(
            {
                "card": key,
                "rating": RATING_NAMES[rating],
                "state": card.state.name,
                "due": iso(card.due),
                "from_mistakes": came_from.get(key, []),
            }
        )
        if card.due <= clock() + LEARN_AHEAD:
            queue.append(key)
    session.left = len(queue)
    return session


def card_stats(conn: sqlite3.Connection, content: Content, now: datetime) -> dict[str, Any]:
    """Due today/this week, new/learning/review counts, and retention over 30 days."""
    cards = flashcards(content)
    rows = _rows(conn, cards)
    tomorrow = iso(_day_start(now) + timedelta(days=1))
    week = iso(now + timedelta(days=7))
    since = iso(now - timedelta(days=30))
    ratings = [
        r["rating"]
        for r in conn.execute(
            "SELECT card.key, rating FROM card_review JOIN card USING (card_id)"
            " WHERE reviewed_at > ? AND reviewed_at <= ?",
            (since, iso(now)),
        )
        if r["key"] in cards
    ]
    passed = sum(rating != Rating.Again.value for rating in ratings)
    from grader.study.mistake_cards import origins

    return {
        "due_now": sum(row["due"] <= iso(now) for row in rows),
        "due_today": sum(row["due"] < tomorrow for row in rows),
        "due_week": sum(row["due"] <= week for row in rows),
        "new": len(cards) - len(rows),
        "learning": sum(row["state"] != State.Review.value for row in rows),
        "review": sum(row["state"] == State.Review.value for row in rows),
        "reviews_30d": len(ratings),
        "retention": round(passed / len(ratings), 3) if ratings else None,
        "from_mistakes": {k: v for k, v in origins(conn).items() if k in cards},
    }


def due_by_term(conn: sqlite3.Connection, now: datetime) -> dict[str, int]:
    """Glossary term id -> how many of its cards are due now."""
    ensure_schema(conn)
    due: dict[str, int] = {}
    for row in conn.execute("SELECT key FROM card WHERE due <= ?", (iso(now),)):
        term = row["key"].rsplit(":", 1)[0]
        due[term] = due.get(term, 0) + 1
    return due


def cards_summary(
    conn: sqlite3.Connection, now: datetime, content: Content | None = None
) -> dict[str, int]:
    """For `dlgrade list`: cards due now, due this week, and never seen."""
    stats = card_stats(conn, content or load_content(), now)
    return {"due_now": stats["due_now"], "due_week": stats["due_week"], "new": stats["new"]}
