"""`dlgrade grade` end to end: a real class folder, real subprocesses, real sandboxes.

One class is graded once per module (--jobs 2, seed 7) and read by most tests; the kill -9
test grades the same class again, interrupts it and resumes it. results.json keeps the
timing fields ("duration"), so runs are compared with those removed.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, needs_bwrap
from test_sandbox import uid_processes

from grader.classgrade.csv_cells import cell
from grader.classgrade.names import feedback_names
from grader.course.info import load_course
from grader.course.paths import hidden_from_sandbox
from grader.grading.engine import Submission, grade_many
from grader.sandbox.launch import BASE_UID, UID_RANGE
from grader.sandbox.runner import Sandbox

pytestmark = needs_bwrap(reason="class grading is strict: needs bwrap")

SEED = "7"
SOLUTIONS, STUBS = ROOT / "solutions", ROOT / "exercises"
GRADE_CODE = (
    "from grader.cli.main import cli, main; from grader.cli.instructor import grade; "
    "cli.add_command(grade); main()"
)
GRADED_TOTAL = 17

LEARNER_UIDS = range(BASE_UID, BASE_UID + UID_RANGE)


def grade_command() -> list[str]:
    """`dlgrade grade`, through the CLI once the command is registered there."""
    import click

    from grader.cli.main import cli

    if "grade" in cli.list_commands(click.Context(cli)):
        return [sys.executable, "-m", "grader", "grade"]
    return [sys.executable, "-c", GRADE_CODE, "grade"]


def run_grade(
    *args: str | Path, home: Path, env: dict | None = None
) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "DLGRADE_HOME": str(home), **(env or {})}
    return subprocess.run(
        [*grade_command(), *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
        check=False,
    )


def solution(exercise: str) -> str:
    return (SOLUTIONS / f"{exercise}.py").read_text(encoding="utf-8")


def buggy(exercise: str) -> str:
    """A plausible mistake that loses some points, not all."""
    old, new = {"00_weighted_sum": ("x @ w + b", "x @ w"), "01_activations": (" >= 0", " > 0")}[
        exercise
    ]
    return solution(exercise).replace(old, new, 1)


def slow(exercise: str = "00_weighted_sum") -> str:
    """An honest solution that takes a while (makes the kill -9 test interrupt mid-run)."""
    text = solution(exercise).replace("import numpy as np", "import time\n\nimport numpy as np")
    return text.replace(
        "    return float(x @ w + b)", "    time.sleep(0.1)\n    return float(x @ w + b)"
    )


def write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def build_class(root: Path) -> Path:
    """Ten students: honest, buggy, broken, untouched stubs, zips, refusals and odd names."""
    write(root / "ada", {"00_weighted_sum.py": "def weighted_sum(:\n"})
    write(
        root / "alice",
        {
            f"{e}.py": solution(e)
            for e in ("00_weighted_sum", "01_activations", "02_perceptron", "03_backprop")
        },
    )
    write(
        root / "bob smith" / "exercises",
        {
            "00_weighted_sum.py": buggy("00_weighted_sum"),
            "01_activations.py": buggy("01_activations"),
            "02_perceptron.py": solution("02_perceptron"),
        },
    )
    write(
        root / "-carol",
        {
            "00_weighted_sum.py": (STUBS / "00_weighted_sum.py").read_text(),
            "03_backprop.py": solution("03_backprop"),
        },
    )
    with zipfile.ZipFile(root / "dörte.zip", "w") as archive:
        archive.writestr("dörte/00_weighted_sum.py", solution("00_weighted_sum"))
        archive.writestr("dörte/exercises/01_activations.py", solution("01_activations"))
    with zipfile.ZipFile(root / 'eve, "q".zip', "w") as archive:
        archive.writestr("../00_weighted_sum.py", "raise SystemExit('zip slip')")
        archive.writestr("/tmp/01_activations.py", "raise SystemExit('absolute')")
        link = zipfile.ZipInfo("02_perceptron.py")
        link.create_system, link.external_attr = 3, 0o120777 << 16
        archive.writestr(link, str(SOLUTIONS / "02_perceptron.py"))
        archive.writestr("03_backprop.py", solution("03_backprop"))
    write(
        root / "frank",
        {"01_activations.py": "#" * (600 << 10), "02_perceptron.py": solution("02_perceptron")},
    )
    (root / "frank" / "00_weighted_sum.py").symlink_to(SOLUTIONS / "00_weighted_sum.py")
    write(root / "new\nline", {"00_weighted_sum.py": solution("00_weighted_sum")})
    write(root / "slow_1", {"00_weighted_sum.py": slow()})
    write(root / "slow_2", {"00_weighted_sum.py": slow()})
    return root


def without_timing(value):
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k != "duration"}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    root = build_class(base / "submissions")
    out = base / "grades"
    done = run_grade(
        root, "--out", out, "--jobs", "2", "--seed", SEED, "--json", home=base / "home"
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    students = {row["student"]: row for row in data["students"]}
    return {
        "root": root,
        "out": out,
        "summary": summary,
        "data": data,
        "students": students,
        "base": base,
    }


def test_grades_csv_has_one_row_per_student_sorted_and_quoted(graded):
    rows = list(csv.reader(io.StringIO((graded["out"] / "grades.csv").read_text("utf-8"))))
    ids = ["00_weighted_sum", "01_activations", "02_perceptron", "03_backprop"]
    assert rows[0] == ["student", *ids, "total"]
    names = [r[0] for r in rows[1:]]
    assert names == [  # sorted by id; "-carol" starts like a formula, so it is written "'-carol"
        cell(student)
        for student in sorted(
            [
                "ada",
                "alice",
                "bob smith",
                "-carol",
                "dörte",
                'eve, "q"',
                "frank",
                "new\nline",
                "slow_1",
                "slow_2",
            ]
        )
    ]
    assert "'-carol" in names
    alice = rows[1 + names.index("alice")]
    assert alice == ["alice", "26", "32", "23", "30", "111"]
    assert graded["summary"]["run"]["graded"] == GRADED_TOTAL


def test_honest_students_score_the_same_as_dlgrade_check_alone(graded):
    root, students = graded["root"], graded["students"]
    cases = [
        ("alice", "03_backprop", root / "alice" / "03_backprop.py"),
        ("bob smith", "00_weighted_sum", root / "bob smith/exercises/00_weighted_sum.py"),
        ("bob smith", "01_activations", root / "bob smith/exercises/01_activations.py"),
    ]
    for student, exercise, path in cases:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "grader",
                "check",
                exercise,
                "--path",
                str(path),
                "--seed",
                SEED,
                "--json",
            ],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "DLGRADE_HOME": str(graded["base"] / "home")},
        )
        alone = json.loads(done.stdout)
        in_class = students[student]["exercises"][exercise]
        assert in_class["score"] == alone["score"]
        assert [(c["name"], c["status"], c["points"]) for c in in_class["checks"]] == [
            (c["name"], c["status"], c["points"]) for c in alone["checks"]
        ]
    assert 0 < students["bob smith"]["exercises"]["00_weighted_sum"]["score"] < 26


def test_bad_submissions_are_refused_per_student_while_the_rest_grade(graded):
    eve, frank = graded["students"]['eve, "q"'], graded["students"]["frank"]
    assert eve["exercises"]["03_backprop"]["status"] == "passed"
    for exercise, words in (
        ("00_weighted_sum", "outside its folder"),
        ("01_activations", "outside its folder"),
        ("02_perceptron", "symbolic link"),
    ):
        result = eve["exercises"][exercise]
        assert result["status"] == "missing" and words in result["load_error"]
    assert frank["exercises"]["02_perceptron"]["status"] == "passed"
    assert "symbolic link" in frank["exercises"]["00_weighted_sum"]["load_error"]
    assert "larger than 512 KiB" in frank["exercises"]["01_activations"]["load_error"]
    feedback = (graded["out"] / frank["feedback"]).read_text(encoding="utf-8")
    assert "symbolic link" in feedback and "larger than 512 KiB" in feedback
    refused = {(r["student"], r["note"]) for r in graded["summary"]["refused"]}
    assert any(s == "frank" and "symbolic link" in n for s, n in refused)


def test_every_student_gets_a_safely_named_feedback_report(graded):
    folder = graded["out"] / "feedback"
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(feedback_names(graded["students"]).values())
    assert all(not n.startswith((".", "-")) and "/" not in n and "\n" not in n for n in names)
    bob = graded["students"]["bob smith"]
    text = (graded["out"] / bob["feedback"]).read_text(encoding="utf-8")
    assert text.startswith("# Feedback for bob smith")
    assert "expected:" in text and "got:" in text and "hint:" in text and "✓" in text


def test_results_json_holds_every_student_exercise_and_check(graded):
    data = graded["data"]
    for row in data["students"]:
        assert set(row["exercises"]) == {e["id"] for e in data["exercises"]}
        for result in row["exercises"].values():
            assert result["status"] in {"passed", "failed", "timeout", "crashed", "missing"}
            for check in result["checks"]:
                assert {"points", "max_points", "message", "status", "duration"} <= set(check)
    assert data["students"] == sorted(data["students"], key=lambda r: r["student"])


def test_the_summary_names_the_checks_to_reteach(graded):
    summary = graded["summary"]
    hardest = {(h["exercise"], h["check"]) for h in summary["hardest"]}
    assert ("00_weighted_sum", "weighted_sum_adds_bias") in hardest
    means = {e["id"]: e for e in summary["exercises"]}
    assert means["02_perceptron"]["mean"] == 23 and means["02_perceptron"]["submitted"] == 3
    assert sum(b["count"] for b in summary["histogram"]) == len(graded["students"])
    assert summary["isolation"] == ["bubblewrap"]
    assert summary["troubled"] == []


def test_report_html_is_written_beside_grades_csv_with_every_student(graded):
    report = graded["out"] / "report.html"
    assert graded["summary"]["report"] == str(report)
    html = report.read_text(encoding="utf-8")
    assert 'id="incomplete"' not in html
    assert "eve, &#34;q&#34;" in html and "bubblewrap" in html
    assert html.count('<button type="button" class="student">') == len(graded["students"])


def test_a_file_that_does_not_load_fails_alone(graded):
    ada = graded["students"]["ada"]["exercises"]["00_weighted_sum"]
    assert ada["score"] == 0 and "SyntaxError" in ada["load_error"]
    following = [graded["students"][s]["exercises"]["00_weighted_sum"] for s in ("alice", "dörte")]
    assert [r["score"] for r in following] == [26, 26]


def test_a_broken_file_does_not_spoil_the_next_one_in_the_same_session():
    course = load_course()
    exercise = course.get("00_weighted_sum")
    good = course.solution_path(exercise).read_bytes()
    files = [good, b"def broken(:\n", good, b"raise SystemExit(0)\n", good]
    box = Sandbox(exercise.sandbox_limits(), strict=True, hide=hidden_from_sandbox())
    try:
        results = grade_many(
            course, exercise, [Submission(f, "x.py") for f in files], sandbox=box, seed=1
        )
    finally:
        box.close()
    assert [r.score for r in results] == [26, 0, 26, 0, 26]


def test_an_existing_gradebook_is_not_overwritten_without_resume(graded):
    gradebook = graded["out"] / "gradebook.sqlite"
    before = gradebook.read_bytes()
    done = run_grade(graded["root"], "--out", graded["out"], home=graded["base"] / "home")
    assert done.returncode == 2
    assert "--resume" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert gradebook.read_bytes() == before


def _graded_rows(path: Path) -> int:
    try:
        with sqlite3.connect(path, timeout=5) as conn:
            return conn.execute(
                "SELECT count(*) FROM results WHERE status != 'missing'"
            ).fetchone()[0]
    except sqlite3.Error:
        return 0


def test_kill_9_then_resume_reproduces_an_uninterrupted_run(graded, tmp_path):
    out = tmp_path / "grades"
    env = {**os.environ, "DLGRADE_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(
        [*grade_command(), str(graded["root"]), "--out", str(out), "--jobs", "2", "--seed", SEED],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while _graded_rows(out / "gradebook.sqlite") < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    interrupted = _graded_rows(out / "gradebook.sqlite")
    assert 2 <= interrupted < GRADED_TOTAL
    rebuilt = subprocess.run(
        [sys.executable, "-m", "grader", "report", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert 'id="incomplete"' in (out / "report.html").read_text(encoding="utf-8")
    done = run_grade(
        graded["root"], "--out", out, "--resume", "--jobs", "2", "--json", home=tmp_path / "home"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["run"]["graded"] == GRADED_TOTAL - interrupted
    assert (out / "grades.csv").read_bytes() == (graded["out"] / "grades.csv").read_bytes()
    resumed = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert without_timing(resumed) == without_timing(graded["data"])
    for report in (graded["out"] / "feedback").iterdir():
        assert (out / "feedback" / report.name).read_bytes() == report.read_bytes()
    assert 'id="incomplete"' not in (out / "report.html").read_text(encoding="utf-8")
    assert uid_processes(LEARNER_UIDS) == []
