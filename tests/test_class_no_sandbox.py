"""`dlgrade grade` where bubblewrap is missing: these run in exactly that environment.

They hide bubblewrap from PATH themselves, so they never carry the bubblewrap mark.
"""

from __future__ import annotations

import json

from test_class_grade import run_grade, solution, write


def test_without_bubblewrap_grading_stops_with_a_one_line_hint(tmp_path):
    write(tmp_path / "class" / "ann", {"00_weighted_sum.py": solution("00_weighted_sum")})
    done = run_grade(
        tmp_path / "class",
        "--out",
        tmp_path / "g",
        home=tmp_path / "home",
        env={"PATH": "/nonexistent"},
    )
    assert done.returncode == 3
    assert "apt-get install bubblewrap" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "g").exists()


def test_no_sandbox_grades_with_a_loud_warning(tmp_path):
    write(tmp_path / "class" / "ann", {"00_weighted_sum.py": solution("00_weighted_sum")})
    done = run_grade(
        tmp_path / "class",
        "--out",
        tmp_path / "g",
        "--no-sandbox",
        "--json",
        "--exercise",
        "00",
        home=tmp_path / "home",
        env={"PATH": "/nonexistent"},
    )
    assert done.returncode == 0, done.stderr
    assert "WARNING" in done.stderr and "--no-sandbox" in done.stderr
    summary = json.loads(done.stdout)
    assert summary["isolation"] == ["rlimits"]
    assert (tmp_path / "g" / "grades.csv").read_text().splitlines()[1] == "ann,26,26"
