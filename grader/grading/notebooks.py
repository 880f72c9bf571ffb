"""A learner's Jupyter notebook as the Python file it stands for, read as untrusted data.

The notebook is JSON: its size is checked before anything parses it, nbformat reads it (as
format 4, converting older ones), and its code cells are joined in order. IPython-only lines
(``%matplotlib``, ``!pip install``, ``obj?``) are found by IPython's own input transformer and
become ``pass`` with a note, so the line count of every cell is kept. Nothing in the notebook
runs here: the joined source goes to the sandbox exactly as a ``.py`` file would, and
:class:`CellMap` turns its line numbers back into "cell 4, line 2" in the feedback.

Cells tagged ``dlgrade-skip`` (the worked examples and the check cell of a generated
notebook) are not graded. A code cell tagged with an exercise (``03_backprop`` or
``dlgrade:03_backprop``) belongs to that exercise alone, so one notebook can hold several
exercises; untagged code cells are shared by all of them. nbformat and IPython are the
``jupyter`` extra, imported only here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.core.errors import FILE_MISSING, InputError
from grader.core.untrusted import for_terminal

SUFFIX = ".ipynb"
MAX_NOTEBOOK_MB = 16
MAX_CELLS = 2000
SKIP_TAG = "dlgrade-skip"
TAG_PREFIX = "dlgrade:"
EXERCISE_ID = re.compile(r"\d{2}_[A-Za-z0-9_]+")
ESCAPES = "%!?/,;"
LOOKAHEAD = 50
MAX_NOTES = 20
# IPython's transformer reads a whole cell again for each magic in it (quadratic): a notebook
# is converted only when magics x lines stays under this (about half a second at most).
MAX_IPYTHON_WORK = 5_000
FUTURE = "from __future__ import "
OURS = ("%load_ext grader", "%dlgrade", "%reload_ext grader")
NEEDS_EXTRA = "reading notebooks needs the jupyter extra: pip install 'dlgrade[jupyter]'"


class NotebookError(InputError):
    """A notebook that cannot be graded; the message is one line naming the file."""


def is_notebook(path: Path | str) -> bool:
    """Whether ``path`` names a notebook (by its suffix)."""
    return str(path).lower().endswith(SUFFIX)


@dataclass
class CellMap:
    """Where each line of the joined source came from: (cell number, line in that cell)."""

    lines: list[tuple[int, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def where(self, line: int) -> str | None:
        """``line`` of the joined source as "cell C, line L" (cells counted from 1)."""
        if 1 <= line <= len(self.lines):
            cell, inner = self.lines[line - 1]
            return f"cell {cell}, line {inner}"
        return None

    def relabel(self, text: str | None, shown: str) -> str | None:
        """``text`` with "FILE:N" and "line N" of the joined source told as notebook cells."""
        if not text:
            return text

        def file_line(match: re.Match) -> str:
            where = self.where(int(match.group(1)))
            return f"{shown} ({where})" if where else match.group(0)

        def bare_line(match: re.Match) -> str:
            where = self.where(int(match.group(1)))
            return where or match.group(0)

        text = re.sub(re.escape(shown) + r":(\d+)", file_line, text)
        text = re.sub(
            r"\(" + re.escape(shown) + r", line (\d+)\)", lambda m: f"({bare_line(m)})", text
        )
        return re.sub(r"\bline (\d+)(?= of your file|, in )", bare_line, text)

    def _message(self, text: str | None, shown: str) -> str:
        return (self.relabel(text, shown) or "").replace(" of your file)", ")")

    def relabel_dict(self, result: dict, shown: str) -> dict:
        """A result as plain data (``ExerciseResult.to_dict``), its messages told in cells."""
        out = dict(result)
        out["load_error"] = self.relabel(out.get("load_error"), shown)
        out["checks"] = [
            {**c, "message": self._message(c.get("message"), shown)}
            for c in out.get("checks", [])
            if isinstance(c, dict)
        ]
        return out

    def relabel_result(self, result: Any) -> None:
        """Every message of an ExerciseResult, told in notebook cells; the notes added."""
        result.load_error = self.relabel(result.load_error, result.file)
        for check in result.checks:
            check.message = self._message(check.message, result.file)
        notes = getattr(result, "notes", None)
        if notes is not None:
            notes.extend(n for n in self.notes if n not in notes)


@dataclass
class Extracted:
    """The code a notebook stands for, and where each of its lines came from."""

    source: str
    cells: CellMap


def _load_libraries() -> tuple[Any, Any]:
    try:
        import nbformat
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        raise InputError(NEEDS_EXTRA) from None
    return nbformat, TransformerManager


def _text(value: Any) -> str | None:
    """A cell field that should be text: a str, or a list of str (nbformat allows both)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return None


