"""One readable Markdown report per student: what passed, what failed and why, and hints.

Everything a learner's code can influence (messages, values, printed output) is escaped
or fenced, so a submission cannot inject Markdown or HTML into its own report.
"""

from __future__ import annotations

import re
from typing import Any

_INLINE = re.compile(r"([\\`*\[\]<>|])")
_LINE_START = re.compile(r"^(\s*(?:\d+(?=[.)]))?)([#>+=.)-])")


def escape(text: str) -> str:
    """``text`` as literal Markdown on one line: no links, HTML, code or block structure."""
    flat = _INLINE.sub(r"\\\1", " ".join(str(text).split()))
    return _LINE_START.sub(r"\1\\\2", flat)


def code(text: str) -> str:
    """An inline code span that no backtick run inside ``text`` can close early."""
    text = " ".join(str(text).split())
    ticks = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(text: str) -> list[str]:
    ticks = "`" * max(3, max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    return [ticks + "text", text.rstrip("\n"), ticks]


def _check(check: dict[str, Any]) -> list[str]:
    lines = [
        f"#### ✗ {escape(check['title'])} ({check['points']}/{check['max_points']}, "
        f"{check['status'].replace('_', ' ')})",
        "",
    ]
    if check.get("message"):
        lines += [escape(check["message"]), ""]
    for label in ("call", "expected", "got"):
        if check.get(label):
            lines.append(f"- {'called' if label == 'call' else label}: {code(check[label])}")
    if check.get("hint"):
        lines.append(f"- hint: {escape(check['hint'])}")
    if check.get("glossary"):
        lines.append(f"- read: {code('dlgrade glossary ' + check['glossary'])}")
    if (check.get("output") or "").strip():
        tail = "\n".join(check["output"].strip().splitlines()[-10:])
        lines += ["- your code printed:", "", *fence(tail[-2000:])]
    return [*lines, ""]


def _exercise(info: dict[str, Any], result: dict[str, Any]) -> list[str]:
    score = "—" if result["score"] is None else result["score"]
    lines = [
        f"## {info['id']} — {escape(info['title'])}: {score}/{info['max_score']} "
        f"({result['status'].replace('_', ' ')})",
        "",
    ]
    if result["status"] == "grader_error":
        return [*lines, "Not graded yet: the grader itself failed (not your fault).", ""]
    if result["status"] == "not_graded":
        return [*lines, "Not graded yet.", ""]
    if result["status"] == "missing":
        return [*lines, escape(result.get("load_error") or "No file was submitted."), ""]
    checks = result["checks"]
    if result.get("load_error"):
        lines += ["Your file did not load:", "", *fence(result["load_error"]), ""]
    elif checks and all(c["status"] == "not_implemented" for c in checks):
        lines += ["Not started: every function still raises NotImplementedError.", ""]
    else:
        passed = [c for c in checks if c["passed"]]
        if passed:
            lines += [f"Passed ({len(passed)}/{len(checks)}):", ""]
            lines += [f"- ✓ {escape(c['title'])}" for c in passed] + [""]
        for check in checks:
            if not check["passed"]:
                lines += _check(check)
    return lines


def _late(row: dict[str, Any]) -> str:
    record = row["late"]
    when = escape(record["submitted_at"])
    if not record["days_late"]:
        return f"Submitted {when}: on time."
    return (
        f"Submitted {when}: {record['days_late']} day(s) late, "
        f"{record['penalty_percent']:g}% off: total {record['total']} "
        f"(before the penalty {row['raw_total']})."
    )


def student_markdown(row: dict[str, Any], data: dict[str, Any]) -> str:
    """The report for one student row of the class data (see exports.class_data)."""
    lines = [
        f"# Feedback for {escape(row['student'])}",
        "",
        f"**Total: {'—' if row['total'] is None else row['total']}/{data['max_total']}** · "
        f"{escape(data['course'])} · "
        f"your seed {row.get('seed', data['seed'])} "
        f"(`dlgrade check EXERCISE --seed {row.get('seed', data['seed'])}` repeats your run)",
        "",
    ]
    if (row.get("late") or {}).get("days_late") is not None:
        lines += [_late(row), ""]
    if row["notes"]:
        lines += ["Notes on your submission:", ""]
        lines += [f"- {escape(note)}" for note in row["notes"]] + [""]
    lines += ["| exercise | score | status |", "|---|---|---|"]
    for info in data["exercises"]:
        result = row["exercises"][info["id"]]
        score = "—" if result["score"] is None else result["score"]
        lines.append(f"| {info['id']} | {score}/{info['max_score']} | {result['status']} |")
    lines.append("")
    for info in data["exercises"]:
        lines += _exercise(info, row["exercises"][info["id"]])
    return "\n".join(lines).rstrip("\n") + "\n"
