"""FSRS flashcards: scheduling after each rating, daily new-card limit, piped ratings, storage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from fsrs import Rating, State

import grader.study.cards as cards_module
import grader.study.content as content_module
from grader.cli.study import cards
from grader.course.store import connect
from grader.study.cards import (
    card_stats,
    cards_summary,
    flashcards,
    load_card,
    parse_rating,
    review,
    session_queue,
)
from grader.study.content import load_content

ROOT = Path(__file__).resolve().parent.parent
VALID = Path(__file__).resolve().parent / "fixtures" / "content" / "valid"
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
RUN_CARDS = (
    "import sys; from pathlib import Path; import grader.study.content as c; "
    "c._bundled_dir = lambda: Path(sys.argv[1]); "
    "from grader.cli.study import cards; cards(sys.argv[2:], prog_name='dlgrade cards')"
)


@pytest.fixture(autouse=True)
def fixture_content(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(content_module.CONTENT_ENV, raising=False)
    monkeypatch.delenv("DLGRADE_NOW", raising=False)
    monkeypatch.setattr(content_module, "_bundled_dir", lambda: VALID)
    monkeypatch.setattr(cards_module, "FUZZING", False)


@pytest.fixture
def conn():
    connection = connect()
    yield connection
    connection.close()


def run(*args: str, stdin: str = ""):
    return CliRunner().invoke(cards, list(args), input=stdin)


def test_every_term_gives_a_forward_and_a_reverse_card() -> None:
    deck = flashcards(load_content())
    assert len(deck) == 10
    assert deck["weight:fwd"].front == "weight"
    assert deck["weight:rev"].back == "weight"
    assert "epoch" not in deck["epoch:rev"].front.lower()


def test_good_moves_the_due_date_forward_and_further_each_time(conn) -> None:
    now, gaps = T0, []
    for _ in range(3):
        card = review(conn, "weight:fwd", Rating.Good, now)
        gaps.append(card.due - now)
        now = card.due
    assert gaps[0] == timedelta(minutes=10)
    assert gaps[0] < gaps[1] < gaps[2]
    assert card.state == State.Review


def test_again_sends_a_review_card_back_to_relearning_in_10_minutes(conn) -> None:
    now = T0
    for _ in range(3):
        now = review(conn, "bias:fwd", Rating.Good, now).due
    card = review(conn, "bias:fwd", Rating.Again, now)
    assert card.state == State.Relearning
    assert card.due - now == timedelta(minutes=10)


def test_state_survives_a_reconnect(conn) -> None:
    card = review(conn, "epoch:rev", Rating.Good, T0)
    conn.close()
    again = connect()
    stored = load_card(again, "epoch:rev")
    assert stored is not None
    assert (stored.due, stored.state, stored.card_id) == (card.due, card.state, card.card_id)
    again.close()


def test_due_cards_come_before_new_ones(conn) -> None:
    course = load_content()
    review(conn, "epoch:fwd", Rating.Again, T0)
    queue = session_queue(conn, course, T0 + timedelta(hours=1), new_limit=2)
    assert queue[0] == "epoch:fwd"
    assert len(queue) == 2


def session(when: datetime, *args: str, stdin: str) -> dict:
    """One piped review session at ``when``, as its JSON outcome."""
    result = run(*args, "--now", when.isoformat(), "--json", stdin=stdin)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_new_card_limit_counts_cards_introduced_today() -> None:
    first = session(T0, "--new", "2", stdin="good\n" * 20)
    assert len({r["card"] for r in first["reviews"]}) == 2
    assert session(T0 + timedelta(hours=3), "--new", "2", stdin="good\n")["reviewed"] == 0
    next_day = session(T0 + timedelta(days=1), "--new", "2", stdin="1\n4\n")
    assert [r["rating"] for r in next_day["reviews"]] == ["again", "easy"]


def test_a_learning_card_comes_back_within_the_session() -> None:
    result = session(T0, "--new", "1", stdin="good\ngood\n")
    assert [r["card"] for r in result["reviews"]] == ["weight:fwd", "weight:fwd"]
    assert [r["state"] for r in result["reviews"]] == ["Learning", "Review"]


@pytest.mark.parametrize(("text", "rating"), [("again", 1), ("Hard", 2), (" good ", 3), ("4", 4)])
def test_ratings_read_as_words_or_numbers(text: str, rating: int) -> None:
    assert parse_rating(text) == Rating(rating)


def test_an_unknown_rating_is_a_one_line_error() -> None:
    result = run("--now", T0.isoformat(), stdin="good\nperfect\n")
    assert result.exit_code == 2
    assert "'perfect' is not a rating" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_end_of_input_stops_the_session_cleanly() -> None:
    assert session(T0, stdin="")["reviewed"] == 0


def test_limit_caps_the_number_of_reviews() -> None:
    assert session(T0, "--limit", "3", stdin="good\n" * 10)["reviewed"] == 3


def test_stats_count_due_cards_and_retention(conn) -> None:
    review(conn, "weight:fwd", Rating.Good, T0)
    review(conn, "bias:fwd", Rating.Again, T0)
    review(conn, "bias:fwd", Rating.Good, T0 + timedelta(minutes=1))
    result = run("--stats", "--json", "--now", (T0 + timedelta(hours=1)).isoformat())
    stats = json.loads(result.stdout)
    assert stats["new"] == 8
    assert stats["learning"] == 2 and stats["review"] == 0
    assert stats["due_today"] == 2 and stats["due_week"] == 2
    assert stats["retention"] == pytest.approx(2 / 3, abs=1e-3)


def test_cards_summary_for_the_course_list(conn) -> None:
    review(conn, "weight:fwd", Rating.Good, T0)
    summary = cards_summary(conn, T0, load_content())
    assert summary == {"due_now": 0, "due_week": 1, "new": 9}
    assert card_stats(conn, load_content(), T0 + timedelta(minutes=10))["due_now"] == 1


def test_help_explains_that_hard_is_a_pass() -> None:
    assert "still a pass" in run("--help").stdout


def test_reviews_persist_across_processes(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DLGRADE_NOW": T0.isoformat()}

    def cli(*args: str, stdin: str = "") -> dict:
        command = [sys.executable, "-c", RUN_CARDS, str(VALID), *args, "--json"]
        done = subprocess.run(
            command, input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    assert cli("--new", "3", stdin="easy\neasy\neasy\n")["reviewed"] == 3
    stats = cli("--stats")
    assert stats["new"] == 7 and stats["review"] == 3
