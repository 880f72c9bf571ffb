"""The download layouts of Canvas, Moodle and Gradescope, and one folder or zip per student.

What is read from each (everything else in a name is ignored):

- Canvas "Download Submissions", flat: ``{name}_{LATE_}{user id}_{submission id}_{file}``.
  ``name`` (Canvas's lower-case sortable name) is the student id, ``user id`` fills the
  Canvas ``ID`` column, ``LATE`` marks the submission late (Canvas gives no time); a
  ``file`` that is a zip is read like a student's zip.
- Moodle "Download all submissions": folders ``{Full Name}_{participant id}_assignsubmission_file_``
  (or, unfolded, files ``{Full Name}_{participant id}_assignsubmission_file_{file}``): the
  full name is the student id; online-text folders hold nothing to grade.
- Gradescope "Export Submissions": ``submission_metadata.yml`` beside ``submission_{id}/``
  folders; each submitter's ``:name:``, ``:sid:`` and ``:email:`` and the submission's
  ``:created_at:`` are read (the e-mail, else the sid, else the name is the student id).
- Otherwise one folder or ``.zip`` per student, named after the student.

File names inside go through :mod:`grader.classgrade.matching`. The metadata file is
student-influenced (names, e-mails): it is read size-capped with ``yaml.safe_load``, which
builds plain values only.
"""

from __future__ import annotations

import os
import re
import stat
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from grader.classgrade import notebook_files, submissions
from grader.classgrade.matching import Matcher
from grader.classgrade.submissions import IGNORED, Refused, StudentFiles
from grader.core.errors import InputError
from grader.core.untrusted import clip

CANVAS = re.compile(
    r"^(?P<name>[A-Za-z0-9]+)_(?:(?P<late>LATE)_)?(?P<user>\d+)_(?P<sub>\d+)_(?P<file>.+)$"
)
MOODLE_FOLDER = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?$")
MOODLE_FILE = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_file_(?P<file>.+)$")
GRADESCOPE_METADATA = "submission_metadata.yml"
GRADESCOPE_FOLDER = re.compile(r"^submission_(?P<id>\d+)$")
METADATA_LIMIT = 8 << 20
UNKNOWN_SHOWN = 10
LAYOUT_NAMES = {
    "canvas": "Canvas (flat download)",
    "moodle": "Moodle",
    "gradescope": "Gradescope export",
    "folders": "one folder or zip per student",
}


@dataclass
class Submitter:
    """One student found in a download: their files and what the LMS said about them."""

    files: StudentFiles
    layout: str
    lms_id: str = ""
    sis_id: str = ""
    name: str = ""
    email: str = ""
    submitted_at: datetime | None = None
    marked_late: bool = False
    login: str = ""
    section: str = ""
    roster: str = ""  # "on roster", "unknown" (not on it), "missing" (nothing submitted)

    @property
    def student(self) -> str:
        return self.files.student

    def info(self) -> dict[str, Any]:
        """What the gradebook keeps about this student beside the results."""
        return {
            "layout": self.layout,
            "lms_id": self.lms_id,
            "sis_id": self.sis_id,
            "name": self.name,
            "email": self.email,
            "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
            "marked_late": self.marked_late,
            "login": self.login,
            "section": self.section,
            "roster": self.roster,
            "submitted_as": dict(self.files.renamed),
        }


@dataclass
class Download:
    """Every student of a download, the layouts seen, and the entries that were nobody's."""

    students: list[Submitter] = field(default_factory=list)
    layouts: Counter = field(default_factory=Counter)
    ignored: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # submitters not on the roster

    @property
    def layout(self) -> str:
        """The layout(s) found, most common first (then by name), as the summary names them."""
        if not self.layouts:
            return "nothing recognised"
        ranked = sorted(self.layouts.items(), key=lambda kv: (-kv[1], kv[0]))
        return " + ".join(LAYOUT_NAMES[k] for k, _ in ranked)

    def gradable(self) -> int:
        return sum(len(s.files.files) for s in self.students)


def merge(into: StudentFiles, other: StudentFiles) -> None:
    """Add ``other``'s files and notes to ``into``; a file already there wins."""
    for name, data in other.files.items():
        if name in into.files:
            into.notes.append(f"{other.renamed.get(name, name)} ignored: {name} was found first")
        else:
            into.files[name] = data
            for mine, theirs in (
                (into.renamed, other.renamed),
                (into.cells, other.cells),
                (into.notebooks, other.notebooks),
            ):
                if name in theirs:
                    mine[name] = theirs[name]
    for name, why in other.refused.items():
        if name not in into.files:
            into.refused.setdefault(name, why)
    into.notes += other.notes
    into.unknown += other.unknown


