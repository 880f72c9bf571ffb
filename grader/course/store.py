"""One SQLite file for everything a learner or instructor must not lose.

Exercise progress, hints seen, card reviews and quiz history all live in
``$DLGRADE_HOME/dlgrade.sqlite3`` (default: the platform's user data directory).
Each feature module creates its own tables with ``CREATE TABLE IF NOT EXISTS``
and writes inside ``with transaction(conn):`` so a write is all-or-nothing. The store's
schema version (``PRAGMA user_version``) moves forward through :data:`MIGRATIONS` when the
learner's store is opened, so progress survives upgrades.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs

HOME_ENV = "DLGRADE_HOME"
DB_NAME = "dlgrade.sqlite3"
HOME_UNUSABLE = (
    "{path}: dlgrade cannot keep its data there ({reason}); "
    "set DLGRADE_HOME to a folder you can write"
)
DAMAGED = (
    "{path}: not a readable dlgrade store ({reason}); "
    "move it aside (mv {path} {path}.broken) and run again"
)
NEWER = (
    "{path}: written by a newer dlgrade (store schema {found}, this one knows {known}); "
    "upgrade dlgrade (pip install -U dlgrade)"
)
# Step n takes a store from schema version n - 1 to n. Version 0 is every store written
# before versions existed: its tables are tests/fixtures/store_v0.sql.
MIGRATIONS = (
    """
    CREATE TABLE IF NOT EXISTS solution_seen (
        workspace TEXT NOT NULL, exercise TEXT NOT NULL, at REAL NOT NULL,
        forced INTEGER NOT NULL, PRIMARY KEY (workspace, exercise)
    );
    CREATE TABLE IF NOT EXISTS card_origin (
        key TEXT NOT NULL, exercise TEXT NOT NULL, mistake TEXT NOT NULL, term TEXT NOT NULL,
        added_at TEXT NOT NULL, PRIMARY KEY (key, exercise, mistake)
    );
    CREATE TABLE IF NOT EXISTS quiz_queued (
        question_id TEXT PRIMARY KEY, exercise TEXT NOT NULL, term TEXT NOT NULL,
        queued_at TEXT NOT NULL
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
READ_ONLY = (
    "{path}: cannot write the store ({reason}); make it and its folder writable "
    "(chmod u+w), or set DLGRADE_HOME to a folder you can write"
)


def home_path() -> Path:
    """Where dlgrade's database lives (``$DLGRADE_HOME`` overrides), without creating it."""
    override = os.environ.get(HOME_ENV)
    return Path(override).expanduser() if override else Path(platformdirs.user_data_dir("dlgrade"))


def home() -> Path:
    """The directory holding dlgrade's database, created if needed (StoreError if it can't be)."""
    path = home_path()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _error(HOME_UNUSABLE.format(path=path, reason=exc.strerror or exc)) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise _error(HOME_UNUSABLE.format(path=path, reason="not writable"))
    return path


def _error(message: str) -> Exception:
    from grader.core.errors import StoreError  # click: not on the entry point's path to the sandbox

    return StoreError(message)


def store_error(path: Path, exc: sqlite3.Error) -> Exception:
    """The one-line StoreError, with its fix, for a database that cannot be used."""
    reason = str(exc) or type(exc).__name__
    if any(word in reason for word in ("readonly", "read-only", "unable to open")):
        return _error(READ_ONLY.format(path=path, reason=reason))
    return _error(DAMAGED.format(path=path, reason=reason))


def connect(path: Path | None = None) -> sqlite3.Connection:
    """Open (creating if needed) the database; WAL mode, foreign keys on.

    The learner's store (no ``path``) is migrated to :data:`SCHEMA_VERSION`. A database
    that is damaged, cannot be written or is newer than this dlgrade raises StoreError.
    """
    learner = path is None
    if path is None:
        path = home() / DB_NAME
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise store_error(path, exc) from None
    if learner:
        migrate(conn)
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def ensure_added_tables(conn: sqlite3.Connection) -> None:
    """Create the tables the migrations add, on a store that is not the learner's own."""
    conn.executescript("".join(MIGRATIONS))


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the store forward to SCHEMA_VERSION, one step per version, in one transaction."""
    found = schema_version(conn)
    if found == SCHEMA_VERSION:
        return found
    with transaction(conn):
        found = schema_version(conn)  # another process may have migrated meanwhile
        if found > SCHEMA_VERSION:
            raise _error(NEWER.format(path=_path_of(conn), found=found, known=SCHEMA_VERSION))
        for step in MIGRATIONS[found:]:
            for statement in step.split(";"):
                if statement.strip():
                    conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return found


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block as one immediate transaction: committed whole or not at all.

    A database that turns out damaged or read-only here raises StoreError (exit 2).
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise store_error(_path_of(conn), exc) from None
    try:
        yield conn
    except sqlite3.Error as exc:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise store_error(_path_of(conn), exc) from None
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise store_error(_path_of(conn), exc) from None


def _path_of(conn: sqlite3.Connection) -> Path:
    row = conn.execute("PRAGMA database_list").fetchone()
    return Path(row[2]) if row and row[2] else home_path() / DB_NAME
