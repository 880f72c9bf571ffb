"""Where things are, without importing anything heavy (used before the sandbox starts)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
CHECKS_DIR = PACKAGE_DIR / "checks"
SOLUTIONS_ENV = "DLGRADE_SOLUTIONS"


def course_root() -> Path:
    """The folder holding exercises/, glossary/ and practice/: the clone, or the wheel's copy.

    A clone also holds solutions/; the wheel does not (see :mod:`grader.grading.practice`).
    """
    clone = PACKAGE_DIR.parent
    if (clone / "exercises" / "info.toml").is_file():
        return clone
    return PACKAGE_DIR / "_course"


def solutions_dir(root: Path) -> Path:
    """The reference solutions of the course at ``root``: $DLGRADE_SOLUTIONS, or its solutions/."""
    chosen = os.environ.get(SOLUTIONS_ENV)
    return Path(chosen).expanduser().resolve() if chosen else root / "solutions"


def installed_copies() -> list[Path]:
    """Every copy of this package on sys.path (an older install may carry solutions)."""
    copies = []
    for entry in sys.path:
        candidate = Path(entry or ".") / PACKAGE_DIR.name
        if (candidate / "_course").is_dir() or (candidate / "checks").is_dir():
            copies.append(candidate.resolve())
    return copies


def hidden_from_sandbox() -> list[Path]:
    """What learner code must never see, even where it lies under the Python runtime."""
    from grader.course import store

    try:
        home = store.home()
    except Exception:  # reported by the command that needs it
        home = store.home_path()
    root = course_root()
    return [PACKAGE_DIR, root, solutions_dir(root), home, *installed_copies()]
