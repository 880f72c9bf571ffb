"""The gradebook: one SQLite file per class run, the only source of every export.

Each (student, exercise) result is committed in its own transaction the moment it is
known, so a killed run loses nothing finished and ``--resume`` grades only what is
missing. Settings that make a run reproducible (seed, exercises, budget, options) are
stored on the first run and reused on resume. Grader errors are kept apart: they are
never a learner's zero and stay "to do" for the next resume.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grader.core.errors import InputError
from grader.core.untrusted import clip, plain
from grader.course import store

FILE_NAME = "gradebook.sqlite"
EXISTS = "{path} already holds a gradebook: add --resume to finish it, or choose another --out"
NOT_FOUND = "{path}: no gradebook to resume (run without --resume first)"
CONFLICT = "--{name} {given} differs from the gradebook's {stored}: drop it to resume"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS students (student TEXT PRIMARY KEY, notes TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    student TEXT NOT NULL,
    exercise TEXT NOT NULL,
    status TEXT NOT NULL,
    score INTEGER NOT NULL,
    max_score INTEGER NOT NULL,
    sha256 TEXT,
    result TEXT NOT NULL,
    PRIMARY KEY (student, exercise)
);
CREATE TABLE IF NOT EXISTS grader_errors (
    student TEXT NOT NULL,
    exercise TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (student, exercise)
);
"""


