"""Files for people and other tools, derived only from the gradebook, deterministically.

``grades.csv`` (student, one column per exercise, total; no timings; with a late policy
also ``raw_total``, ``late_days`` and ``late_penalty_percent``; when a file was graded
under another name, ``submitted_as``), ``results.json`` (every
student × exercise × check; rows and keys sorted; it keeps the ``duration`` timing fields,
so two runs compare equal once those are removed), ``feedback/<student>.md`` (one report
per student under a file name safe for any id, see :mod:`grader.classgrade.names`;
results.json maps id -> file) and ``canvas.csv`` (Canvas gradebook import: ``ID``, ``SIS
User ID`` and ``SIS Login ID`` from the roster or the Canvas download names, left empty
when unknown, never guessed from a folder name).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

from grader.classgrade import gradebook, late, lms_store, names
from grader.classgrade.csv_cells import cell
from grader.classgrade.feedback import student_markdown
from grader.core.atomic import write_text
from grader.course.info import Course

FEEDBACK_DIR = "feedback"
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_ASSIGNMENT = "dlgrade exercises"


def class_data(conn: sqlite3.Connection, course: Course) -> dict[str, Any]:
    """Everything the gradebook knows, as one plain, sorted structure (results.json)."""
    settings = gradebook.settings(conn)
    exercises = [course.get(e) for e in settings.exercises]
    stored = {(s, e): (status, r) for s, e, status, r in gradebook.results(conn)}
    errors = gradebook.grader_errors(conn)
    infos = lms_store.infos(conn)
    stored_policy = lms_store.meta(conn, "late_policy")
    policy = late.Policy.from_dict(stored_policy) if stored_policy else None
    everyone = gradebook.students(conn)
    files = names.feedback_names(everyone)
    students = []
    for student, notes in everyone.items():
        info = infos.get(student, {})
        renamed = info.get("submitted_as", {})
        row: dict[str, Any] = {}
        for ex in exercises:
            status, result = stored.get((student, ex.id), (None, None))
            if result is not None:
                row[ex.id] = {"status": status, **result}
                if renamed.get(ex.file_name):
                    row[ex.id]["submitted_as"] = renamed[ex.file_name]
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
        record = late.assess(policy, info.get("submitted_at"), total, bool(info.get("marked_late")))
        entry = {
            "student": student,
            "seed": settings.seed_for(student),
            "feedback": f"{FEEDBACK_DIR}/{files[student]}",
            "notes": notes,
            "total": record["total"] if record else total,
            "exercises": row,
        }
        if info:
            entry["lms"] = {k: v for k, v in info.items() if k != "submitted_as" and v}
        if record is not None:
            entry["raw_total"], entry["late"] = total, record
        students.append(entry)
    data = {
        "layout": lms_store.meta(conn, "layout"),
        "late_policy": policy.to_dict() if policy else None,
        "course": course.title,
        "seed": None if settings.secret else settings.seed,  # never the secret's source
        "budget": settings.budget,
        "options": settings.options,
        "exercises": [{"id": e.id, "title": e.title, "max_score": e.max_score} for e in exercises],
        "max_total": sum(e.max_score for e in exercises),
        "students": students,
    }
    data["ids_missing"] = missing_ids(data)
    return data


def grades_csv(data: dict[str, Any]) -> str:
    ids = [e["id"] for e in data["exercises"]]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180: a CR in an id is quoted too
    policy = data.get("late_policy")
    extra = ["raw_total", "late_days", "late_penalty_percent"] if policy else []
    renamed = any(_submitted_as(row) for row in data["students"])
    extra += ["submitted_as"] if renamed else []
    writer.writerow(["student", *ids, "total", *extra])
    for row in data["students"]:
        scores = [row["exercises"][e]["score"] for e in ids]
        shown = ("" if s is None else s for s in scores)
        total = "" if row["total"] is None else row["total"]
        more = []
        if policy:
            record = row["late"]
            more = [
                _blank(row["raw_total"]),
                _blank(record["days_late"]),
                f"{record['penalty_percent']:g}",
            ]
        if renamed:
            more.append(cell(_submitted_as(row)))
        writer.writerow([cell(row["student"]), *shown, total, *more])
    return buffer.getvalue()


def _submitted_as(row: dict[str, Any]) -> str:
    """The files graded under another name: "original -> exercise", "; "-separated."""
    return "; ".join(
        f"{r['submitted_as']} -> {ex}"
        for ex, r in row["exercises"].items()
        if r.get("submitted_as")
    )


def _blank(value: Any) -> Any:
    return "" if value is None else value


def canvas_csv(data: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180: a CR in an id is quoted too
    writer.writerow([*CANVAS_COLUMNS, CANVAS_ASSIGNMENT])
    writer.writerow(["Points Possible", "", "", "", "", data["max_total"]])
    for row in data["students"]:
        lms = row.get("lms", {})
        name = cell(lms.get("name") or row["student"])
        ids = [cell(lms.get(k, "")) for k in ("lms_id", "sis_id", "login")]
        total = "" if row["total"] is None else row["total"]
        writer.writerow([name, *ids, cell(lms.get("section", "")), total])
    return buffer.getvalue()


def missing_ids(data: dict[str, Any]) -> list[str]:
    """Students whose canvas.csv row has no id Canvas can match on (give --roster)."""
    return [
        row["student"]
        for row in data["students"]
        if not any(row.get("lms", {}).get(k) for k in ("lms_id", "sis_id", "login"))
    ]


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
