"""Optional dependencies: what an exercise needs beyond the core install, and how to get it."""

from __future__ import annotations

import importlib.util

from grader.course.info import Exercise

# A module an exercise imports (info.toml's limits.imports) → the extra that installs it.
EXTRAS = {"keras": ("keras", "TensorFlow"), "tensorflow": ("keras", "TensorFlow")}
MISSING = (
    "{id} needs {what}, which dlgrade installs only on request: pip install 'dlgrade[{extra}]'"
)


def missing(exercise: Exercise) -> str | None:
    """One line saying what to install for ``exercise``, or None when nothing is missing."""
    for module in exercise.limits.imports:
        top = module.split(".")[0]
        try:
            found = importlib.util.find_spec(top) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            extra, what = EXTRAS.get(top, (None, top))
            if extra is None:
                return f"{exercise.id} needs the Python package {top}, which is not installed"
            return MISSING.format(id=exercise.id, what=what, extra=extra)
    return None
