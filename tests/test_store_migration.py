"""Progress survives upgrades: the store carries a schema version and migrates forward."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import FIXTURES
from test_cli import dlgrade

from grader.core.errors import StoreError
from grader.course import store

V0 = (FIXTURES / "store_v0.sql").read_text()


def old_store(home: Path) -> Path:
    """A store exactly as the schema-0 code left it (tests/fixtures/store_v0.sql)."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / store.DB_NAME
    with sqlite3.connect(path) as conn:
        conn.executescript(V0)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    return path


def test_a_store_of_the_previous_schema_opens_migrated_with_its_progress(tmp_path, dlgrade_home):
    path = old_store(dlgrade_home)
    course = tmp_path / "course"
    assert dlgrade("init", str(course), cwd=tmp_path, home=dlgrade_home).returncode == 0
    # the schema-0 rows name the workspace they were made in
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE attempts SET workspace = ?", (str(course.resolve()),))
        conn.execute("UPDATE hints_seen SET workspace = ?", (str(course.resolve()),))

    done = dlgrade("list", "--json", cwd=course, home=dlgrade_home)
    assert done.returncode == 0, done.stderr
    rows = {r["exercise"]: r for r in json.loads(done.stdout)["exercises"]}
    assert rows["00_weighted_sum"]["passed"] and rows["00_weighted_sum"]["best"] == 26
    assert rows["01_activations"]["best"] == 12 and rows["01_activations"]["hints_seen"] == 2
    assert rows["01_activations"]["current"]

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert conn.execute("SELECT COUNT(*) FROM card_review").fetchone()[0] == 1
    assert {"solution_seen", "card_origin", "quiz_queued", "attempts", "card"} <= tables

    # what the new schema adds works on the migrated store, and the old review log stays
    forced = dlgrade("solution", "00_weighted_sum", cwd=course, home=dlgrade_home)
    assert forced.returncode == 0
    stats = json.loads(dlgrade("cards", "--stats", "--json", cwd=course, home=dlgrade_home).stdout)
    assert stats["reviews_30d"] == 0 and stats["review"] == 1 and stats["from_mistakes"] == {}
    review = dlgrade("quiz", "--review", "--json", cwd=course, home=dlgrade_home, stdin="")
    assert [q["id"] for q in json.loads(review.stdout)["questions"]] == ["bias-role"]


def test_migrating_twice_changes_nothing(dlgrade_home):
    old_store(dlgrade_home)
    conn = store.connect()
    assert store.migrate(conn) == store.SCHEMA_VERSION
    assert store.schema_version(conn) == store.SCHEMA_VERSION
    conn.close()


def test_a_store_from_a_newer_dlgrade_is_refused_in_one_line(tmp_path, dlgrade_home):
    path = old_store(dlgrade_home)
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {store.SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="written by a newer dlgrade"):
        store.connect()
    done = dlgrade("cards", "--stats", cwd=tmp_path, home=dlgrade_home)
    assert done.returncode == 2 and "upgrade dlgrade" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1


def test_a_fresh_store_starts_at_the_current_schema(dlgrade_home):
    conn = store.connect()
    assert store.schema_version(conn) == store.SCHEMA_VERSION
    conn.close()
