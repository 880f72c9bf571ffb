"""Exports are derived from the gradebook alone, deterministic and safe for any student id."""

from __future__ import annotations

import csv
import io
import json

import pytest
from rich.console import Console

from grader.classgrade import analytics, gradebook
from grader.classgrade.csv_cells import cell
from grader.classgrade.exports import write_all
from grader.classgrade.feedback import code, escape
from grader.classgrade.names import digest, feedback_names
from grader.classgrade.run import missing_result
from grader.classgrade.summary_report import ProgressView, render
from grader.core.errors import InputError
from grader.course.info import load_course
from grader.grading.report import THEME
from grader.grading.results import CheckResult, ExerciseResult

COURSE = load_course()
EXERCISE = COURSE.get("00_weighted_sum")
ODD_IDS = [
    "-rf",
    ".hidden",
    "../up",
    "a/b\\c",
    'q"uote, comma',
    "new\nline",
    "Zoë",
    "zoë",
    "x" * 300,
]


def fake_result(passed: set[str], *, output: str = "", message: str = "wrong") -> dict:
    result = ExerciseResult(
        EXERCISE.id, EXERCISE.title, EXERCISE.file_name, seed=1, isolation="bubblewrap"
    )
    for name, points in EXERCISE.points.items():
        ok = name in passed
        result.checks.append(
            CheckResult(
                name,
                name.replace("_", " "),
                "passed" if ok else "failed",
                points if ok else 0,
                points,
                "" if ok else message,
                expected="1.0",
                got="2.0",
                output=output,
            )
        )
    return result.to_dict()


def make_gradebook(tmp_path, rows: dict[str, dict]):
    settings = gradebook.Settings(seed=1, exercises=(EXERCISE.id,))
    conn = gradebook.create(tmp_path, settings)
    for student, result in rows.items():
        gradebook.record_student(conn, student, [])
        gradebook.commit(conn, student, result, None)
    return conn


def test_feedback_names_are_safe_distinct_and_stable():
    names = list(feedback_names(ODD_IDS).values())
    assert len(set(names)) == len(set(n.lower() for n in names)) == len(ODD_IDS)
    for name in names:
        assert "/" not in name and "\\" not in name and "\n" not in name
        assert not name.startswith((".", "-")) and name.endswith(".md") and len(name) < 80
        assert name.isascii()
    assert feedback_names(ODD_IDS) == feedback_names(reversed(ODD_IDS))


def test_feedback_is_named_after_the_student_and_colliding_names_get_a_hash():
    names = feedback_names(["ann", "Zoë", "zoë", "bob smith", "bob-smith", "bob-smith-x"])
    assert names["ann"] == "ann.md" and names["bob-smith-x"] == "bob-smith-x.md"
    # "Zoë" and "zoë" fold to the same name (also on a case-insensitive disk): both hashed
    assert names["Zoë"] == f"Zoe-{digest('Zoë')}.md" and names["zoë"] == f"zoe-{digest('zoë')}.md"
    assert names["bob smith"] == f"bob-smith-{digest('bob smith')}.md"
    assert names["bob-smith"] == f"bob-smith-{digest('bob-smith')}.md"
    # an id that is itself "<name>-<hash>" of a clashing classmate cannot take their file
    sneaky = f"bob-smith-{digest('bob smith')}"
    tricky = feedback_names(["bob smith", "bob-smith", sneaky])
    assert len(set(tricky.values())) == 3


def test_odd_student_ids_survive_the_csv_and_the_exports_are_deterministic(tmp_path):
    everything = set(EXERCISE.points)
    conn = make_gradebook(tmp_path, {s: fake_result(everything) for s in ODD_IDS})
    write_all(conn, tmp_path, COURSE)
    first = {
        p.name: p.read_bytes()
        for p in tmp_path.rglob("*")
        if p.is_file() and "sqlite" not in p.name
    }
    rows = list(csv.reader(io.StringIO((tmp_path / "grades.csv").read_text(encoding="utf-8"))))
    assert [r[0] for r in rows[1:]] == [cell(s) for s in sorted(ODD_IDS)]
    assert all(r[1:] == ["26", "26"] for r in rows[1:])
    write_all(conn, tmp_path, COURSE)
    again = {
        p.name: p.read_bytes()
        for p in tmp_path.rglob("*")
        if p.is_file() and "sqlite" not in p.name
    }
    assert again == first
    assert sorted(p.name for p in (tmp_path / "feedback").iterdir()) == sorted(
        feedback_names(ODD_IDS).values()
    )


def test_student_ids_that_look_like_formulas_stay_text_in_spreadsheets(tmp_path):
    ids = ['=HYPERLINK("http://evil.example","x")', "+1+1", "@SUM(A1)", "-2", "ada"]
    conn = make_gradebook(tmp_path, {s: fake_result(set(EXERCISE.points)) for s in ids})
    data = write_all(conn, tmp_path, COURSE)
    for name, column in (("grades.csv", 0), ("canvas.csv", 0)):
        text = (tmp_path / name).read_text(encoding="utf-8")
        cells = [r[column] for r in csv.reader(io.StringIO(text))]
        shown = {c for c in cells if c.lstrip("'") in ids}
        assert shown == {"'" + s for s in ids if s != "ada"} | {"ada"}, name
    assert sorted(r["student"] for r in data["students"]) == sorted(ids)  # JSON keeps the id


