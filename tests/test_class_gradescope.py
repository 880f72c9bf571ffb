"""`dlgrade grade --gradescope DIR`: Gradescope's results.json, checked against its spec.

The models follow the "Output format" section of Gradescope's autograder specification
(gradescope-autograders.readthedocs.io/en/latest/specs/): every documented field, nothing
else (extra="forbid").
"""

from __future__ import annotations

import json
import re
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


def outside_fences(markdown: str) -> str:
    """The Markdown text outside code blocks and code spans (where HTML would be live)."""
    kept, fence = [], None
    for line in markdown.splitlines():
        if fence is None and line.startswith("```"):
            fence = line.removesuffix("text")
        elif fence is not None and line == fence:
            fence = None
        elif fence is None:
            kept.append(re.sub(r"(`+).*?\1", "", line))
    return "\n".join(kept)


@needs_bwrap(reason="grading is strict: needs bwrap")
def test_results_carry_markdown_outputs_the_run_details_and_no_leaderboard_without_04(tmp_path):
    submission = tmp_path / "submission"
    hostile = (
        'print("<script>alert(1)</script> [x](javascript:alert(1))")\n'
        'raise ValueError("<img src=x onerror=alert(2)> **full marks**")\n'
    )
    write(
        submission,
        {"01_activations.py": buggy("01_activations"), "03-backprop.py": hostile},
    )
    out = tmp_path / "results.json"
    done = run_grade(
        "--gradescope",
        submission,
        "--out",
        out,
        "--seed",
        "5",
        "--no-leaderboard",
        home=tmp_path / "home",
    )
    assert done.returncode == 0, done.stderr
    raw = json.loads(out.read_text(encoding="utf-8"))
    results = Results.model_validate(raw)
    assert results.output_format == results.test_output_format == "md"
    assert all(t.output_format == "md" for t in results.tests)
    assert {t.status for t in results.tests} == {"passed", "failed"}
    extra = results.extra_data
    assert extra["seed"] == 5 and extra["dlgrade_version"] and extra["sandbox"]
    assert results.leaderboard is None
    assert "03-backprop.py was graded as 03\\_backprop.py" in results.output.replace("_", "\\_")
    assert any("\\<img src=x" in t.output for t in results.tests)  # shown, escaped
    for test in results.tests:
        text = outside_fences(test.output)
        assert "<" not in text.replace("\\<", ""), test.output
        assert "](javascript" not in text.replace("\\]", "")


def fake_04(accuracy: object) -> dict:
    from grader.grading.results import CheckResult, ExerciseResult

    result = ExerciseResult("04_mnist_mlp", "MNIST", "04_mnist_mlp.py", seed=1)
    result.checks = [CheckResult("accuracy", "accuracy", "passed", 10, 10, "")]
    result.artifacts = {"accuracy": accuracy}
    return result.to_dict()


def test_exercise_04_puts_its_test_accuracy_on_the_leaderboard_unless_switched_off():
    shown = gradescope.results_json([fake_04(0.97125)], [], 1.0, seed=3, sandbox="bubblewrap")
    board = Results.model_validate(shown).leaderboard
    assert board and board[0].value == 97.12 and board[0].order == "desc"
    off = gradescope.results_json([fake_04(0.97)], [], 1.0, leaderboard=False)
    assert "leaderboard" not in off
    for odd in (float("nan"), 5.0, True, "0.9", None):  # what a model could report: no entry
        assert "leaderboard" not in gradescope.results_json([fake_04(odd)], [], 1.0)