@dataclass(frozen=True)
class Settings:
    """What makes a class run reproducible; stored once, reused by --resume.

    Every student's seed is derived from ``secret`` and their id (:meth:`seed_for`), so
    feedback can show a student their own seed without telling them a classmate's. The
    secret is random unless ``--seed`` was given (then it is derived from that seed, so
    the same --seed grades the same way); it lives only here and is never printed.
    A gradebook without a secret gives every student ``seed``.
    """

    seed: int | None
    exercises: tuple[str, ...]
    budget: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    secret: str = ""

    @classmethod
    def new(
        cls, seed: int | None, exercises: tuple[str, ...], budget: float | None, options: dict
    ) -> Settings:
        secret = secrets.token_hex(32) if seed is None else f"seed:{seed}"
        return cls(seed, exercises, budget, options, secret)

    def seed_for(self, student: str) -> int:
        """``student``'s own seed: enough to repeat their run, useless for anyone else's."""
        if not self.secret:
            return self.seed
        key = self.secret.encode()
        digest = hmac.new(key, student.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return int.from_bytes(digest.digest()[:4], "big") & 0x7FFFFFFF

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "exercises": list(self.exercises)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        data = json.loads(text)
        return cls(
            data["seed"],
            tuple(data["exercises"]),
            data["budget"],
            data["options"],
            data.get("secret", ""),
        )


def status_of(result: dict[str, Any]) -> str:
    """One word for an exercise result: missing, timeout, crashed, passed or failed."""
    statuses = {c["status"] for c in result["checks"]}
    for word in ("missing", "timeout", "crashed"):
        if word in statuses:
            return word
    return "passed" if result["passed"] else "failed"


def sha256(source: bytes) -> str:
    return hashlib.sha256(source).hexdigest()


def create(out: Path, settings: Settings) -> sqlite3.Connection:
    """A new gradebook in ``out``; refuses to touch an existing one.

    A folder created here is private (0700): grades are personal data, and without
    bubblewrap learner code could otherwise read them.
    """
    path = out / FILE_NAME
    if path.exists():
        raise InputError(EXISTS.format(path=path))
    if not out.exists():
        out.mkdir(parents=True)
        out.chmod(0o700)
    conn = store.connect(path)
    conn.executescript(SCHEMA)
    with store.transaction(conn):
        conn.execute("INSERT INTO meta VALUES ('settings', ?)", (settings.to_json(),))
    return conn


def reopen(out: Path, **given: Any) -> tuple[sqlite3.Connection, Settings]:
    """The gradebook in ``out`` and its settings; explicit options must agree with them."""
    path = out / FILE_NAME
    if not path.is_file():
        raise InputError(NOT_FOUND.format(path=path))
    conn = store.connect(path)
    conn.executescript(SCHEMA)
    found = settings(conn)
    if found is None:
        raise InputError(NOT_FOUND.format(path=path))
    for name, value in given.items():
        stored = getattr(found, name)
        if name == "seed" and stored is None:
            stored = "(none: a secret one per student)"
        if value is not None and value != stored:
            shown = ",".join(stored) if isinstance(stored, tuple) else stored
            raise InputError(CONFLICT.format(name=name, given=value, stored=shown))
    return conn, found


def settings(conn: sqlite3.Connection) -> Settings | None:
    """The settings stored on the first run, or None if this is not a gradebook."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'settings'").fetchone()
    return Settings.from_json(row["value"]) if row else None


def record_student(conn: sqlite3.Connection, student: str, notes: list[str]) -> None:
    with store.transaction(conn):
        conn.execute("INSERT OR REPLACE INTO students VALUES (?, ?)", (student, json.dumps(notes)))


def commit(
    conn: sqlite3.Connection, student: str, result: dict[str, Any], digest: str | None
) -> None:
    """Store one finished (student, exercise) result in its own transaction.

    Only a result with checks is a score; anything else is refused (ValueError), so that
    no grader failure can reach an export as a learner's zero.
    """
    problem = unscorable(result)
    if problem:
        raise ValueError(f"not a score for {student}: {problem}")
    result = plain(result)
    with store.transaction(conn):
        conn.execute(
            "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                student,
                result["exercise"],
                status_of(result),
                result["score"],
                result["max_score"],
                digest,
                json.dumps(result, sort_keys=True),
            ),
        )
        conn.execute(
            "DELETE FROM grader_errors WHERE student = ? AND exercise = ?",
            (student, result["exercise"]),
        )


def unscorable(result: Any) -> str | None:
    """Why ``result`` (a result dict from a worker) cannot be stored as a score, or None."""
    if type(result) is not dict:
        return "not a result"
    if result.get("grader_error"):
        return str(result["grader_error"])
    checks = result.get("checks")
    if type(checks) is not list or not checks:
        return "no check results"
    if not all(type(c) is dict and type(c.get("points")) is int for c in checks):
        return "malformed check results"
    points = [(c["points"], c.get("max_points")) for c in checks]
    if result.get("score") != sum(p for p, _ in points) or result.get("max_score") != sum(
        m for _, m in points if type(m) is int
    ):
        return "the score does not add up"
    if type(result.get("exercise")) is not str:
        return "no exercise"
    return None


def record_grader_error(conn: sqlite3.Connection, student: str, exercise: str, msg: str) -> None:
    with store.transaction(conn):
        conn.execute(
            "INSERT OR REPLACE INTO grader_errors VALUES (?, ?, ?)",
            (student, exercise, clip(msg, 2000)),
        )


def done(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    """The (student, exercise) pairs that already have a result."""
    return {
        (r["student"], r["exercise"]) for r in conn.execute("SELECT student, exercise FROM results")
    }


def students(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Every student in the gradebook with the notes from discovery, sorted by id."""
    rows = conn.execute("SELECT student, notes FROM students").fetchall()
    return {r["student"]: json.loads(r["notes"]) for r in sorted(rows, key=lambda r: r[0])}


def results(conn: sqlite3.Connection) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(student, exercise, status, result dict) for every stored result."""
    for row in conn.execute("SELECT student, exercise, status, result FROM results"):
        yield row["student"], row["exercise"], row["status"], json.loads(row["result"])


def grader_errors(conn: sqlite3.Connection) -> dict[tuple[str, str], str]:
    rows = conn.execute("SELECT student, exercise, message FROM grader_errors")
    return {(r["student"], r["exercise"]): r["message"] for r in rows}


def start_run(conn: sqlite3.Connection, info: dict[str, Any]) -> int:
    """Note a run starting (version, sandbox, date...); returns its index for :func:`finish_run`.

    A run whose ``finished`` stays empty was interrupted: the HTML report says so.
    """
    found = runs(conn)
    found.append({**info, "finished": None})
    _store_runs(conn, found)
    return len(found) - 1


def finish_run(conn: sqlite3.Connection, index: int, **done: Any) -> None:
    """Mark run ``index`` finished (now, UTC), with its figures (wall time, results graded)."""
    found = runs(conn)
    found[index].update({"finished": now(), **done})
    _store_runs(conn, found)


def now() -> str:
    """The time a run starts or ends, as the report shows it."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def runs(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every run on this gradebook, first first (empty for a gradebook that never noted one)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'runs'").fetchone()
    return json.loads(row["value"]) if row else []


def _store_runs(conn: sqlite3.Connection, found: list[dict[str, Any]]) -> None:
    with store.transaction(conn):
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('runs', ?)", (json.dumps(found),))