def finish(found: StudentFiles) -> None:
    """Say in the student's notes which files were renamed and which matched nothing."""
    for target, original in sorted(found.renamed.items()):
        found.notes.append(f"{original} was graded as {target}")
    shown = found.unknown[:UNKNOWN_SHOWN]
    for name in shown:
        found.notes.append(f"not graded: unknown name: {name}")
    if len(found.unknown) > len(shown):
        found.notes.append(f"not graded: {len(found.unknown) - len(shown)} more unknown names")


def _read_flat(
    root: Path, student: str, files: Sequence[tuple[str, str]], wanted: Sequence[str], match
) -> StudentFiles:
    """One student's files lying flat in ``root``: (name in root, name as submitted) pairs."""
    found = StudentFiles(student)
    hits = []
    for entry, submitted in files:
        if submitted.lower().endswith(".zip"):
            merge(found, submissions.read_zip(root / entry, wanted, student, match))
            continue
        hit = match(submitted)
        if hit is not None and hit.target in wanted:
            hits.append((hit.rank(), entry, hit))
        else:
            found.unknown.append(submissions.shown(submitted))
    for _rank, entry, hit in sorted(hits, key=lambda h: h[0]):
        where = submissions.shown(hit.name)
        if hit.target in found.files or hit.target in found.refused:
            found.notes.append(f"{where} ignored: {hit.target} was found first")
            continue
        try:
            found.files[hit.target] = submissions.read_file(root, entry)
        except Refused as why:
            found.refuse(hit.target, f"{where} {why}: refused")
            continue
        except OSError as exc:
            found.refuse(hit.target, f"{where} cannot be read ({exc.strerror}): refused")
            continue
        if not hit.exact:
            found.renamed[hit.target] = where
    _flat_notebooks(root, found, files, wanted)
    return found


def _flat_notebooks(
    root: Path, found: StudentFiles, files: Sequence[tuple[str, str]], wanted: Sequence[str]
) -> None:
    """Notebooks lying flat, for the exercises the student has no ``.py`` file for."""
    entries = {submitted: entry for entry, submitted in files}

    def read(name: str) -> bytes:
        return submissions.read_file(root, entries[name], notebook_files.NOTEBOOK_LIMIT)

    tags_of = notebook_files.tag_reader(read)
    for file_name in wanted:
        if file_name in found.files or file_name in found.refused:
            continue
        name, others, by_tags = notebook_files.pick(entries, file_name, tags_of)
        if name is None:
            continue
        shown = submissions.shown(name)
        try:
            raw = read(name)
        except Refused as why:
            found.refuse(file_name, f"{shown} {why}: refused")
        except OSError as exc:
            found.refuse(file_name, f"{shown} cannot be read ({exc.strerror}): refused")
        else:
            notebook_files.take(found, file_name, shown, raw, others, by_tags)
    notebook_files.claim(found, wanted)


def _text(value: Any, limit: int = 200) -> str:
    """A metadata value as bounded, single-line text ("" for anything that is not a scalar)."""
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return ""
    return " ".join(clip(str(value), limit).split())


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip())
        text = re.sub(r"\s+([+-]\d\d:?\d\d)$", r"\1", text)
        try:
            found = datetime.fromisoformat(text)
        except ValueError:
            return None
        return found if found.tzinfo else found.replace(tzinfo=UTC)
    return None


def gradescope_metadata(root: Path) -> dict[str, Any]:
    """``submission_metadata.yml`` as plain data (safe_load, size-capped); one-line errors."""
    try:
        raw = submissions.read_file(root, GRADESCOPE_METADATA, METADATA_LIMIT)
    except (Refused, OSError) as why:
        raise InputError(f"{GRADESCOPE_METADATA} {why}: refused") from None
    try:
        data = yaml.safe_load(raw.decode("utf-8", "replace"))
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "not YAML"
        raise InputError(f"{GRADESCOPE_METADATA}: not readable YAML ({first})") from None
    if not isinstance(data, dict):
        raise InputError(f"{GRADESCOPE_METADATA}: not a mapping of submissions")
    return data


def _field(record: Any, name: str) -> Any:
    """A Gradescope field, written ``:name:`` (a Ruby symbol) or ``name:``."""
    if not isinstance(record, dict):
        return None
    return record.get(f":{name}", record.get(name))


def _gradescope(
    root: Path, names: list[str], wanted: Sequence[str], match, download: Download
) -> None:
    metadata = gradescope_metadata(root)
    for entry in names:
        if not GRADESCOPE_FOLDER.match(entry) or not (root / entry).is_dir():
            if entry != GRADESCOPE_METADATA:
                download.ignored.append(entry)
            continue
        record = metadata.get(entry)
        submitters = _field(record, "submitters")
        people = (
            [p for p in submitters if isinstance(p, dict)] if isinstance(submitters, list) else []
        )
        when = _when(_field(record, "created_at"))
        if not people:
            people = [{}]
        for person in people[:20]:
            name, sid = _text(_field(person, "name")), _text(_field(person, "sid"))
            email = _text(_field(person, "email"))
            student = email or sid or name or entry
            found = submissions.read_folder(root / entry, wanted, student, match)
            if not record:
                found.notes.append(f"{entry} is not in {GRADESCOPE_METADATA}")
            download.students.append(
                Submitter(found, "gradescope", "", sid, name, email, submitted_at=when)
            )
            download.layouts["gradescope"] += 1


