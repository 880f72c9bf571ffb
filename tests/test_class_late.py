"""`--late-policy`: the due date, grace, per-day penalty and cap, from real class runs.

Submission times come from a Gradescope export's ``:created_at:`` or from the instructor's
``--submitted-at`` CSV. The penalty is applied to the total in grades.csv, canvas.csv,
results.json and report.html, with the raw total beside it; a bad policy is a one-line
error (exit 2) with nothing written.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import needs_bwrap
from test_class_grade import run_grade, solution, write

from grader.classgrade import late
from grader.core.errors import InputError

DUE = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
POLICY = """\
due = 2026-03-01T23:59:00Z
per_day = "10%"
max = "30%"
grace = "2h"
"""


def at(hours: float) -> datetime:
    return DUE + timedelta(hours=hours)


def test_days_late_count_from_the_end_of_the_grace_period_each_started_day_whole():
    policy = late.parse("due=2026-03-01T23:59Z,10%/day,grace=2h")
    assert policy.penalty(at(-5)) == (0, 0.0)
    assert policy.penalty(at(2)) == (0, 0.0)  # inside the grace period
    assert policy.penalty(at(2.01)) == (1, 10.0)
    assert policy.penalty(at(26)) == (1, 10.0)
    assert policy.penalty(at(26.5)) == (2, 20.0)
    assert policy.penalty(at(24 * 30)) == (30, 100.0)  # never more than everything


def test_the_cap_stops_the_penalty_in_percent_or_in_days():
    by_percent = late.parse("due=2026-03-01T23:59Z,10%/day,max=30%")
    by_days = late.parse("due=2026-03-01T23:59Z,15%/day,max=2d")
    assert by_percent.penalty(at(24 * 5)) == (5, 30.0)
    assert by_days.penalty(at(24 * 5)) == (5, 30.0)
    assert by_days.penalty(at(1)) == (1, 15.0)


def test_a_policy_file_gives_the_same_policy_as_inline_settings(tmp_path):
    (tmp_path / "late.toml").write_text(POLICY, encoding="utf-8")
    inline = late.parse("due=2026-03-01T23:59:00+00:00, per_day=10%, max=30%, grace=2h")
    assert late.parse(str(tmp_path / "late.toml")) == inline
    assert late.parse("none") is None and late.parse(None) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('due = 2026-03-01T23:59:00\nper_day = "10%"\n', "no time zone"),
        ('per_day = "10%"\n', "no due date"),
        ("due = 2026-03-01T23:59:00Z\n", "no penalty per day"),
        ('due = 2026-03-01T23:59:00Z\nper_day = "ten"\n', "not a percentage"),
        ('due = 2026-03-01T23:59:00Z\nper_day = "150%"\n', "between 0% and 100%"),
        ('due = 2026-03-01T23:59:00Z\nper_day = "10%"\nmax = "soon"\n', "not a duration"),
        ('due = 2026-03-01T23:59:00Z\nper_day = "10%"\ngrace = "-2h"\n', "not a duration"),
        ('due = 2026-03-01T23:59:00Z\nper_day = "10%"\ncolour = "red"\n', "unknown setting"),
        ("due = [\n", "not valid TOML"),
    ],
)
def test_bad_policy_files_are_refused_with_what_is_wrong(tmp_path, text, says):
    (tmp_path / "late.toml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=says):
        late.parse(str(tmp_path / "late.toml"))


def test_a_policy_that_is_neither_a_file_nor_settings_is_refused():
    with pytest.raises(InputError, match="no such file"):
        late.parse("late-policy.toml")


def rows(path: Path) -> dict[str, list[str]]:
    return {r[0]: r for r in csv.reader(io.StringIO(path.read_text(encoding="utf-8")))}


def export(root: Path, times: dict[str, str]) -> Path:
    """A Gradescope export: every student hands in a correct 00_weighted_sum.py at ``times``."""
    lines = []
    for number, (sid, when) in enumerate(times.items(), start=1):
        write(root / f"submission_{number}", {"00_weighted_sum.py": solution("00_weighted_sum")})
        lines += [
            f"submission_{number}:",
            "  :submitters:",
            f"  - :name: Student {sid}",
            f"    :sid: '{sid}'",
            f"  :created_at: {when}",
        ]
    (root / "submission_metadata.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@needs_bwrap(reason="class grading is strict: needs bwrap")
def test_the_penalty_reaches_every_export_with_the_raw_total_beside_it(tmp_path):
    root = export(
        tmp_path / "export",
        {
            "early": "2026-03-01 12:00:00.000000000 +00:00",
            "grace": "2026-03-02 01:30:00.000000000 +00:00",  # 1.5 h late: inside the grace
            "late2": "2026-03-03 12:00:00.000000000 +00:00",  # 36.5 h: 2 started days
            "late9": "2026-03-10 09:00:00.000000000 +01:00",  # capped at 30 %
        },
    )
    (tmp_path / "late.toml").write_text(POLICY, encoding="utf-8")
    out = tmp_path / "grades"
    done = run_grade(
        root,
        "--out",
        out,
        "-e",
        "00_weighted_sum",
        "--late-policy",
        tmp_path / "late.toml",
        "--json",
        home=tmp_path / "h",
    )
    assert done.returncode == 0, done.stderr
    grades = rows(out / "grades.csv")
    assert grades["student"] == [
        "student",
        "00_weighted_sum",
        "total",
        "raw_total",
        "late_days",
        "late_penalty_percent",
    ]
    assert grades["early"][1:] == ["26", "26", "26", "0", "0"]
    assert grades["grace"][1:] == ["26", "26", "26", "0", "0"]
    assert grades["late2"][1:] == ["26", "20.8", "26", "2", "20"]
    assert grades["late9"][1:] == ["26", "18.2", "26", "9", "30"]
    canvas = rows(out / "canvas.csv")
    assert canvas["Student late2"][5] == "20.8" and canvas["Student late9"][2] == "late9"
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    students = {r["student"]: r for r in data["students"]}
    assert students["late2"]["raw_total"] == 26 and students["late2"]["total"] == 20.8
    assert students["late2"]["late"]["submitted_at"] == "2026-03-03T12:00:00+00:00"
    feedback = (out / students["late2"]["feedback"]).read_text(encoding="utf-8")
    assert "2 day(s) late, 20% off: total 20.8 (before the penalty 26)" in feedback
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "raw total" in report and "2 d, −20%" in report and "10%/day" in report
    summary = json.loads(done.stdout)
    assert sorted(s for s, _d, _p in summary["run"]["late"]) == ["late2", "late9"]
    rebuilt = run_grade_report(out, tmp_path / "h")
    assert rebuilt == report.replace(_date(report), _date(rebuilt))


def _date(html: str) -> str:
    return html.split("<dt>date</dt><dd>")[1].split("<")[0]


def run_grade_report(out: Path, home: Path) -> str:
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "grader", "report", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "DLGRADE_HOME": str(home)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return (out / "report.html").read_text(encoding="utf-8")


@needs_bwrap(reason="class grading is strict: needs bwrap")
def test_submission_times_can_come_from_a_csv_and_no_policy_changes_nothing(tmp_path):
    root = tmp_path / "subs"
    for student in ("ann", "bob"):
        write(root / student, {"00_weighted_sum.py": solution("00_weighted_sum")})
    (tmp_path / "times.csv").write_text(
        "student,submitted_at\nann,2026-03-01T20:00:00+00:00\nbob,2026-03-02T23:58:59-00:00\n",
        encoding="utf-8",
    )
    out = tmp_path / "late"
    done = run_grade(
        root,
        "--out",
        out,
        "-e",
        "00_weighted_sum",
        "--submitted-at",
        tmp_path / "times.csv",
        "--late-policy",
        "due=2026-03-01T23:59Z,25%/day",
        home=tmp_path / "h",
    )
    assert done.returncode == 0, done.stderr
    grades = rows(out / "grades.csv")
    assert grades["ann"][1:] == ["26", "26", "26", "0", "0"]
    assert grades["bob"][1:] == ["26", "19.5", "26", "1", "25"]
    plain = tmp_path / "plain"
    done = run_grade(
        root,
        "--out",
        plain,
        "-e",
        "00_weighted_sum",
        "--submitted-at",
        tmp_path / "times.csv",
        home=tmp_path / "h",
    )
    assert done.returncode == 0, done.stderr
    assert rows(plain / "grades.csv")["student"] == ["student", "00_weighted_sum", "total"]
    assert rows(plain / "grades.csv")["bob"][1:] == ["26", "26"]


@pytest.mark.parametrize(
    "policy",
    [
        "due=2026-03-01T23:59,10%/day",  # no time zone
        "due=2026-03-01T23:59Z,10%/day,max=lots",
        "due=2026-03-01T23:59Z,10%/day,grace=forever",
        "missing-file.toml",
    ],
)
def test_a_bad_policy_is_one_line_exit_2_and_nothing_is_written(tmp_path, policy):
    root = tmp_path / "subs"
    write(root / "ann", {"00_weighted_sum.py": solution("00_weighted_sum")})
    out = tmp_path / "grades"
    done = run_grade(root, "--out", out, "--late-policy", policy, home=tmp_path / "h")
    assert done.returncode == 2, done.stdout
    assert "late policy" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr and not out.exists()


def test_a_submission_times_csv_without_a_time_zone_is_refused(tmp_path):
    (tmp_path / "times.csv").write_text("student,submitted_at\nann,2026-03-01 20:00\n")
    with pytest.raises(InputError, match="line 2: '2026-03-01 20:00' has no time zone"):
        late.submitted_at(tmp_path / "times.csv")


@needs_bwrap(reason="class grading is strict: needs bwrap")
def test_resume_keeps_the_stored_policy_and_a_new_one_replaces_it(tmp_path):
    root = export(tmp_path / "export", {"late2": "2026-03-03 12:00:00.000000000 +00:00"})
    out = tmp_path / "grades"
    first = run_grade(
        root,
        "--out",
        out,
        "-e",
        "00_weighted_sum",
        "--late-policy",
        "due=2026-03-01T23:59Z,10%/day",
        home=tmp_path / "h",
    )
    assert first.returncode == 0, first.stderr
    assert rows(out / "grades.csv")["late2"][1:3] == ["26", "20.8"]  # 2 started days: -20 %
    again = run_grade(root, "--out", out, "--resume", home=tmp_path / "h")
    assert again.returncode == 0, again.stderr
    assert rows(out / "grades.csv")["late2"][1:3] == ["26", "20.8"]
    changed = run_grade(
        root,
        "--out",
        out,
        "--resume",
        "--late-policy",
        "due=2026-03-02T23:59Z,50%/day",
        home=tmp_path / "h",
    )
    assert changed.returncode == 0, changed.stderr
    assert rows(out / "grades.csv")["late2"][1:6] == ["26", "13", "26", "1", "50"]