def test_learner_text_cannot_inject_markdown_into_feedback(tmp_path):
    nasty = "# Full marks\n<script>alert(1)</script> [link](http://x) ```"
    conn = make_gradebook(
        tmp_path, {"mallory": fake_result(set(), output="```\n# hi\n" + nasty, message=nasty)}
    )
    write_all(conn, tmp_path, COURSE)
    text = (tmp_path / "feedback" / "mallory.md").read_text(encoding="utf-8")
    outside, fence = [], None
    for line in text.splitlines():
        if fence is None and line.startswith("```"):
            fence = line.removesuffix("text")
        elif fence is not None and line == fence:
            fence = None
        elif fence is None:
            outside.append(line)
    assert fence is None and "````text" in text
    assert not any(line.startswith("# Full") or "<script>" in line for line in outside)
    assert any("\\<script\\>" in line for line in outside)
    assert escape("a_b*c [x](y)") == "a_b\\*c \\[x\\](y)"
    assert escape("1. item") == "1\\. item" and escape("# title") == "\\# title"
    assert code("x`y") == "``x`y``"


def test_missing_files_and_grader_errors_are_not_the_same(tmp_path):
    conn = make_gradebook(tmp_path, {"ann": missing_result(EXERCISE, 1, "no file")})
    gradebook.record_student(conn, "ben", [])
    gradebook.record_grader_error(conn, "ben", EXERCISE.id, "the sandbox did not start")
    data = write_all(conn, tmp_path, COURSE)
    rows = {r["student"]: r["exercises"][EXERCISE.id] for r in data["students"]}
    assert rows["ann"]["status"] == "missing" and rows["ann"]["score"] == 0
    assert rows["ben"]["status"] == "grader_error" and rows["ben"]["score"] is None
    assert (tmp_path / "grades.csv").read_text().splitlines()[1:] == ["ann,0,0", "ben,,"]
    assert gradebook.done(conn) == {("ann", EXERCISE.id)}


def test_the_summary_ranks_checks_by_failure_rate_leaving_out_stubs_and_missing(tmp_path):
    all_checks = set(EXERCISE.points)
    stub = fake_result(set())
    for check in stub["checks"]:
        check["status"] = "not_implemented"
    rows = {
        "a": fake_result(all_checks),
        "b": fake_result(all_checks - {"weighted_sum_adds_bias"}),
        "c": fake_result(all_checks - {"weighted_sum_adds_bias", "count_parameters_single_layer"}),
        "d": stub,
        "e": missing_result(EXERCISE, 1, "no file"),
    }
    summary = analytics.summarize(write_all(make_gradebook(tmp_path, rows), tmp_path, COURSE))
    top = summary.hardest[0]
    assert (top["check"], top["failed"], top["attempted"]) == ("weighted_sum_adds_bias", 2, 3)
    assert summary.hardest[1]["check"] == "count_parameters_single_layer"
    stats = summary.exercises[0]
    assert (stats.submitted, stats.passed, stats.median) == (4, 1, 23.5)
    assert sum(b["count"] for b in summary.histogram) == 5
    assert [summary.histogram[i]["count"] for i in (0, 8, 9)] == [2, 1, 2]
    json.dumps(summary.to_dict())


def test_resume_refuses_settings_that_differ_from_the_gradebook(tmp_path):
    gradebook.create(tmp_path, gradebook.Settings(seed=4, exercises=(EXERCISE.id,))).close()
    with pytest.raises(InputError, match="seed"):
        gradebook.reopen(tmp_path, seed=5)
    conn, settings = gradebook.reopen(tmp_path, seed=None, exercises=None)
    assert settings.seed == 4
    conn.close()
    with pytest.raises(InputError, match="--resume"):
        gradebook.create(tmp_path, settings)


def test_the_class_summary_renders_for_people(tmp_path):
    rows = {
        "ann": fake_result(set(EXERCISE.points)),
        "ben": fake_result(set(EXERCISE.points) - {"weighted_sum_adds_bias"}),
        "cy": missing_result(EXERCISE, 1, "zip entry '../x' points outside its folder"),
    }
    rows["ben"]["checks"][0]["status"] = "timeout"
    conn = make_gradebook(tmp_path, rows)
    gradebook.record_student(conn, "cy", ["zip entry '../x' points outside its folder: refused"])
    summary = analytics.summarize(write_all(conn, tmp_path, COURSE))
    summary.run = {"out": str(tmp_path), "graded": 2, "seconds": 1.5}
    buffer = io.StringIO()
    render(Console(file=buffer, width=100, color_system=None, theme=THEME), summary)
    text = buffer.getvalue()
    assert "Total scores" in text and "█" in text
    assert "Most failed checks (what to re-teach)" in text and "weighted sum adds bias" in text
    assert "Timed out or crashed (1)" in text and '"ben" · 00_weighted_sum: timeout' in text
    assert (
        "Notes on submissions (refused, renamed or unknown files, roster) (1)" in text
        and "outside its folder" in text
    )


def test_progress_is_plain_lines_when_stderr_is_not_a_terminal(capsys):
    with ProgressView(2) as progress:
        progress.advance("new\nline", EXERCISE.id, "passed")
        progress.advance("b", EXERCISE.id, "failed")
    assert capsys.readouterr().err.splitlines() == [
        '[1/2] 00_weighted_sum "new\\nline": passed',
        '[2/2] 00_weighted_sum "b": failed',
    ]
