"""Where things are, without importing anything heavy (used before the sandbox starts)."""

from __future__ import annotations

import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKS_DIR = PACKAGE_DIR / "checks"


def course_root() -> Path:
    """The folder holding exercises/, solutions/ and glossary/: the clone, or the wheel's copy."""
    clone = PACKAGE_DIR.parent
    if (clone / "exercises" / "info.toml").is_file():
        return clone
    return PACKAGE_DIR / "_course"


def installed_copies() -> list[Path]:
    """Every copy of this package on sys.path (a stale install carries solutions too)."""
    copies = []
    for entry in sys.path:
        candidate = Path(entry or ".") / PACKAGE_DIR.name
        if (candidate / "_course").is_dir() or (candidate / "checks").is_dir():
            copies.append(candidate.resolve())
    return copies


def hidden_from_sandbox() -> list[Path]:
    """What learner code must never see, even where it lies under the Python runtime."""
    from grader import store

    try:
        home = store.home()
    except Exception:  # reported by the command that needs it
        home = store.home_path()
    return [PACKAGE_DIR, course_root(), home, *installed_copies()]
