"""Notebooks in a class download: ``03_backprop.ipynb``, an LMS-renamed ``*03_backprop*.ipynb``,
or any notebook whose code cells are tagged ``03_backprop`` (one notebook may hold several
exercises).

:mod:`grader.classgrade.submissions` calls :func:`from_folder` and :func:`from_zip` after it
took the ``.py`` files: for every exercise still missing, a matching notebook is read with
the same care (no links followed, sizes capped before reading, nothing parsed but JSON) and
its code cells for that exercise (:mod:`grader.grading.notebooks`) stand in for the ``.py``
file. A ``.py`` file wins over a notebook, an exact name over a renamed one, a name over tags;
a notebook that cannot be read is refused for that student with a note.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import PurePosixPath
from typing import Any

from grader.grading import notebooks
from grader.grading.sources import MAX_SOURCE_KB

NOTEBOOK_LIMIT = notebooks.MAX_NOTEBOOK_MB << 20
MAX_SCANNED = 20  # notebooks of one folder whose tags are read, when no name matches
TagsOf = Callable[[str], set[str]]


def _exercise_id(file_name: str) -> str:
    return file_name.removesuffix(".py")


def match(names: Iterable[str], file_name: str) -> tuple[str | None, list[str]]:
    """The notebook taken for ``file_name`` among ``names``, and the matching ones left out.

    ``<id>.ipynb`` wins; otherwise the first (by name) of those whose name contains the id,
    as LMS downloads prefix or suffix the student's name.
    """
    wanted = _exercise_id(file_name).lower()
    found = sorted(n for n in names if notebooks.is_notebook(n) and wanted in n.lower())
    exact = [n for n in found if n.lower() == f"{wanted}.ipynb"]
    taken = (exact or found or [None])[0]
    return taken, [n for n in found if n != taken]


def pick(
    names: Iterable[str], file_name: str, tags_of: TagsOf
) -> tuple[str | None, list[str], bool]:
    """The notebook taken for ``file_name``, the matching ones left out, and whether by tags.

    A name match (:func:`match`) wins; otherwise the first notebook (by name) with code cells
    tagged for the exercise. ``tags_of(name)`` gives the exercises a notebook is tagged for.
    """
    names = list(names)
    taken, others = match(names, file_name)
    if taken is not None:
        return taken, others, False
    wanted = _exercise_id(file_name)
    for name in sorted(n for n in names if notebooks.is_notebook(n))[:MAX_SCANNED]:
        if wanted in tags_of(name):
            return name, [], True
    return None, [], False


def tag_reader(read: Callable[[str], bytes]) -> TagsOf:
    """``read`` (which may raise) as a :data:`TagsOf`: each notebook read and parsed at most
    once, and only its tags kept (the one taken is read again, with its errors reported)."""
    seen: dict[str, set[str]] = {}

    def tags_of(name: str) -> set[str]:
        if name not in seen:
            try:
                seen[name] = notebooks.tagged(read(name))
            except Exception:  # refused or unreadable: it stands for no exercise by its tags
                seen[name] = set()
        return seen[name]

    return tags_of


def claim(found: Any, wanted: Sequence[str]) -> None:
    """Drop from ``found.unknown`` the notebooks taken, or named after an exercise (noted)."""
    ids = [_exercise_id(w).lower() for w in wanted]
    taken = set(found.notebooks.values())
    found.unknown = [
        u
        for u in found.unknown
        if u not in taken and not (notebooks.is_notebook(u) and any(i in u.lower() for i in ids))
    ]


def ranges(cells: notebooks.CellMap) -> str:
    """Which lines of the graded code came from which cell: "lines 1-12: cell 2; …"."""
    runs: list[list[int]] = []
    for line, (cell, _) in enumerate(cells.lines, start=1):
        if runs and runs[-1][2] == cell and runs[-1][1] == line - 1:
            runs[-1][1] = line
        else:
            runs.append([line, line, cell])
    shown = [f"lines {a}-{b}: cell {c}" if a != b else f"line {a}: cell {c}" for a, b, c in runs]
    return "; ".join(shown[:20]) + ("; …" if len(shown) > 20 else "")


def relabel(result: dict, cells: notebooks.CellMap | None, file_name: str) -> dict:
    """A graded result of a notebook submission, its messages naming cells (else unchanged)."""
    return cells.relabel_dict(result, file_name) if cells is not None else result


def take(
    found: Any,
    file_name: str,
    shown: str,
    raw: bytes,
    others: Sequence[str],
    by_tags: bool = False,
) -> None:
    """Put notebook ``raw``'s code for ``file_name`` in ``found``, or refuse it with a note."""
    exercise = _exercise_id(file_name)
    source, cells, refusal = notebooks.submission_source(shown, raw, exercise)
    if refusal is None and len(source) > MAX_SOURCE_KB << 10:
        refusal = f"{shown}: its code cells are larger than {MAX_SOURCE_KB} KiB"
    if refusal is not None:
        found.refuse(file_name, f"{refusal}: refused")
        return
    found.files[file_name] = source
    found.cells[file_name] = cells
    found.notebooks[file_name] = shown
    which = f"tagged {exercise}, " if by_tags else ""
    found.notes.append(
        f"{file_name} graded from the notebook {shown} "
        f"(its code cells {which}in order; {ranges(cells)})"
    )
    found.notes.extend(cells.notes)
    found.notes.extend(f"{other} ignored: {shown} was taken for {file_name}" for other in others)


