"""A known mistake becomes study: its term's cards come due now, its questions join --review,
and the FSRS review log holds only the reviews the learner made."""

from __future__ import annotations

import json
import sqlite3
import tomllib
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, patched_solution
from test_cli import dlgrade

VARIANTS = tomllib.loads((FIXTURES / "mistakes.toml").read_text())
BIAS_QUESTIONS = {"sigmoid-neuron-output", "relu-of-negative-sum", "bias-role"}
BIAS_QUESTIONS |= {"weighted-sum-ingredients"}
SOON = "strftime('%Y-%m-%dT%H:%M:%S', 'now', '+1 minute')"  # due now, as sortable UTC text


@pytest.fixture
def ws(tmp_path: Path, dlgrade_home: Path) -> Path:
    assert dlgrade("init", "course", cwd=tmp_path, home=dlgrade_home).returncode == 0
    return tmp_path / "course"


def write(ws: Path, exercise: str, variant: str | None) -> None:
    source = (
        patched_solution(exercise, VARIANTS[exercise][variant]["patch"])
        if variant
        else (ROOT / "solutions" / f"{exercise}.py").read_text()
    )
    (ws / "exercises" / f"{exercise}.py").write_text(source)


def rows(home: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(home / "dlgrade.sqlite3") as conn:
        return conn.execute(sql).fetchall()


def test_a_known_mistake_makes_its_terms_cards_due_now_without_a_review(ws, dlgrade_home):
    write(ws, "00_weighted_sum", "bias_forgotten")
    done = dlgrade("check", "00_weighted_sum", cwd=ws, home=dlgrade_home)
    assert done.returncode == 1
    assert done.stdout.count("added 'bias' to your flashcards") == 1

    cards = dict(
        rows(
            dlgrade_home,
            f"SELECT key, due <= {SOON} FROM card",
        )
    )
    assert cards == {"bias:fwd": 1, "bias:rev": 1}
    assert rows(dlgrade_home, "SELECT COUNT(*) FROM card_review") == [(0,)]

    stats = json.loads(dlgrade("cards", "--stats", "--json", cwd=ws, home=dlgrade_home).stdout)
    assert stats["due_now"] == 2 and stats["reviews_30d"] == 0
    origin = [{"exercise": "00_weighted_sum", "mistake": "bias_forgotten"}]
    assert stats["from_mistakes"] == {"bias:fwd": origin, "bias:rev": origin}
    shown = dlgrade("cards", "--stats", cwd=ws, home=dlgrade_home).stdout
    assert "bias:fwd: from your mistake in 00_weighted_sum (bias_forgotten)" in shown

    # the same mistake again: nothing new to say, the cards are due already
    again = dlgrade("check", "00_weighted_sum", "--json", cwd=ws, home=dlgrade_home)
    assert json.loads(again.stdout)["flashcards_added"] == []


def test_the_json_names_the_cards_and_questions(ws, dlgrade_home):
    write(ws, "00_weighted_sum", "bias_forgotten")
    done = dlgrade("check", "00_weighted_sum", "--json", cwd=ws, home=dlgrade_home)
    [added] = json.loads(done.stdout)["flashcards_added"]
    assert added["term"] == "bias" and added["mistake"] == "bias_forgotten"
    assert added["cards"] == ["bias:fwd", "bias:rev"]
    assert set(added["questions"]) == BIAS_QUESTIONS


def test_its_questions_join_quiz_review_until_answered_right(ws, dlgrade_home):
    write(ws, "00_weighted_sum", "bias_forgotten")
    dlgrade("check", "00_weighted_sum", cwd=ws, home=dlgrade_home)
    review = dlgrade("quiz", "--review", "--json", cwd=ws, home=dlgrade_home, stdin="")
    asked = {q["id"] for q in json.loads(review.stdout)["questions"]}
    assert asked == BIAS_QUESTIONS
    # a right answer takes a question out of review (choices are shown in the seed's order)
    from grader.study.content import load_content

    right = {c.id for c in load_content().questions["bias-role"].choices if c.correct}
    form = ("quiz", "--ids", "bias-role", "--seed", "7", "--json")
    order = json.loads(dlgrade(*form, cwd=ws, home=dlgrade_home).stdout)["questions"][0]["order"]
    answer = ",".join("ABCDEFGH"[i] for i, choice in enumerate(order) if choice in right)
    graded = json.loads(dlgrade(*form, cwd=ws, home=dlgrade_home, stdin=answer + "\n").stdout)
    assert graded["score"] == 1
    review = dlgrade("quiz", "--review", "--json", cwd=ws, home=dlgrade_home, stdin="")
    left = {q["id"] for q in json.loads(review.stdout)["questions"]}
    assert left == BIAS_QUESTIONS - {"bias-role"}


def test_a_card_already_scheduled_later_is_brought_forward_keeping_its_fsrs_state(ws, dlgrade_home):
    # a real review first puts the card into the future
    from datetime import UTC, datetime

    from fsrs import Rating

    from grader.course.store import connect
    from grader.study.cards import review

    conn = connect()
    card = review(conn, "bias:fwd", Rating.Good, datetime.now(UTC))
    state = card.state
    conn.close()
    assert card.due > datetime.now(UTC)
    write(ws, "00_weighted_sum", "bias_forgotten")
    dlgrade("check", "00_weighted_sum", cwd=ws, home=dlgrade_home)
    [(fsrs, due_now)] = rows(
        dlgrade_home,
        f"SELECT fsrs, due <= {SOON} FROM card WHERE key = 'bias:fwd'",
    )
    assert due_now == 1 and json.loads(fsrs)["state"] == state.value
    assert rows(dlgrade_home, "SELECT COUNT(*) FROM card_review") == [(1,)]


def test_a_pass_or_an_unknown_failure_adds_nothing(ws, dlgrade_home):
    write(ws, "00_weighted_sum", "no_length_check")  # fails with no known mistake
    done = dlgrade("check", "00_weighted_sum", "--json", cwd=ws, home=dlgrade_home)
    assert json.loads(done.stdout)["flashcards_added"] == []
    write(ws, "00_weighted_sum", None)
    done = dlgrade("check", "00_weighted_sum", "--json", cwd=ws, home=dlgrade_home)
    assert json.loads(done.stdout)["passed"] and json.loads(done.stdout)["flashcards_added"] == []
    assert rows(dlgrade_home, "SELECT COUNT(*) FROM card_origin") == [(0,)]


def test_grading_the_reference_or_another_path_adds_nothing(ws, dlgrade_home, tmp_path):
    other = tmp_path / "00_weighted_sum.py"
    other.write_text(
        patched_solution("00_weighted_sum", VARIANTS["00_weighted_sum"]["bias_forgotten"]["patch"])
    )
    done = dlgrade("check", "--path", str(other), "--json", cwd=ws, home=dlgrade_home)
    assert json.loads(done.stdout)["flashcards_added"] == []
