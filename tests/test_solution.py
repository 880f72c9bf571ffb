"""`dlgrade solution` opens after a pass (or by force, noted), `reset --all` keeps backups, and
`list` shows code, concepts, cards due and where the learner stopped, side by side."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from conftest import ROOT
from rich.console import Console
from test_cli import dlgrade

from grader.cli.actions import NOT_PASSED
from grader.course.solutions import NO_SOLUTIONS


@pytest.fixture
def ws(tmp_path: Path, dlgrade_home: Path) -> Path:
    assert dlgrade("init", "course", cwd=tmp_path, home=dlgrade_home).returncode == 0
    return tmp_path / "course"


def solve(ws: Path, exercise: str, extra: str = "") -> None:
    reference = (ROOT / "solutions" / f"{exercise}.py").read_text()
    (ws / "exercises" / f"{exercise}.py").write_text(extra + reference)


def listed(ws: Path, home: Path) -> dict[str, dict]:
    data = json.loads(dlgrade("list", "--json", cwd=ws, home=home).stdout)
    return {row["exercise"]: row for row in data["exercises"]}


def test_solution_refuses_before_a_pass_in_one_line(ws, dlgrade_home):
    done = dlgrade("solution", "00_weighted_sum", cwd=ws, home=dlgrade_home)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"dlgrade: {NOT_PASSED.format(id='00_weighted_sum')}\n"
    assert listed(ws, dlgrade_home)["00_weighted_sum"]["solution"] is None


def test_solution_after_a_pass_shows_the_reference_beside_the_learners_file(ws, dlgrade_home):
    solve(ws, "00_weighted_sum", extra="# my own version\n")
    assert dlgrade("check", "00_weighted_sum", cwd=ws, home=dlgrade_home).returncode == 0
    done = dlgrade("solution", "00_weighted_sum", "--json", cwd=ws, home=dlgrade_home)
    view = json.loads(done.stdout)
    assert view["reference"] == (ROOT / "solutions" / "00_weighted_sum.py").read_text()
    assert view["learner"].startswith("# my own version\n") and view["forced"] is False
    diff = dlgrade("solution", "00_weighted_sum", "--diff", cwd=ws, home=dlgrade_home)
    assert diff.returncode == 0 and "-# my own version" in diff.stdout
    assert listed(ws, dlgrade_home)["00_weighted_sum"]["solution"] == "seen"


def test_a_forced_view_is_recorded_and_listed(ws, dlgrade_home):
    done = dlgrade("solution", "00_weighted_sum", "--force", cwd=ws, home=dlgrade_home)
    assert done.returncode == 0 and "shown before a pass" in done.stdout
    assert "def weighted_sum" in done.stdout
    assert listed(ws, dlgrade_home)["00_weighted_sum"]["solution"] == "forced"
    shown = dlgrade("list", cwd=ws, home=dlgrade_home).stdout
    assert "forced" in shown.split("00_weighted_sum")[1].splitlines()[0]
    # a later pass does not wash the forced view out
    solve(ws, "00_weighted_sum")
    dlgrade("check", "00_weighted_sum", cwd=ws, home=dlgrade_home)
    dlgrade("solution", "00_weighted_sum", cwd=ws, home=dlgrade_home)
    assert listed(ws, dlgrade_home)["00_weighted_sum"]["solution"] == "forced"


def test_an_install_without_solutions_says_where_they_live(ws, dlgrade_home, tmp_path, monkeypatch):
    (tmp_path / "no-solutions").mkdir()
    monkeypatch.setenv("DLGRADE_SOLUTIONS", str(tmp_path / "no-solutions"))
    done = dlgrade("solution", "00_weighted_sum", "--force", cwd=ws, home=dlgrade_home)
    assert done.returncode == 2
    message = NO_SOLUTIONS.format(
        id="00_weighted_sum", where="the solutions/ folder of the course's repository"
    )
    assert done.stderr == f"dlgrade: {message}\n"


def test_reset_all_asks_once_and_keeps_every_changed_file(ws, dlgrade_home):
    solve(ws, "00_weighted_sum")
    (ws / "exercises" / "02_perceptron.py").write_text("# mine\n")
    refused = dlgrade("reset", "--all", cwd=ws, home=dlgrade_home, stdin="n\n")
    assert refused.returncode == 1
    assert (ws / "exercises" / "02_perceptron.py").read_text() == "# mine\n"
    done = dlgrade("reset", "--all", "--json", cwd=ws, home=dlgrade_home, stdin="y\n")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("Restore all 5 stubs?") == 1
    backups = {r["exercise"]: r["backup"] for r in json.loads(done.stdout)["exercises"]}
    assert [e for e, b in backups.items() if b] == ["00_weighted_sum", "02_perceptron"]
    assert Path(backups["02_perceptron"]).read_text() == "# mine\n"
    for stub in (ROOT / "exercises").glob("*.py"):
        assert (ws / "exercises" / stub.name).read_text() == stub.read_text()


def test_reset_wants_one_exercise_or_all(ws, dlgrade_home):
    for args in ((), ("00_weighted_sum", "--all")):
        done = dlgrade("reset", *args, cwd=ws, home=dlgrade_home)
        assert done.returncode == 2 and "name one EXERCISE, or give --all" in done.stderr


def test_list_shows_where_the_learner_stopped_with_code_concepts_and_cards(ws, dlgrade_home):
    solve(ws, "00_weighted_sum")
    dlgrade("check", "00_weighted_sum", cwd=ws, home=dlgrade_home)
    rows = listed(ws, dlgrade_home)
    assert [e for e, r in rows.items() if r["current"]] == ["01_activations"]
    assert rows["00_weighted_sum"]["best"] == rows["00_weighted_sum"]["max_score"]
    assert rows["00_weighted_sum"]["concepts"]["total"] > 0
    assert rows["00_weighted_sum"]["concepts"]["right"] == 0
    assert rows["01_activations"]["cards_due"] == 0
    table = dlgrade("list", cwd=ws, home=dlgrade_home).stdout
    for column in ("code", "concepts", "cards due", "solution"):
        assert column in table
    assert "▶" in table.split("01_activations")[0].splitlines()[-1]


def rendered(width: int, learner: str, **options) -> str:
    from grader.cli.actions import Solution
    from grader.cli.solution_view import render
    from grader.course.info import load_course

    exercise = load_course().get("00_weighted_sum")
    reference = (ROOT / "solutions" / "00_weighted_sum.py").read_text()
    out = io.StringIO()
    con = Console(file=out, width=width, color_system=None)
    render(con, Solution(exercise, reference, learner, forced=False), **options)
    return out.getvalue()


def test_a_wide_terminal_shows_the_files_side_by_side_and_a_narrow_one_the_diff():
    learner = (
        "# [bold]mine[/bold] \x1b[2J\n" + (ROOT / "solutions" / "00_weighted_sum.py").read_text()
    )
    wide = rendered(160, learner)
    header = next(line for line in wide.splitlines() if "your 00_weighted_sum.py" in line)
    assert "solutions/00_weighted_sum.py" in header
    assert "# [bold]mine[/bold]" in wide and "\x1b" not in wide  # code, never markup or escapes
    narrow = rendered(100, learner)
    assert "-# [bold]mine[/bold]" in narrow and "your 00_weighted_sum.py" in narrow
    assert "-# [bold]mine[/bold]" in rendered(160, learner, diff=True)