def from_folder(
    found: Any,
    wanted: Sequence[str],
    folders: Sequence[tuple[str, int]],
    read: Callable[[str, int, int], bytes],
) -> None:
    """Notebooks for the exercises ``found`` has no file for, from open folder fds."""
    import os

    from grader.classgrade.submissions import Refused, shown

    readers: dict[int, TagsOf] = {}
    for file_name in wanted:
        if file_name in found.files or file_name in found.refused:
            continue
        for prefix, fd in folders:
            try:
                listing = os.listdir(fd)
            except OSError:
                continue
            tags_of = readers.setdefault(
                fd, tag_reader(lambda n, fd=fd: read(n, fd, NOTEBOOK_LIMIT))
            )
            name, others, by_tags = pick(listing, file_name, tags_of)
            if name is None:
                continue
            where = prefix + shown(name)
            try:
                raw = read(name, fd, NOTEBOOK_LIMIT)
            except Refused as why:
                found.refuse(file_name, f"{where} {why}: refused")
            except OSError as exc:
                found.refuse(file_name, f"{where} cannot be read ({exc.strerror}): refused")
            else:
                left = [prefix + shown(o) for o in others]
                take(found, file_name, where, raw, left, by_tags)
            break


def from_zip(
    found: Any, wanted: Sequence[str], archive: zipfile.ZipFile, infos: Sequence[zipfile.ZipInfo]
) -> None:
    """Notebooks for the exercises ``found`` has no file for, from a zip read in memory."""
    import stat

    from grader.classgrade.submissions import IGNORED, _place, _unsafe

    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        mode = info.external_attr >> 16
        if (
            not notebooks.is_notebook(name)
            or info.is_dir()
            or _unsafe(name)
            or set(parts) & set(IGNORED)
            or _place(parts) is None
            or (info.create_system == 3 and stat.S_IFMT(mode) not in (0, stat.S_IFREG))
        ):
            continue
        members.setdefault(name, info)
    by_base = {PurePosixPath(n).name: n for n in sorted(members, key=lambda n: (n.count("/"), n))}
    from grader.classgrade.submissions import Refused, read_member

    def read(base: str) -> bytes:
        return read_member(archive, members[by_base[base]], NOTEBOOK_LIMIT)

    tags_of = tag_reader(read)
    for file_name in wanted:
        if file_name in found.files or file_name in found.refused:
            continue
        base, others, by_tags = pick(by_base, file_name, tags_of)
        if base is None:
            continue
        name = by_base[base]
        try:
            raw = read(base)
        except Refused as why:
            found.refuse(file_name, f"zip entry {name!r} {why}: refused")
            continue
        take(found, file_name, name, raw, [by_base[o] for o in others], by_tags)
