"""A learner's file as bytes, and what is wrong with it before anything runs.

Kept apart from :mod:`grader.grading.engine` (which imports pytest) so that commands can check
a file before the grader's heavy imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.core.errors import FILE_MISSING, FILE_TOO_LARGE, InputError

MAX_SOURCE_KB = 512


def read_source(path: Path) -> bytes:
    """The learner file's bytes, or an InputError if it is missing or too large."""
    try:
        if path.stat().st_size > MAX_SOURCE_KB << 10:
            raise InputError(FILE_TOO_LARGE.format(path=path, limit=MAX_SOURCE_KB))
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(FILE_MISSING.format(path=path)) from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a Python file") from None


@dataclass(frozen=True)
class LearnerFile:
    """The Python source to grade, and for a notebook the map from its lines to cells."""

    source: bytes
    cells: Any = None  # grader.grading.notebooks.CellMap


def read_learner_file(
    path: Path, shown: str | None = None, exercise: str | None = None
) -> LearnerFile:
    """A ``.py`` file's bytes, or a notebook's code cells for ``exercise`` (see
    :mod:`grader.grading.notebooks`)."""
    if path.suffix.lower() != ".ipynb":
        return LearnerFile(read_source(path))
    from grader.grading import notebooks  # nbformat and IPython: only for notebooks

    found = notebooks.read(path, shown, exercise)
    data = found.source.encode("utf-8")
    if len(data) > MAX_SOURCE_KB << 10:
        raise InputError(f"{shown or path}: its code cells are larger than {MAX_SOURCE_KB} KiB")
    return LearnerFile(data, found.cells)


def source_problem(raw: bytes) -> tuple[int, str] | None:
    """A problem visible without running anything: empty file or invalid UTF-8 (line, text)."""
    if not raw.strip():
        return 1, "the file is empty: start from the stub (dlgrade reset)"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return line, f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8"
    return None
