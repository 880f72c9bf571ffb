"""Find each student's exercise files in an LMS download, reading them defensively.

One entry per student: a folder (files directly or under ``exercises/``) or a ``.zip`` of
the same. Nothing is followed or extracted: files are opened with ``O_NOFOLLOW`` after an
``lstat`` check, zip members are read in memory with size caps, and only files named
(or almost named, :mod:`grader.classgrade.matching`) like an exercise are taken. Anything
suspicious is refused for that student with a note. The LMS download layouts around these
entries are read by :mod:`grader.classgrade.layouts`.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from grader.classgrade import notebook_files
from grader.classgrade.matching import Match, Matcher
from grader.grading.sources import MAX_SOURCE_KB

FILE_LIMIT = MAX_SOURCE_KB << 10
ZIP_LIMIT = 64 << 20
ZIP_MAX_ENTRIES = 1000
ZIP_MAX_TOTAL = 64 << 20
IGNORED = ("__MACOSX",)
LIST_LIMIT = 2000  # entries looked at in one student folder
_OPEN = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class Refused(Exception):
    """A file or entry that is not taken; the message says why (shown to the student)."""


@dataclass
class StudentFiles:
    """One student's exercise files (name -> bytes) and the notes about what was refused."""

    student: str
    files: dict[str, bytes] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)  # exercise file -> name as submitted
    unknown: list[str] = field(default_factory=list)  # files that match no exercise
    cells: dict[str, Any] = field(default_factory=dict)  # name -> a notebook's CellMap
    notebooks: dict[str, str] = field(default_factory=dict)  # name -> the notebook it came from

    def refuse(self, name: str | None, why: str) -> None:
        self.notes.append(why)
        if name:
            self.refused.setdefault(name, why)


