"""The JSON report.html's script reads: what a click on a student shows.

Texts are stored once in a string table and referred to by index, and a failed check is a
short list (CHECK_FIELDS), which keeps a 1,000-student report a few MB. A learner-reported
training history is kept only as finite numbers.
"""

from __future__ import annotations

import math
from typing import Any

from grader.core.untrusted import clip

OUTPUT_LINES = 10
TEXT_BYTES = 2000
CURVE_POINTS = 500


def number(value: Any) -> float | None:
    """``value`` if it is a finite number (not a bool), else None."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def _tail(text: Any) -> str:
    lines = str(text or "").strip().splitlines()[-OUTPUT_LINES:]
    return clip("\n".join(lines), TEXT_BYTES)


class Strings:
    """The texts the page script shows, each distinct one stored once (titles, hints and
    messages recur for hundreds of students)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, text: Any) -> int | None:
        if text is None or text == "":
            return None
        text = clip(text, TEXT_BYTES) if isinstance(text, str) else str(text)
        return self.index.setdefault(text, len(self.index))

    def table(self) -> list[str]:
        return list(self.index)


CHECK_FIELDS = ("title", "status", "message", "call", "expected", "got", "hint", "mistake")


def _check_details(check: dict[str, Any], s: Strings) -> list[Any]:
    """A failed check as a short list: CHECK_FIELDS (string indexes), points, max, output."""
    texts = [s(check.get(k)) for k in CHECK_FIELDS]
    output = s(_tail(check.get("output")))
    return [*texts, check.get("points"), check.get("max_points"), output]


def _curve(history: Any) -> dict[str, list[float]]:
    """A learner-reported training history, numbers only (anything else dropped)."""
    if not isinstance(history, dict):
        return {}
    curves = {}
    for name, values in list(history.items())[:8]:
        if not isinstance(values, list) or not ("loss" in name or "acc" in name):
            continue
        points = [number(v) for v in values[:CURVE_POINTS]]
        if points and all(p is not None for p in points):
            curves[clip(name, 60)] = [round(p, 5) for p in points]
    return curves


def details(row: dict[str, Any], data: dict[str, Any], s: Strings) -> dict[str, Any]:
    """What a click on a student shows: per exercise, the failing checks and why."""
    exercises = []
    for info in data["exercises"]:
        result = row["exercises"][info["id"]]
        checks = result["checks"]
        artifacts = result.get("artifacts") or {}
        exercises.append(
            {
                "status": result["status"],
                "score": result["score"],
                "problem": s(result.get("load_error") or result.get("grader_error")),
                "not_started": bool(checks)
                and all(c["status"] == "not_implemented" for c in checks),
                "passed": [s(c["title"]) for c in checks if c["passed"]],
                "failed": [_check_details(c, s) for c in checks if not c["passed"]],
                "accuracy": number(artifacts.get("accuracy")),
                "curve": _curve(artifacts.get("history")),
            }
        )
    return {
        "student": row["student"],
        "total": row["total"],
        "seed": row["seed"],
        "feedback": row["feedback"],
        "notes": [s(n) for n in row["notes"]],
        "exercises": exercises,
    }


def payload(data: dict[str, Any]) -> dict[str, Any]:
    """The JSON the page script reads: the string table, exercises and every student."""
    s = Strings()
    students = [details(row, data, s) for row in data["students"]]
    return {
        "check_fields": [*CHECK_FIELDS, "points", "max_points", "output"],
        "strings": s.table(),
        "exercises": [
            {"id": e["id"], "title": e["title"], "max": e["max_score"]} for e in data["exercises"]
        ],
        "max": data["max_total"],
        "students": students,
    }
