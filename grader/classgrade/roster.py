"""``--roster CSV``: who is in the class, with the ids the LMS imports need.

The CSV has a header row; these columns are read (case, spaces and punctuation aside),
any other is ignored, and at least one of login, LMS id, SIS id or e-mail is needed:

- login: ``login``, ``SIS Login ID``, ``username``, ``folder`` (the submission's folder name);
- LMS id: ``ID``, ``user id``, ``Canvas id``, ``LMS id``;
- SIS id: ``SIS User ID``, ``SIS id``, ``student id``, ``sid``;
- name: ``name``, ``Student``, ``full name``; e-mail: ``email``; section: ``Section``.

A Canvas gradebook export works as it is (its "Points Possible" row is skipped). A
submitter is matched to a row by LMS id, then login (against the student id), e-mail,
SIS id and finally the name (case, accents and word order aside). Roster students who
submitted nothing are graded as missing; submitters the roster does not know are flagged.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from grader.classgrade.layouts import Submitter
from grader.classgrade.names import person
from grader.classgrade.submissions import StudentFiles
from grader.core.errors import InputError

CSV_LIMIT = 16 << 20
COLUMNS = {
    "login": ("login", "sisloginid", "loginid", "username", "folder", "user"),
    "lms_id": ("id", "userid", "canvasid", "canvasuserid", "lmsid", "moodleid"),
    "sis_id": ("sisuserid", "sisid", "studentid", "sid", "studentnumber"),
    "name": ("name", "student", "fullname", "studentname"),
    "email": ("email", "emailaddress", "mail"),
    "section": ("section", "sections"),
}
KEYS = ("login", "lms_id", "sis_id", "email")


@dataclass
class Member:
    """One roster row."""

    login: str = ""
    lms_id: str = ""
    sis_id: str = ""
    name: str = ""
    email: str = ""
    section: str = ""

    @property
    def student(self) -> str:
        """The id a roster student with no submission is listed under."""
        return self.login or self.email or self.sis_id or self.lms_id or self.name


def read_rows(path: Path, empty: str) -> tuple[list[str], list[list[str]]]:
    """An instructor's CSV, size-capped: (header folded to lower-case letters, rows).

    A one-line InputError (exit 2) when it cannot be read; ``empty`` says what to give.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(raw) > CSV_LIMIT:
        raise InputError(f"{path}: larger than {CSV_LIMIT >> 20} MiB")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig", "replace"))))
    if not rows:
        raise InputError(f"{path}: {empty}")
    return [re.sub(r"[^a-z]", "", h.lower()) for h in rows[0]], rows


def load(path: Path) -> list[Member]:
    """The roster's rows; a one-line InputError (exit 2) when it cannot be used."""
    header, rows = read_rows(path, "empty roster; give a header row (login,name,...)")
    where = {}
    for fieldname, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in header and fieldname not in where:
                where[fieldname] = header.index(alias)
    if not set(where) & set(KEYS):
        raise InputError(f"{path}: no login, ID, SIS User ID or email column in the header")
    members = []
    for row in rows[1:]:
        values = {f: row[i].strip() if i < len(row) else "" for f, i in where.items()}
        if not any(values.values()) or values.get("name", "").lower() == "points possible":
            continue
        if "Points Possible" in row[:2]:
            continue
        members.append(Member(**values))
    return members


def _find(submitter: Submitter, indexes: dict[str, dict[str, Member]]) -> Member | None:
    probes = (
        ("lms_id", submitter.lms_id),
        ("login", submitter.student),
        ("email", submitter.email.lower()),
        ("email", submitter.student.lower()),
        ("sis_id", submitter.sis_id),
        ("name", person(submitter.name or submitter.student)),
    )
    for index, value in probes:
        if value and value in indexes[index]:
            return indexes[index][value]
    return None


def apply(members: list[Member], found: list[Submitter]) -> tuple[list[Submitter], list[str]]:
    """Fill ids from the roster; add roster students with no submission (as missing).

    Returns every submitter (sorted by id) and the ids of submitters not on the roster.
    A matched submitter keeps its id; its info gains the roster's ids, name and section.
    """
    indexes: dict[str, dict[str, Member]] = {k: {} for k in (*KEYS, "name")}
    for member in members:
        for key in KEYS:
            value = getattr(member, key).lower() if key == "email" else getattr(member, key)
            if value:
                indexes[key].setdefault(value, member)
        if member.name:
            indexes["name"].setdefault(person(member.name), member)
    matched: set[int] = set()
    unknown = []
    for submitter in found:
        member = _find(submitter, indexes)
        if member is None or id(member) in matched:
            unknown.append(submitter.student)
            submitter.files.notes.append("not on the roster")
            submitter.roster = "unknown"
            continue
        matched.add(id(member))
        submitter.roster = "on roster"
        submitter.lms_id = member.lms_id or submitter.lms_id
        submitter.sis_id = member.sis_id or submitter.sis_id
        submitter.login = member.login
        submitter.name = member.name or submitter.name
        submitter.email = member.email or submitter.email
        submitter.section = member.section
    taken = {s.student for s in found}
    for member in members:
        if id(member) in matched or not member.student or member.student in taken:
            continue
        missing = Submitter(StudentFiles(member.student), "roster", member.lms_id, member.sis_id)
        missing.name, missing.email, missing.login = member.name, member.email, member.login
        missing.section, missing.roster = member.section, "missing"
        missing.files.notes.append("on the roster, nothing submitted")
        found.append(missing)
        taken.add(member.student)
    return sorted(found, key=lambda s: s.student), unknown
