"""`dlgrade grade --gradescope DIR`: Gradescope's results.json, checked against its spec.

The models follow the "Output format" section of Gradescope's autograder specification
(gradescope-autograders.readthedocs.io/en/latest/specs/): every documented field, nothing
else (extra="forbid").
"""

from __future__ import annotations

import json
from typing import Literal

from conftest import needs_bwrap
from pydantic import BaseModel, ConfigDict
from test_class_grade import buggy, run_grade, solution, write

from grader.classgrade import gradescope

Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]
Format = Literal["text", "html", "simple_format", "md", "ansi"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Case(_Spec):
    score: float | None = None
    max_score: float | None = None
    status: Literal["passed", "failed"] | None = None
    name: str | None = None
    name_format: Format | None = None
    number: str | None = None
    output: str | None = None
    output_format: Format | None = None
    tags: list[str] | None = None
    visibility: Visibility | None = None
    extra_data: dict | None = None


class LeaderboardEntry(_Spec):
    name: str
    value: float | str
    order: Literal["asc", "desc"] | None = None


class Results(_Spec):
    score: float | None = None
    execution_time: float | None = None
    output: str | None = None
    output_format: Format | None = None
    test_output_format: Format | None = None
    test_name_format: Format | None = None
    visibility: Visibility | None = None
    stdout_visibility: Visibility | None = None
    extra_data: dict | None = None
    tests: list[Case] | None = None
    leaderboard: list[LeaderboardEntry] | None = None


@needs_bwrap(reason="grading is strict: needs bwrap")
def test_gradescope_results_follow_the_documented_format(tmp_path):
    submission = tmp_path / "submission"
    write(
        submission,
        {
            "00_weighted_sum.py": solution("00_weighted_sum"),
            "01_activations.py": buggy("01_activations"),
        },
    )
    (submission / "02_perceptron.py").symlink_to("/etc/passwd")
    out = tmp_path / "results" / "results.json"
    done = run_grade(
        "--gradescope", submission, "--out", out, "--seed", "5", home=tmp_path / "home"
    )
    assert done.returncode == 0, done.stderr
    results = Results.model_validate(json.loads(out.read_text(encoding="utf-8")))
    assert results.tests and results.score == sum(t.score for t in results.tests)
    assert results.score == 26 + sum(t.score for t in results.tests if t.number.startswith("2."))
    numbers = [t.number for t in results.tests]
    assert len(numbers) == len(set(numbers))
    failed = [t for t in results.tests if t.status == "failed"]
    assert any(t.number.startswith("2.") and "expected" in t.output for t in failed)
    assert any("symbolic link" in t.output for t in failed if t.number.startswith("3."))
    assert "symbolic link" in results.output


def test_results_go_where_gradescope_expects_them(tmp_path, monkeypatch):
    monkeypatch.setattr(gradescope, "AUTOGRADER", tmp_path / "autograder")
    assert str(gradescope.default_out()) == "results.json"
    (tmp_path / "autograder").mkdir()
    assert gradescope.default_out() == tmp_path / "autograder" / "results" / "results.json"
