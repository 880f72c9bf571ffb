"""One Gradescope submission: grade it and write Gradescope's autograder ``results.json``.

Format (gradescope-autograders.readthedocs.io, "Autograder Specifications"): top-level
``score``, ``execution_time``, ``output`` and ``output_format``, ``test_output_format``,
``visibility``, ``stdout_visibility``, ``extra_data`` (seed, dlgrade version, sandbox),
``tests`` and, when exercise 04 was graded, ``leaderboard`` (its test accuracy; the
instructor can leave it out). Each test has ``score``, ``max_score``, ``status`` (passed or
failed), ``name``, ``number``, ``output`` in Markdown with ``output_format: "md"``, and
``visibility``. One test per check, numbered "exercise.check". A learner's messages and
printed output are escaped or fenced in the Markdown. A grader error writes nothing
(Gradescope then reports a failed autograder run, not a zero).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grader import __version__
from grader.classgrade import notebook_files
from grader.classgrade.feedback import code, escape, fence
from grader.classgrade.layouts import finish
from grader.classgrade.matching import Matcher
from grader.classgrade.page_payload import number
from grader.classgrade.pool import Boxes, Chunk, Job, grade_chunk
from grader.classgrade.run import missing_result
from grader.classgrade.submissions import read_folder
from grader.core.atomic import write_text
from grader.core.errors import GraderError
from grader.course.info import Exercise
from grader.sandbox.launch import learner_uid

AUTOGRADER = Path("/autograder")
SLOT = 2900
LEADERBOARD_EXERCISE = "04_mnist_mlp"
LEADERBOARD_NAME = "04 test accuracy (%)"


def default_out() -> Path:
    """Where Gradescope expects the results, or ./results.json outside Gradescope."""
    if AUTOGRADER.is_dir():
        return AUTOGRADER / "results" / "results.json"
    return Path("results.json")


def _test_output(check: dict[str, Any]) -> str:
    """A check's outcome as Markdown; everything the learner's code produced is escaped."""
    if check["passed"]:
        return "✓ passed"
    lines = [escape(check["message"] or check["status"].replace("_", " ")), ""]
    for label in ("call", "expected", "got"):
        if check.get(label):
            lines.append(f"- {'called' if label == 'call' else label}: {code(check[label])}")
    if check.get("hint"):
        lines.append(f"- hint: {escape(check['hint'])}")
    if (check.get("output") or "").strip():
        lines += ["", "your code printed:", "", *fence(check["output"].strip()[-2000:])]
    return "\n".join(lines).strip()


def _tests(number: int, result: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "name": f"{result['exercise']}: {check['title']}",
            "number": f"{number}.{index}",
            "score": check["points"],
            "max_score": check["max_points"],
            "status": "passed" if check["passed"] else "failed",
            "output": _test_output(check),
            "output_format": "md",
            "visibility": "visible",
        }
        for index, check in enumerate(result["checks"], start=1)
    ]


def accuracy(result: dict[str, Any]) -> float | None:
    """Exercise 04's test accuracy in percent, when the grader measured one."""
    value = number((result.get("artifacts") or {}).get("accuracy"))
    return round(value * 100, 2) if value is not None and 0 <= value <= 1 else None


def results_json(
    results: Sequence[dict[str, Any]],
    notes: list[str],
    seconds: float,
    *,
    seed: int | None = None,
    sandbox: str = "",
    leaderboard: bool = True,
) -> dict:
    """Gradescope's results.json for one student's exercise results."""
    lines = [f"- {r['exercise']}: {r['score']}/{r['max_score']}" for r in results]
    lines += [f"- note: {escape(n)}" for n in notes]
    data: dict[str, Any] = {
        "score": sum(r["score"] for r in results),
        "execution_time": round(seconds),
        "output": "\n".join(lines),
        "output_format": "md",
        "test_output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {
            "seed": seed,
            "dlgrade_version": __version__,
            "sandbox": sandbox
            or ", ".join(sorted({r.get("isolation") or "" for r in results} - {""})),
        },
        "tests": [t for n, r in enumerate(results, start=1) for t in _tests(n, r)],
    }
    board = [
        {"name": LEADERBOARD_NAME, "value": accuracy(r), "order": "desc"}
        for r in results
        if r["exercise"] == LEADERBOARD_EXERCISE and accuracy(r) is not None
    ]
    if leaderboard and board:
        data["leaderboard"] = board
    return data


def grade_submission(
    folder: Path,
    out: Path,
    exercises: Sequence[Exercise],
    *,
    sandbox: bool | None = None,
    seed: int | None = None,
    budget: float | None = None,
    options: dict[str, Any] | None = None,
    leaderboard: bool = True,
) -> dict[str, Any]:
    """Grade the files in ``folder`` and write ``out``; returns what was written.

    ``sandbox=None`` (the default here) uses bubblewrap where it can create its
    namespaces and the rlimits sandbox where it cannot (Gradescope's container
    already isolates one submission); True insists on bubblewrap; False never uses it.
    """
    started = time.perf_counter()
    seed = seed if seed is not None else secrets.randbelow(2**31)
    wanted = [e.file_name for e in exercises]
    found = read_folder(folder, wanted, student="submission", match=Matcher(wanted))
    finish(found)
    job = Job(seed, budget, dict(options or {}), sandbox, (str(folder.resolve()),))
    boxes = Boxes(job, learner_uid(SLOT))
    results = []
    try:
        for number, ex in enumerate(exercises):
            source = found.files.get(ex.file_name)
            if source is None:
                note = found.refused.get(ex.file_name) or f"no {ex.file_name} was submitted"
                results.append(missing_result(ex, seed, note))
                continue
            got: list[dict[str, Any]] = []
            grade_chunk(
                Chunk(number, ex.id, ("submission",), (source,)),
                job,
                boxes,
                lambda _i, result, got=got: got.append(result),
            )
            if got[0].get("grader_error"):
                raise GraderError(f"{ex.id}: grader error: {got[0]['grader_error']}")
            results.append(
                notebook_files.relabel(got[0], found.cells.get(ex.file_name), ex.file_name)
            )
    finally:
        boxes.close()
    data = results_json(
        results, found.notes, time.perf_counter() - started, seed=seed, leaderboard=leaderboard
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, json.dumps(data, indent=2, ensure_ascii=False))
    return data