def discover(
    root: Path, wanted: Sequence[str], skip: Iterable[Path] = (), match: Matcher | None = None
) -> Download:
    """Every student in the download ``root`` (sorted by id), whatever its layout."""
    match = match or Matcher(wanted)
    skipped = {Path(os.path.realpath(p)) for p in skip}
    names = []
    for entry in sorted(os.listdir(root)):
        path = root / entry
        if entry.startswith(".") or entry in IGNORED or Path(os.path.realpath(path)) in skipped:
            continue
        names.append(entry)
    download = Download()
    if GRADESCOPE_METADATA in names:
        _gradescope(root, names, wanted, match, download)
        return _settled(download)
    flat: dict[tuple[str, str], list[tuple[str, str]]] = {}
    people: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in names:
        path = root / entry
        info = os.lstat(path)
        if stat.S_ISREG(info.st_mode):
            canvas, moodle = CANVAS.match(entry), MOODLE_FILE.match(entry)
            if moodle:
                key = ("moodle", moodle["id"])
                flat.setdefault(key, []).append((entry, moodle["file"]))
                people[key] = {"name": submissions.shown(moodle["name"]), "lms_id": moodle["id"]}
            elif canvas:
                key = ("canvas", canvas["user"])
                flat.setdefault(key, []).append((entry, canvas["file"]))
                known = people.setdefault(key, {"name": canvas["name"], "lms_id": canvas["user"]})
                known["late"] = known.get("late", False) or bool(canvas["late"])
            elif entry.lower().endswith(".zip"):
                sid = submissions.student_id(entry)
                download.students.append(
                    Submitter(submissions.read_zip(path, wanted, sid, match), "folders")
                )
                download.layouts["folders"] += 1
            else:
                download.ignored.append(submissions.shown(entry))
            continue
        sid = submissions.student_id(entry)
        if stat.S_ISDIR(info.st_mode):
            moodle = MOODLE_FOLDER.match(entry)
            if moodle and moodle["plugin"] != "file":
                continue  # online text, comments: nothing to grade
            student = submissions.shown(moodle["name"]) if moodle else sid
            found = submissions.read_folder(path, wanted, student, match)
            layout = "moodle" if moodle else "folders"
            lms_id = moodle["id"] if moodle else ""
            download.students.append(
                Submitter(found, layout, lms_id, name=student if moodle else "")
            )
            download.layouts[layout] += 1
        else:
            kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "a device, FIFO or socket"
            found = StudentFiles(sid)
            found.refuse(None, f"{sid}: the submission is {kind}, not a folder or zip: refused")
            download.students.append(Submitter(found, "folders"))
    taken = Counter(people[k]["name"] for k in flat)
    for key, files in flat.items():
        layout, lms_id = key
        person = people[key]
        student = person["name"] if taken[person["name"]] == 1 else f"{person['name']}_{lms_id}"
        found = _read_flat(root, student, files, wanted, match)
        name = person["name"] if layout == "moodle" else ""
        download.students.append(
            Submitter(found, layout, lms_id, name=name, marked_late=person.get("late", False))
        )
        download.layouts[layout] += 1
    return _settled(download)


def _settled(download: Download) -> Download:
    """One entry per student id (a second one is ignored with a note), sorted, notes added."""
    counts = Counter(s.student for s in download.students)
    for submitter in download.students:  # two Moodle or Canvas people with the same name
        if counts[submitter.student] > 1 and submitter.lms_id:
            submitter.files.student = f"{submitter.student}_{submitter.lms_id}"
    by_id: dict[str, Submitter] = {}
    for submitter in download.students:
        if submitter.student in by_id:
            by_id[submitter.student].files.notes.append(
                f"a second entry for this student ({submitter.layout}) was ignored"
            )
            continue
        by_id[submitter.student] = submitter
    download.students = [by_id[s] for s in sorted(by_id)]
    for submitter in download.students:
        finish(submitter.files)
    return download


def require_gradable(root: Path, download: Download) -> None:
    """Refuse (exit 2) a download with no file to grade, saying what was found."""
    if download.gradable():
        return
    if not download.students and not download.ignored:
        raise InputError(f"{root}: no submissions in this folder")
    unknown = sum(len(s.files.unknown) for s in download.students)
    raise InputError(
        f"{root}: nothing to grade: {len(download.students)} student(s) "
        f"({download.layout}), no file named like an exercise"
        + (f", {unknown} unknown file name(s)" if unknown else "")
        + (f", {len(download.ignored)} other entr(ies) ignored" if download.ignored else "")
    )