_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown(name: str) -> str:
    """A file name as valid, visible text for notes and reports: undecodable bytes and
    control or bidi characters written as ``\\xNN`` / ``\\uNNNN``."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    return _CONTROLS.sub(lambda m: repr(m.group())[1:-1], text)


def student_id(entry: str) -> str:
    """The student id an entry name stands for: the name without ``.zip``, always valid text."""
    name = os.fsencode(entry).decode("utf-8", "backslashreplace")
    return name[:-4] if name.lower().endswith(".zip") else name


def _read_regular(name: str, dir_fd: int, limit: int) -> bytes:
    """The bytes of regular file ``name`` in ``dir_fd``: never a link, device or FIFO."""
    before = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if stat.S_ISLNK(before.st_mode):
        raise Refused("is a symbolic link (not followed)")
    if not stat.S_ISREG(before.st_mode):
        raise Refused("is not a regular file (folder, device, FIFO or socket)")
    if before.st_size > limit:
        raise Refused(f"is larger than {limit >> 10} KiB")
    fd = os.open(name, _OPEN, dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as handle:
        now = os.fstat(handle.fileno())
        if (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino):
            raise Refused("changed while it was being read")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise Refused(f"is larger than {limit >> 10} KiB")
    return data


def _open_dir(name: str | Path, dir_fd: int | None = None) -> int:
    return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)


def read_folder(
    path: Path, wanted: Sequence[str], student: str | None = None, match: Matcher | None = None
) -> StudentFiles:
    """The exercise files in folder ``path`` (directly or under ``exercises/``).

    ``match`` maps submitted names onto ``wanted`` (by default a
    :class:`~grader.classgrade.matching.Matcher`, which takes near names too). Files that
    match nothing are listed in ``unknown``; those taken under another name in ``renamed``.
    """
    found = StudentFiles(student if student is not None else student_id(path.name))
    match = match or Matcher(wanted)
    try:
        top = _open_dir(path)
    except OSError as exc:
        found.refuse(None, f"{path.name}: cannot open the folder ({exc.strerror})")
        return found
    folders = [("", top)]
    try:
        try:
            folders.append(("exercises/", _open_dir("exercises", top)))
        except FileNotFoundError:
            pass
        except OSError:
            found.refuse(None, "exercises/ is not a plain folder (a symbolic link?): not followed")
        candidates: list[tuple[tuple, int, str, int, Match]] = []
        for depth, (prefix, fd) in enumerate(folders):
            for name in _listed(fd, found):
                hit = match(name)
                if hit is not None and hit.target in wanted:
                    candidates.append((hit.rank(), depth, prefix, fd, hit))
                elif _is_file(name, fd):
                    found.unknown.append(prefix + shown(name))
        for _rank, _depth, prefix, fd, hit in sorted(
            candidates, key=lambda c: (c[0][0], c[1], c[0])
        ):
            name, target, where = hit.name, hit.target, prefix + shown(hit.name)
            if target in found.files or target in found.refused:
                found.notes.append(f"{where} ignored: {target} was found first")
                continue
            try:
                data = _read_regular(name, fd, FILE_LIMIT)
            except Refused as why:
                found.refuse(target, f"{where} {why}: refused")
                continue
            except OSError as exc:
                found.refuse(target, f"{where} cannot be read ({exc.strerror}): refused")
                continue
            found.files[target] = data
            if not hit.exact:
                found.renamed[target] = where
        notebook_files.from_folder(found, wanted, folders, _read_regular)  # .ipynb for the rest
        notebook_files.claim(found, wanted)
    finally:
        for _, fd in folders:
            os.close(fd)
    return found


def _listed(fd: int, found: StudentFiles) -> list[str]:
    """The names in folder ``fd`` that could be exercise files (no hidden ones), sorted."""
    names = []
    with os.scandir(fd) as entries:
        for count, entry in enumerate(entries):
            if count >= LIST_LIMIT:
                found.notes.append(f"more than {LIST_LIMIT} entries: the rest were not looked at")
                break
            name = entry.name
            if not name.startswith(".") and name not in IGNORED and name != "exercises":
                names.append(name)
    return sorted(names)


def _is_file(name: str, fd: int) -> bool:
    try:
        return stat.S_ISREG(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def read_file(folder: Path, name: str, limit: int = FILE_LIMIT) -> bytes:
    """The bytes of the regular file ``name`` in ``folder`` (never a link); raises Refused."""
    fd = _open_dir(folder)
    try:
        return _read_regular(name, fd, limit)
    finally:
        os.close(fd)


def _unsafe(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return name.startswith("/") or bool(re.match(r"^[A-Za-z]:", name)) or ".." in parts


def _place(parts: tuple[str, ...]) -> int | None:
    """How deep an exercise file sits in a zip (lower wins), or None if it is not taken there."""
    folders = parts[:-1]
    if not folders:
        return 0
    if folders == ("exercises",):
        return 1
    if len(folders) == 1:
        return 2
    if len(folders) == 2 and folders[1] == "exercises":
        return 3
    return None


def read_zip(
    path: Path, wanted: Sequence[str], student: str | None = None, match: Matcher | None = None
) -> StudentFiles:
    """The exercise files in zip ``path``, read in memory; unsafe entries are refused."""
    found = StudentFiles(student if student is not None else student_id(path.name))
    match = match or Matcher(wanted)
    try:
        parent = _open_dir(path.parent)
        try:
            raw = _read_regular(path.name, parent, ZIP_LIMIT)
        finally:
            os.close(parent)
        archive = zipfile.ZipFile(io.BytesIO(raw))
        infos = archive.infolist()
    except (Refused, OSError, zipfile.BadZipFile, ValueError) as exc:
        found.refuse(None, f"{path.name}: not a readable zip ({exc}): refused")
        return found
    if len(infos) > ZIP_MAX_ENTRIES or sum(i.file_size for i in infos) > ZIP_MAX_TOTAL:
        found.refuse(
            None,
            f"{path.name}: more than {ZIP_MAX_ENTRIES} entries or "
            f"{ZIP_MAX_TOTAL >> 20} MiB unpacked (a zip bomb?): refused",
        )
        return found
    candidates: list[tuple[tuple, int, str, zipfile.ZipInfo, Match]] = []
    for info in infos:
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        base = parts[-1] if parts else ""
        hit = match(base) if base else None
        target = hit.target if hit is not None and hit.target in wanted else None
        mode = info.external_attr >> 16
        if _unsafe(name):
            found.refuse(target, f"zip entry {name!r} points outside its folder: refused")
        elif info.create_system == 3 and stat.S_ISLNK(mode):
            found.refuse(target, f"zip entry {name!r} is a symbolic link: refused")
        elif info.create_system == 3 and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
            found.refuse(target, f"zip entry {name!r} is not a regular file: refused")
        elif info.is_dir() or set(parts) & set(IGNORED) or base.startswith("."):
            continue
        elif target is not None and _place(parts) is not None:
            candidates.append((hit.rank(), _place(parts), name, info, hit))
        elif _place(parts) is not None:
            found.unknown.append(shown(name))
    for _rank, _depth, name, info, hit in sorted(
        candidates, key=lambda c: (c[0][0], c[1], c[0], c[2])
    ):
        if hit.target in found.files:
            found.notes.append(f"zip entry {name!r} ignored: {hit.target} was found first")
            continue
        try:
            found.files[hit.target] = read_member(archive, info)
        except Refused as why:
            found.refuse(hit.target, f"zip entry {name!r} {why}: refused")
            continue
        if not hit.exact:
            found.renamed[hit.target] = shown(name)
    notebook_files.from_zip(found, wanted, archive, infos)  # .ipynb for the rest
    notebook_files.claim(found, wanted)
    return found


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int = FILE_LIMIT) -> bytes:
    """A zip member's bytes, read in memory up to ``limit``; Refused(why) if it cannot be."""
    if info.flag_bits & 0x1:
        raise Refused("is encrypted")
    if info.file_size > limit:
        raise Refused(f"is larger than {limit >> 10} KiB")
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise Refused(f"cannot be unpacked ({exc})") from None
    if len(data) > limit:
        raise Refused(f"is larger than {limit >> 10} KiB")
    return data


def discover(root: Path, wanted: Sequence[str], skip: Iterable[Path] = ()) -> list[StudentFiles]:
    """Every student in ``root`` (sorted by id) with the exercise files named in ``wanted``.

    Hidden entries, ``__MACOSX`` and ``skip`` (the output folder) are not students; other
    plain files are not either, unless they are zips.
    """
    skipped = {Path(os.path.realpath(p)) for p in skip}
    students: dict[str, StudentFiles] = {}
    for entry in sorted(os.listdir(root)):
        path = root / entry
        if entry.startswith(".") or entry in IGNORED or Path(os.path.realpath(path)) in skipped:
            continue
        info = os.lstat(path)
        sid = student_id(entry)
        if stat.S_ISDIR(info.st_mode):
            found = read_folder(path, wanted, sid)
        elif stat.S_ISREG(info.st_mode) and entry.lower().endswith(".zip"):
            found = read_zip(path, wanted, sid)
        elif stat.S_ISREG(info.st_mode):
            continue
        else:
            kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "a device, FIFO or socket"
            found = StudentFiles(sid)
            found.refuse(None, f"{sid}: the submission is {kind}, not a folder or zip: refused")
        if sid in students:
            students[sid].notes.append(f"a second entry for this student ({entry}) was ignored")
            continue
        students[sid] = found
    return [students[s] for s in sorted(students)]
