"""Files for people and other tools, derived only from the gradebook, deterministically.

``grades.csv`` (student, one column per exercise, total; no timings), ``results.json``
(every student × exercise × check; rows and keys sorted; it keeps the ``duration`` timing
fields, so two runs compare equal once those are removed), ``feedback/<name>.md`` (one
report per student under a file name safe for any id; results.json maps id -> file) and
``canvas.csv`` (Canvas gradebook import: rows matched on "SIS Login ID" = the student id).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sqlite3
import unicodedata
from pathlib import Path
from typing import Any

from grader.classgrade import gradebook
from grader.classgrade.csv_cells import cell
from grader.classgrade.feedback import student_markdown
from grader.core.atomic import write_text
from grader.course.info import Course

FEEDBACK_DIR = "feedback"
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_ASSIGNMENT = "dlgrade exercises"


def feedback_name(student: str) -> str:
    """A file name for ``student``'s report: ASCII, no separators, no leading dot or dash.

    A short hash of the exact id keeps names distinct (also on case-insensitive disks).
    """
    ascii_id = unicodedata.normalize("NFKD", student).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9_]+", "-", ascii_id).strip("-_")[:40] or "student"
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{slug}-{digest}.md"


def class_data(conn: sqlite3.Connection, course: Course) -> dict[str, Any]:
    """Everything the gradebook knows, as one plain, sorted structure (results.json)."""
    settings = gradebook.settings(conn)
    exercises = [course.get(e) for e in settings.exercises]
    stored = {(s, e): (status, r) for s, e, status, r in gradebook.results(conn)}
    errors = gradebook.grader_errors(conn)
    students = []
    for student, notes in gradebook.students(conn).items():
        row: dict[str, Any] = {}
        for ex in exercises:
            status, result = stored.get((student, ex.id), (None, None))
            if result is not None:
                row[ex.id] = {"status": status, **result}
            else:
                message = errors.get((student, ex.id))
                row[ex.id] = {
                    "status": "grader_error" if message else "not_graded",
                    "exercise": ex.id,
                    "title": ex.title,
                    "score": None,
                    "max_score": ex.max_score,
                    "grader_error": message,
                    "checks": [],
                }
        # A student with an exercise not graded has no total yet: never a partial sum or a 0.
        scores = [r["score"] for r in row.values()]
        total = None if None in scores else sum(scores)
        students.append(
            {
                "student": student,
                "seed": settings.seed_for(student),
                "feedback": f"{FEEDBACK_DIR}/{feedback_name(student)}",
                "notes": notes,
                "total": total,
                "exercises": row,
            }
        )
    return {
        "course": course.title,
        "seed": None if settings.secret else settings.seed,  # never the secret's source
        "budget": settings.budget,
        "options": settings.options,
        "exercises": [{"id": e.id, "title": e.title, "max_score": e.max_score} for e in exercises],
        "max_total": sum(e.max_score for e in exercises),
        "students": students,
    }


def grades_csv(data: dict[str, Any]) -> str:
    ids = [e["id"] for e in data["exercises"]]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180: a CR in an id is quoted too
    writer.writerow(["student", *ids, "total"])
    for row in data["students"]:
        scores = [row["exercises"][e]["score"] for e in ids]
        shown = ("" if s is None else s for s in scores)
        total = "" if row["total"] is None else row["total"]
        writer.writerow([cell(row["student"]), *shown, total])
    return buffer.getvalue()


def canvas_csv(data: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180: a CR in an id is quoted too
    writer.writerow([*CANVAS_COLUMNS, CANVAS_ASSIGNMENT])
    writer.writerow(["Points Possible", "", "", "", "", data["max_total"]])
    for row in data["students"]:
        student = cell(row["student"])
        total = "" if row["total"] is None else row["total"]
        writer.writerow([student, "", "", student, "", total])
    return buffer.getvalue()


def write_all(conn: sqlite3.Connection, out: Path, course: Course) -> dict[str, Any]:
    """Write every export into ``out``; returns the class data they were made from."""
    data = class_data(conn, course)
    write_text(out / "grades.csv", grades_csv(data))
    write_text(out / "canvas.csv", canvas_csv(data))
    write_text(out / "results.json", json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
    folder = out / FEEDBACK_DIR
    folder.mkdir(exist_ok=True)
    wanted = set()
    for row in data["students"]:
        name = row["feedback"].split("/", 1)[1]
        wanted.add(name)
        write_text(folder / name, student_markdown(row, data))
    for stale in folder.glob("*.md"):
        if stale.name not in wanted:
            stale.unlink()
    return data