def _tags(cell: dict) -> list[str]:
    meta = cell.get("metadata")
    tags = meta.get("tags") if isinstance(meta, dict) else None
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def exercise_tags(cell: Any) -> set[str]:
    """The exercises a cell is tagged for: ``03_backprop`` and ``dlgrade:03_backprop`` alike."""
    if not isinstance(cell, dict):
        return set()
    names = (tag.removeprefix(TAG_PREFIX) for tag in _tags(cell))
    return {name for name in names if EXERCISE_ID.fullmatch(name)}


def for_exercise(cell: Any, exercise: str | None) -> bool:
    """Whether ``cell`` is graded for ``exercise``: tagged for it, or tagged for none."""
    tags = exercise_tags(cell)
    return exercise is None or not tags or exercise in tags


def tagged(raw: bytes) -> set[str]:
    """The exercises a notebook's code cells are tagged for; empty if it is not a notebook.

    Only the JSON is read (the caller has capped ``raw``'s size): this decides which notebook
    of a student's stands for an exercise, before :func:`extract` reads the one taken.
    """
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return set()
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        return set()
    found: set[str] = set()
    for cell in cells[:MAX_CELLS]:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            found |= exercise_tags(cell)
    return found


def _shown(line: str, limit: int = 60) -> str:
    line = for_terminal(line.strip())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _may_be_ipython(line: str) -> bool:
    """Whether IPython's transformer could change ``line`` (a cheap superset of its rules).

    Lines starting with an escape (``% ! ? / , ;``), ending in ``?``, or assigning ``= !`` /
    ``= %`` are handed to the transformer; it alone decides what they are.
    """
    text = line.strip()
    if not text:
        return False
    return (
        text[0] in ESCAPES
        or text.endswith("?")
        or "=!" in text.replace(" ", "")
        or ("=%" in text.replace(" ", ""))
    )


def _align(original: list[str], new: list[str]) -> list[tuple[int, int]]:
    """The runs of ``original`` lines the transformer replaced, as (first, end) pairs.

    The transformer replaces a statement in place (several continued lines may become one),
    so one pass with a short look-ahead lines the two up; past ``LOOKAHEAD`` lines the rest
    of the cell counts as replaced.
    """
    replaced, i, j = [], 0, 0
    while i < len(original) and j < len(new):
        if original[i] == new[j]:
            i, j = i + 1, j + 1
            continue
        after = new[j + 1] if j + 1 < len(new) else None
        for k in range(i + 1, min(i + LOOKAHEAD, len(original)) + 1):
            if (original[k] if k < len(original) else None) == after:
                replaced.append((i, k))
                i, j = k, j + 1
                break
        else:
            replaced.append((i, len(original)))
            return replaced
    if i < len(original):
        replaced.append((i, len(original)))
    return replaced


def plain_python(source: str, cell: int, transformer: Any) -> tuple[str, list[str]]:
    """A cell's source with IPython-only lines made ``pass``; the same number of lines."""
    original = source.splitlines()
    if not any(_may_be_ipython(line) for line in original):
        return source, []
    try:
        converted = transformer.transform_cell(source)
    except Exception:  # IPython cannot read it: the sandbox reports the syntax error
        return source, []
    new = converted.splitlines()
    if original == new:
        return source, []
    out, notes = list(original), []
    for i1, i2 in _align(original, new):
        first = original[i1]
        indent = first[: len(first) - len(first.lstrip())]
        for i in range(i1, i2):
            if original[i].strip() and not original[i].strip().startswith(OURS):
                notes.append(
                    f"cell {cell}, line {i + 1}: `{_shown(original[i])}` is IPython syntax: "
                    "skipped when grading"
                )
            out[i] = f"{indent}pass  # IPython syntax, not graded"
    return "\n".join(out) + "\n", notes[:MAX_NOTES]


def _ipython_work(cells: list[tuple[int, str]]) -> int:
    """What converting these cells costs IPython: it re-reads a cell once per magic in it."""
    work = 0
    for _, source in cells:
        lines = source.splitlines()
        work += sum(map(_may_be_ipython, lines)) * len(lines)
    return work


