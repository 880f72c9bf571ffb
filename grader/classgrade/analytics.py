"""The class summary as numbers: score histogram, mean and median per exercise, the checks
failed most often (what to re-teach), and the runs that timed out or crashed.

Means and medians are over the students who submitted the exercise. Failure rates leave
out missing files and untouched stubs, which fail every check and say nothing about a
particular idea.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from grader.sandbox import modes

BINS = 10
HARDEST = 8


@dataclass
class ExerciseStats:
    id: str
    title: str
    max_score: int
    submitted: int
    passed: int
    mean: float | None
    median: float | None


@dataclass
class Summary:
    """What the instructor sees after a run (rendered by summary_report, or as --json)."""

    students: int
    max_total: int
    seed: int | None
    exercises: list[ExerciseStats]
    histogram: list[dict[str, Any]]
    hardest: list[dict[str, Any]]
    troubled: list[dict[str, str]]
    grader_errors: list[dict[str, str]]
    refused: list[dict[str, str]]
    isolation: list[str]
    sandbox: list[str] = field(default_factory=list)  # one modes.line per mode used
    unenforced: dict[str, list[str]] = field(default_factory=dict)  # mode -> what it cannot
    run: dict[str, Any] = field(default_factory=dict)
    attention: int = 0  # students with an exercise the grader could not grade
    report: str | None = None  # where report.html went (or why it was not written)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def histogram(totals: list[int], max_total: int, bins: int = BINS) -> list[dict[str, Any]]:
    """How many students' totals fall in each tenth of the maximum (the last bin is closed)."""
    counts = [0] * bins
    for total in totals:
        share = total / max_total if max_total else 0.0
        counts[min(int(share * bins), bins - 1)] += 1
    step = 100 // bins
    return [{"low": i * step, "high": (i + 1) * step, "count": n} for i, n in enumerate(counts)]


def _stats(info: dict[str, Any], rows: list[dict[str, Any]]) -> ExerciseStats:
    scores = [
        r["score"] for r in rows if r["status"] not in ("missing", "grader_error", "not_graded")
    ]
    return ExerciseStats(
        info["id"],
        info["title"],
        info["max_score"],
        len(scores),
        sum(r["status"] == "passed" for r in rows),
        round(statistics.fmean(scores), 2) if scores else None,
        statistics.median(scores) if scores else None,
    )


def _attempted(result: dict[str, Any]) -> bool:
    checks = result["checks"]
    if result["status"] in ("missing", "grader_error", "not_graded") or not checks:
        return False
    return not all(c["status"] == "not_implemented" for c in checks)


def hardest_checks(data: dict[str, Any], limit: int = HARDEST) -> list[dict[str, Any]]:
    """The checks with the highest failure rate among real attempts, worst first."""
    counts: dict[tuple[int, str, str], list] = {}
    for index, info in enumerate(data["exercises"]):
        for row in data["students"]:
            result = row["exercises"][info["id"]]
            if not _attempted(result):
                continue
            for check in result["checks"]:
                entry = counts.setdefault(
                    (index, info["id"], check["name"]), [check["title"], 0, 0]
                )
                entry[1] += 1
                entry[2] += not check["passed"]
    ranked = [
        {
            "exercise": ex,
            "check": name,
            "title": title,
            "attempted": n,
            "failed": bad,
            "rate": round(bad / n, 3),
        }
        for (_, ex, name), (title, n, bad) in counts.items()
        if bad
    ]
    ranked.sort(key=lambda r: -r["rate"])
    return ranked[:limit]


def summarize(data: dict[str, Any]) -> Summary:
    """The summary numbers for the class data built by exports.class_data."""
    rows = data["students"]
    troubled, errors, refused, isolation = [], [], [], set()
    sandbox: dict[str, list[str]] = {}
    for row in rows:
        refused += [{"student": row["student"], "note": n} for n in row["notes"]]
        for ex, result in row["exercises"].items():
            if result.get("isolation"):
                isolation.add(result["isolation"])
            if isinstance(result.get("mode"), str) and result["mode"]:
                missing = result.get("unenforced")
                sandbox[result["mode"]] = [str(m) for m in missing or [] if isinstance(m, str)]
            if result["status"] in ("timeout", "crashed"):
                troubled.append(
                    {"student": row["student"], "exercise": ex, "status": result["status"]}
                )
            if result["status"] == "grader_error":
                errors.append(
                    {"student": row["student"], "exercise": ex, "message": result["grader_error"]}
                )
    return Summary(
        students=len(rows),
        max_total=data["max_total"],
        seed=data["seed"],
        exercises=[_stats(i, [r["exercises"][i["id"]] for r in rows]) for i in data["exercises"]],
        histogram=histogram(
            [r["total"] for r in rows if r["total"] is not None], data["max_total"]
        ),
        hardest=hardest_checks(data),
        troubled=troubled,
        grader_errors=errors,
        refused=refused,
        isolation=sorted(isolation),
        sandbox=[modes.line(mode, missing) for mode, missing in sorted(sandbox.items())],
        unenforced=dict(sorted(sandbox.items())),
        attention=len({e["student"] for e in errors}),
    )
