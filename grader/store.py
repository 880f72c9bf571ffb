"""One SQLite file for everything a learner or instructor must not lose.

Exercise progress, hints seen, card reviews and quiz history all live in
``$DLGRADE_HOME/dlgrade.sqlite3`` (default: the platform's user data directory).
Each feature module creates its own tables with ``CREATE TABLE IF NOT EXISTS``
and writes inside ``with transaction(conn):`` so a write is all-or-nothing.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs

HOME_ENV = "DLGRADE_HOME"
DB_NAME = "dlgrade.sqlite3"


def home() -> Path:
    """The directory holding dlgrade's database (``$DLGRADE_HOME`` overrides)."""
    override = os.environ.get(HOME_ENV)
    path = Path(override).expanduser() if override else Path(platformdirs.user_data_dir("dlgrade"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def connect(path: Path | None = None) -> sqlite3.Connection:
    """Open (creating if needed) the database; WAL mode, foreign keys on."""
    path = path or home() / DB_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block as one immediate transaction: committed whole or not at all."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