def extract(raw: bytes, shown: str, exercise: str | None = None) -> Extracted:
    """The graded code of notebook bytes ``raw``; NotebookError (one line) if it has none.

    With ``exercise``, the code cells tagged for another exercise are left out.
    """
    if len(raw) > MAX_NOTEBOOK_MB << 20:
        raise NotebookError(f"{shown}: the notebook is larger than {MAX_NOTEBOOK_MB} MiB")
    nbformat, transformer_class = _load_libraries()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NotebookError(f"{shown}: not a notebook (not UTF-8 text)") from None
    captured: dict = {}
    try:
        notebook = nbformat.reads(text, as_version=4, capture_validation_error=captured)
    except RecursionError:
        raise NotebookError(f"{shown}: not a notebook (JSON nested too deeply)") from None
    except Exception as exc:  # JSON, format or conversion errors: all the file's doing
        why = for_terminal(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise NotebookError(f"{shown}: not a readable notebook ({why[:120]})") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise NotebookError(f"{shown}: not a notebook (no list of cells)")
    if len(cells) > MAX_CELLS:
        raise NotebookError(f"{shown}: more than {MAX_CELLS} cells")
    transformer = transformer_class()
    # Its clean-ups (dedent a whole cell, strip ">>>" prompts) are not IPython syntax: a cell
    # is graded as written, like a .py file, and only the magics change.
    transformer.cleanup_transforms = []
    cellmap, parts = CellMap(), []
    future: list[tuple[str, tuple[int, int]]] = []
    if captured.get("ValidationError") is not None:
        cellmap.notes.append(f"{shown} does not follow the notebook format fully; its code is read")
    graded: list[tuple[int, str]] = []
    other = 0
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        if SKIP_TAG in _tags(cell):
            continue
        if not for_exercise(cell, exercise):
            other += 1
            continue
        source = _text(cell.get("source"))
        if source is None:
            raise NotebookError(f"{shown}: cell {number} has no readable source")
        if source.strip():
            graded.append((number, source))
    if _ipython_work(graded) > MAX_IPYTHON_WORK:
        raise NotebookError(
            f"{shown}: too much IPython syntax (%, !, ?) to convert; keep magics out of "
            "the cells with your code"
        )
    for number, source in graded:
        code, notes = plain_python(source, number, transformer)
        cellmap.notes.extend(notes)
        code = code if code.endswith("\n") else code + "\n"
        lines = code.splitlines()
        for i, line in enumerate(lines):
            if line.startswith(FUTURE):  # IPython allows them in any cell; Python only first
                future.append((line, (number, i + 1)))
                lines[i] = "pass  # from __future__: moved to the top"
        parts.append("\n".join(lines) + "\n")
        cellmap.lines.extend((number, i) for i in range(1, len(lines) + 1))
    if not parts:
        if exercise and other:
            raise NotebookError(f"{shown}: the notebook has no code cells for {exercise}")
        raise NotebookError(f"{shown}: the notebook has no code cells")
    if other:
        cellmap.notes.append(
            f"{shown}: {other} code cell(s) tagged for other exercises are not graded here"
        )
    cellmap.lines[:0] = [where for _, where in future]
    return Extracted("".join(line + "\n" for line, _ in future) + "".join(parts), cellmap)


def read(path: Path, shown: str | None = None, exercise: str | None = None) -> Extracted:
    """The graded code of the notebook at ``path`` (for ``exercise``), its size checked first."""
    shown = shown or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_MB << 20:
            raise NotebookError(f"{shown}: the notebook is larger than {MAX_NOTEBOOK_MB} MiB")
        with path.open("rb") as handle:
            raw = handle.read((MAX_NOTEBOOK_MB << 20) + 1)
    except FileNotFoundError:
        raise InputError(FILE_MISSING.format(path=path)) from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a notebook") from None
    return extract(raw, shown, exercise)


def submission_source(
    name: str, raw: bytes, exercise: str | None = None
) -> tuple[bytes, CellMap | None, str | None]:
    """A class submission's bytes as Python source: (source, cell map, refusal or None).

    ``.py`` files pass through unchanged; a notebook becomes its code cells, or a one-line
    refusal for that student when it cannot be read.
    """
    if not is_notebook(name):
        return raw, None, None
    try:
        found = extract(raw, name, exercise)
    except InputError as exc:
        return b"", None, exc.format_message()
    return found.source.encode("utf-8"), found.cells, None
