"""The numbers and texts report.html shows, from the gradebook (plus similarity.csv if present).

Everything here is plain data; :mod:`grader.classgrade.html_report` renders it. Learner text
(ids, messages, printed output) is kept as text and clipped; it is escaped where it is shown.
"""

from __future__ import annotations

import csv
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

from grader.classgrade import gradebook
from grader.classgrade.analytics import histogram, summarize
from grader.classgrade.exports import class_data
from grader.classgrade.late import Policy
from grader.classgrade.page_payload import number, payload
from grader.core.untrusted import clip
from grader.course.info import Course

MESSAGES_SHOWN = 3
UNGRADED = ("missing", "grader_error", "not_graded")
FLAGGED = ("timeout", "crashed")
SIMILARITY_PLACES = (".", "similarity")


def page(conn: sqlite3.Connection, out: Path, course: Course) -> dict[str, Any]:
    """Everything report.html shows for the gradebook on ``conn`` in folder ``out``."""
    data = class_data(conn, course)
    summary = summarize(data)
    runs = gradebook.runs(conn)
    exercises = [_exercise(info, data) for info in data["exercises"]]
    totals = [r["total"] for r in data["students"] if r["total"] is not None]
    pending = sum(
        r["status"] in ("not_graded", "grader_error")
        for row in data["students"]
        for r in row["exercises"].values()
    )
    return {
        "header": _header(data, summary, runs, gradebook.settings(conn)),
        "incomplete": pending > 0 or bool(runs and runs[-1].get("finished") is None),
        "pending": pending,
        "results": len(data["students"]) * len(data["exercises"]),
        "exercises": exercises,
        "total": {"max": data["max_total"], "bins": histogram(totals, data["max_total"])},
        "accuracy": [a for a in (_accuracy(info, data) for info in data["exercises"]) if a],
        "checks": _checks(data),
        "students": [_row(row, data) for row in data["students"]],
        "late": bool(data.get("late_policy")),
        "renamed": any(_submitted_as(row) for row in data["students"]),
        "similarity": _similarity(out, {e["id"] for e in data["exercises"]}),
        "payload": payload(data),
    }


def _seed(settings: gradebook.Settings) -> str:
    """How the seeds were chosen, never the class secret (nor --seed, which derives it)."""
    if not settings.secret:
        return str(settings.seed)
    if settings.secret.startswith("seed:"):
        return "one per student, derived from the --seed given (each student's is on their page)"
    return "one per student, from a random class secret (each student's is on their page)"


def _header(
    data: dict[str, Any], summary: Any, runs: list[dict[str, Any]], settings: gradebook.Settings
) -> dict[str, Any]:
    sandboxes = sorted({r["sandbox"] for r in runs if r.get("sandbox")} | set(summary.isolation))
    seconds = [r["seconds"] for r in runs if isinstance(r.get("seconds"), (int, float))]
    return {
        "course": data["course"],
        "seed": _seed(settings),
        "versions": sorted({r["version"] for r in runs if r.get("version")}) or ["unknown"],
        "sandbox": ", ".join(sandboxes) or "unknown",
        "limits": summary.sandbox,
        "date": runs[-1].get("started", "unknown") if runs else "unknown",
        "seconds": round(sum(seconds), 1) if seconds else None,
        "runs": len(runs),
        "interrupted": sum(r.get("finished") is None for r in runs),
        "students": len(data["students"]),
        "layout": data.get("layout"),
        "late_policy": _policy(data.get("late_policy")),
    }


def _policy(policy: dict[str, Any] | None) -> str | None:
    if not policy:
        return None
    return Policy.from_dict(policy).describe()


