"""The learner's command line, run as a real subprocess in a real workspace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from grader.core.errors import NO_WORKSPACE


def dlgrade(*args: str, cwd: Path, home: Path, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "DLGRADE_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "100"}
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def ws(tmp_path: Path, dlgrade_home: Path) -> Path:
    done = dlgrade("init", "course", cwd=tmp_path, home=dlgrade_home)
    assert done.returncode == 0, done.stderr
    return tmp_path / "course"


def solve(ws: Path, exercise: str) -> None:
    (ws / "exercises" / f"{exercise}.py").write_text(
        (ROOT / "solutions" / f"{exercise}.py").read_text()
    )


def test_init_writes_every_stub_and_a_config(ws):
    names = sorted(p.name for p in (ws / "exercises").iterdir())
    assert names == sorted(p.name for p in (ROOT / "exercises").glob("*.py"))
    assert (ws / "dlgrade.toml").is_file()


def test_init_refuses_a_non_empty_folder(ws, dlgrade_home):
    done = dlgrade("init", str(ws), cwd=ws.parent, home=dlgrade_home)
    assert done.returncode == 2
    assert "not empty" in done.stderr and "Traceback" not in done.stderr


def test_an_untouched_stub_fails_with_not_implemented(ws, dlgrade_home):
    done = dlgrade("check", "00_weighted_sum", "--json", cwd=ws, home=dlgrade_home)
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["score"] == 0 and result["max_score"] > 0 and result["passed"] is False
    assert all("not implemented" in c["message"] for c in result["checks"])


def test_a_solved_exercise_passes_with_exit_0(ws, dlgrade_home):
    solve(ws, "00_weighted_sum")
    done = dlgrade("check", "00_weighted_sum", cwd=ws, home=dlgrade_home)
    assert done.returncode == 0, done.stdout
    assert "00_weighted_sum:" in done.stdout and "checks passed" in done.stdout


def test_json_has_the_documented_fields(ws, dlgrade_home):
    solve(ws, "01_activations")
    done = dlgrade("check", "01_activations", "--json", cwd=ws, home=dlgrade_home)
    result = json.loads(done.stdout)
    assert {"exercise", "score", "max_score", "passed", "checks"} <= result.keys()
    for check in result["checks"]:
        assert {"name", "passed", "points", "max_points", "message"} <= check.keys()
    assert result["score"] == result["max_score"] == sum(c["max_points"] for c in result["checks"])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"def weighted_sum(x, w, b=0.0):\n    return (\n", "00_weighted_sum.py:2"),
        (b"# caf\xe9\ndef weighted_sum(x, w, b=0.0):\n    return 0\n", "not valid UTF-8"),
        (b"", "the file is empty"),
    ],
    ids=["syntax-error", "non-utf8", "empty"],
)
def test_a_file_that_cannot_load_fails_with_one_clear_message(ws, dlgrade_home, content, expected):
    (ws / "exercises" / "00_weighted_sum.py").write_bytes(content)
    done = dlgrade("check", "00_weighted_sum", cwd=ws, home=dlgrade_home)
    assert done.returncode == 1
    assert expected in done.stdout
    assert "00_weighted_sum.py:" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_unknown_exercise_is_a_one_line_usage_error(ws, dlgrade_home):
    done = dlgrade("check", "07_transformers", cwd=ws, home=dlgrade_home)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Unknown exercise" in done.stderr


def test_a_typo_gets_did_you_mean(ws, dlgrade_home):
    done = dlgrade("hint", "03_backprob", cwd=ws, home=dlgrade_home)
    assert done.returncode == 2 and "Did you mean 03_backprop?" in done.stderr


def test_missing_path_is_a_one_line_usage_error(ws, dlgrade_home):
    done = dlgrade("check", "00_weighted_sum", "--path", "nope.py", cwd=ws, home=dlgrade_home)
    assert done.returncode == 2
    assert done.stderr.strip() == "dlgrade: nope.py: no such file"


def test_outside_a_workspace_says_how_to_make_one(tmp_path, dlgrade_home):
    done = dlgrade("check", "00_weighted_sum", cwd=tmp_path, home=dlgrade_home)
    assert done.returncode == 2 and NO_WORKSPACE in done.stderr


def test_path_grades_any_file_and_infers_the_exercise(tmp_path, dlgrade_home):
    target = tmp_path / "02_perceptron.py"
    target.write_text((ROOT / "solutions" / "02_perceptron.py").read_text())
    done = dlgrade("check", "--path", str(target), "--json", cwd=tmp_path, home=dlgrade_home)
    assert done.returncode == 0
    assert json.loads(done.stdout)["exercise"] == "02_perceptron"


def test_progress_survives_a_restart(ws, dlgrade_home):
    dlgrade("check", "00_weighted_sum", cwd=ws, home=dlgrade_home)
    solve(ws, "00_weighted_sum")
    dlgrade("check", "00_weighted_sum", cwd=ws, home=dlgrade_home)
    listed = json.loads(dlgrade("list", "--json", cwd=ws, home=dlgrade_home).stdout)["exercises"]
    row = next(r for r in listed if r["exercise"] == "00_weighted_sum")
    assert row["attempts"] == 2 and row["passed"] is True and row["best"] == row["max_score"]
    untouched = next(r for r in listed if r["exercise"] == "03_backprop")
    assert untouched["attempts"] == 0


def test_hints_are_revealed_one_at_a_time_and_remembered(ws, dlgrade_home):
    first = json.loads(dlgrade("hint", "02_perceptron", "--json", cwd=ws, home=dlgrade_home).stdout)
    second = json.loads(dlgrade("hint", "02", "--json", cwd=ws, home=dlgrade_home).stdout)
    assert len(first["hints"]) == 1 and len(second["hints"]) == 2
    assert second["hints"][0] == first["hints"][0]
    every = json.loads(dlgrade("hint", "02", "--all", "--json", cwd=ws, home=dlgrade_home).stdout)
    assert len(every["hints"]) == every["total"] >= 3


def test_reset_restores_the_stub_and_keeps_a_backup(ws, dlgrade_home):
    mine = ws / "exercises" / "01_activations.py"
    mine.write_text("# my attempt\n")
    done = dlgrade("reset", "01_activations", "--json", cwd=ws, home=dlgrade_home)
    backup = Path(json.loads(done.stdout)["backup"])
    assert backup.read_text() == "# my attempt\n"
    assert mine.read_text() == (ROOT / "exercises" / "01_activations.py").read_text()


def test_human_output_works_without_a_terminal(ws, dlgrade_home):
    done = dlgrade("list", cwd=ws, home=dlgrade_home)
    assert done.returncode == 0
    assert "00_weighted_sum" in done.stdout and "\x1b[" not in done.stdout
    assert "Quiz mastery" in done.stdout and "Flashcards" in done.stdout


def test_learner_output_is_shown_as_written(ws, dlgrade_home):
    """What learner code prints is shown as text: rich markup such as [bold] is not applied."""
    (ws / "exercises" / "00_weighted_sum.py").write_text(
        "def weighted_sum(x, w, b=0.0):\n    print('[bold]:smile: done[/bold]')\n    return 0.0\n"
    )
    done = dlgrade("check", "00_weighted_sum", cwd=ws, home=dlgrade_home)
    assert done.returncode == 1
    assert "[bold]:smile: done[/bold]" in done.stdout


def test_list_shows_quiz_mastery_and_cards_from_the_same_store(ws, dlgrade_home):
    before = json.loads(dlgrade("list", "--json", cwd=ws, home=dlgrade_home).stdout)
    assert before["cards"]["new"] > 0 and before["cards"]["due_now"] == 0
    assert all(v["right"] == 0 for v in before["quiz"].values())
    exported = json.loads(
        dlgrade("quiz", "export", "--format", "json", cwd=ws, home=dlgrade_home).stdout
    )
    question = next(q for q in exported if q["type"] == "true_false")
    answer = "true" if question["answer"] else "false"
    dlgrade("quiz", "--ids", question["id"], cwd=ws, home=dlgrade_home, stdin=answer + "\n")
    after = json.loads(dlgrade("list", "--json", cwd=ws, home=dlgrade_home).stdout)
    assert after["quiz"][question["topic"]]["right"] == 1


@pytest.mark.parametrize(
    ("args", "code"), [(["check", "00", "--solution", "--json"], 0), (["check", "nope"], 2)]
)
def test_every_object_is_frozen_before_the_interpreter_shuts_down(
    tmp_path: Path, dlgrade_home: Path, args: list[str], code: int
) -> None:
    """The shutdown's sweep for cycles among numpy's, pytest's and rich's objects took 0.1 s
    after the report was out; frozen, they are skipped. Output and exit code are unchanged."""
    script = (
        "import atexit, gc, sys\n"
        "from grader.cli.main import main\n"
        "atexit.register(lambda: print('frozen:', gc.get_freeze_count() > 0, file=sys.stderr))\n"
        f"sys.argv = ['dlgrade', *{args!r}]\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == code, done.stderr
    assert done.stderr.rstrip().endswith("frozen: True"), done.stderr
    if code == 0:
        assert json.loads(done.stdout)["passed"]
