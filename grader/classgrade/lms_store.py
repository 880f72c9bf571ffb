"""What the LMS said about each student, kept in the gradebook beside the results.

One row per student (layout, LMS and SIS ids, name, e-mail, section, submission time,
files graded under another name, roster status) and, in ``meta``, the download's layout
and the late policy, so ``dlgrade report`` and ``--resume`` rebuild the same exports.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from grader.core.untrusted import plain
from grader.course import store

SCHEMA = "CREATE TABLE IF NOT EXISTS lms (student TEXT PRIMARY KEY, info TEXT NOT NULL);"


def _ready(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


def record(conn: sqlite3.Connection, student: str, info: dict[str, Any]) -> None:
    _ready(conn)
    with store.transaction(conn):
        conn.execute(
            "INSERT OR REPLACE INTO lms VALUES (?, ?)",
            (student, json.dumps(plain(info), sort_keys=True)),
        )


def infos(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """Every student's LMS record (empty for a gradebook written without one); read-only."""
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lms'")
    if found.fetchone() is None:
        return {}
    return {r["student"]: json.loads(r["info"]) for r in conn.execute("SELECT * FROM lms")}


def set_meta(conn: sqlite3.Connection, key: str, value: Any) -> None:
    with store.transaction(conn):
        conn.execute(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"lms.{key}", json.dumps(plain(value)))
        )


def meta(conn: sqlite3.Connection, key: str) -> Any:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (f"lms.{key}",)).fetchone()
    return json.loads(row["value"]) if row else None