def _exercise(info: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    rows = [r["exercises"][info["id"]] for r in data["students"]]
    scores = [r["score"] for r in rows if r["status"] not in UNGRADED]
    stats = summarize({**data, "exercises": [info]}).exercises[0]
    return {
        **info,
        "mean": stats.mean,
        "median": stats.median,
        "submitted": stats.submitted,
        "passed": stats.passed,
        "missing": sum(r["status"] == "missing" for r in rows),
        "pending": sum(r["status"] in ("grader_error", "not_graded") for r in rows),
        "bins": histogram(scores, info["max_score"]),
    }


def _accuracy(info: dict[str, Any], data: dict[str, Any]) -> dict[str, Any] | None:
    found = []
    for row in data["students"]:
        value = number((row["exercises"][info["id"]].get("artifacts") or {}).get("accuracy"))
        if value is not None and 0 <= value <= 1:
            found.append(value)
    if not found:
        return None
    return {
        "id": info["id"],
        "count": len(found),
        "median": round(sorted(found)[len(found) // 2] * 100, 2),
        "bins": histogram([round(v * 1000) for v in found], 1000),
    }


def _attempted(result: dict[str, Any]) -> bool:
    checks = result["checks"]
    if result["status"] in UNGRADED or not checks:
        return False
    return not all(c["status"] == "not_implemented" for c in checks)


def _checks(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every check tried by someone: failure rate, common messages, known mistakes."""
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for info in data["exercises"]:
        for row in data["students"]:
            result = row["exercises"][info["id"]]
            if not _attempted(result):
                continue
            for check in result["checks"]:
                entry = table.setdefault(
                    (info["id"], check["name"]),
                    {
                        "tried": 0,
                        "failed": 0,
                        "title": check["title"],
                        "messages": Counter(),
                        "mistakes": Counter(),
                    },
                )
                entry["tried"] += 1
                if not check["passed"]:
                    entry["failed"] += 1
                    message = " ".join(str(check.get("message") or check["status"]).split())
                    entry["messages"][clip(message, 300)] += 1
                    if check.get("mistake"):
                        entry["mistakes"][str(check["mistake"])] += 1
    rows = [
        {
            "exercise": ex,
            "check": name,
            "title": e["title"],
            "tried": e["tried"],
            "failed": e["failed"],
            "rate": round(100 * e["failed"] / e["tried"], 1),
            "messages": e["messages"].most_common(MESSAGES_SHOWN),
            "others": sum(e["messages"].values())
            - sum(n for _, n in e["messages"].most_common(MESSAGES_SHOWN)),
            "mistakes": sorted(e["mistakes"]),
        }
        for (ex, name), e in table.items()
    ]
    rows.sort(key=lambda r: (-r["rate"], r["exercise"], r["check"]))
    return rows


def _flags(row: dict[str, Any]) -> list[str]:
    flags = []
    for ex, result in row["exercises"].items():
        if result["status"] in FLAGGED:
            flags.append(f"{ex} {result['status']}")
        elif result["status"] == "grader_error":
            flags.append(f"{ex} grader error")
        elif result["status"] == "not_graded":
            flags.append(f"{ex} not graded yet")
    renamed = len(_submitted_as(row))
    unknown = sum(n.startswith("not graded:") for n in row["notes"])
    refused = len(row["notes"]) - renamed - unknown
    lms = row.get("lms") or {}
    if refused:
        flags.append(f"{refused} file note(s)")
    if unknown:
        flags.append(f"{unknown} unknown file name(s)")
    if lms.get("roster") == "unknown":
        flags.append("not on the roster")
    elif lms.get("roster") == "missing":
        flags.append("nothing submitted")
    return flags


def _submitted_as(row: dict[str, Any]) -> list[str]:
    """ "original → exercise file" for each file graded under another name."""
    return [
        f"{r['submitted_as']} → {ex}" for ex, r in row["exercises"].items() if r.get("submitted_as")
    ]


def _late(row: dict[str, Any]) -> str:
    record = row.get("late") or {}
    if record.get("days_late") is None:
        return "time unknown" if record else ""
    if not record["days_late"]:
        return "on time"
    return f"{record['days_late']} d, −{record['penalty_percent']:g}%"


def _row(row: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    record = row.get("late") or {}
    return {
        "student": row["student"],
        "total": row["total"],
        "raw_total": row.get("raw_total", row["total"]),
        "late": _late(row),
        "late_percent": record.get("penalty_percent") or 0,
        "submitted_as": _submitted_as(row),
        "scores": [row["exercises"][e["id"]] for e in data["exercises"]],
        "flags": _flags(row),
    }


def _similarity(out: Path, exercises: set[str]) -> dict[str, Any] | None:
    """The pairs in a similarity.csv in ``out`` or ``out/similarity``, with report links."""
    for place in SIMILARITY_PLACES:
        path = out / place / "similarity.csv"
        if not path.is_file():
            continue
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
        except (OSError, UnicodeDecodeError, csv.Error):
            return None
        fields = ("student_a", "student_b", "similarity_a", "similarity_b", "token_overlap")
        pairs = [
            r for r in rows if r.get("exercise") in exercises and all(r.get(f) for f in fields)
        ]
        links = {
            ex: f"{place}/{ex}.html".removeprefix("./")
            for ex in sorted({r["exercise"] for r in pairs})
            if (out / place / f"{ex}.html").is_file()
        }
        return {"csv": f"{place}/similarity.csv".removeprefix("./"), "pairs": pairs, "links": links}
    return None
