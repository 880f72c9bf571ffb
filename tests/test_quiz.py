"""Concept quiz: grading of every type through piped stdin, reproducible forms, review, exams."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import grader.content as content_module
from grader.cli_quiz import quiz
from grader.content import load_content
from grader.quiz import quiz_mastery
from grader.store import connect

ROOT = Path(__file__).resolve().parent.parent
VALID = Path(__file__).resolve().parent / "fixtures" / "content" / "valid"
RUN = (
    "import sys; from pathlib import Path; import grader.content as c; "
    "c._bundled_dir = lambda: Path(sys.argv[1]); "
    "from grader.{module} import {command}; {command}(sys.argv[2:], prog_name='dlgrade')"
)
MODULES = {"quiz": "cli_quiz", "glossary": "cli_study", "cards": "cli_study"}
# (question id, one line of stdin, right?, a fragment of the feedback for a wrong answer)
GRADING = [
    ("bias-role", "b", True, None),
    ("bias-role", " B ", True, None),
    ("bias-role", "a", False, "the job of the weights"),
    ("bias-role", "a,b", False, "one letter"),
    ("trainable-things", "b, a", True, None),
    ("trainable-things", "A,B", True, None),
    ("trainable-things", "a", False, "you left out B"),
    ("trainable-things", "a,b,c", False, "hyperparameter"),
    ("epoch-one-pass", "true", True, None),
    ("epoch-one-pass", "yes", True, None),
    ("epoch-one-pass", "T", True, None),
    ("epoch-one-pass", "no", False, "not one batch"),
    ("count-params", "407,050", True, None),
    ("count-params", "407050", True, None),
    ("count-params", "4.0705e5", True, None),
    ("count-params", "407051", False, None),
    ("count-params", "406528", False, "counts only the weights"),
    ("count-params", "401,920", False, "first layer alone"),
    ("count-params", "lots", False, "a number"),
    ("mnist-accuracy", "97.86", True, None),
    ("mnist-accuracy", "97.87", True, None),
    ("mnist-accuracy", "97.85", True, None),
    ("mnist-accuracy", "97.88", False, None),
    ("mnist-accuracy", "0.9786", False, "a fraction"),
    ("backprop-name", "backpropagation", True, None),
    ("backprop-name", "Back Propagation", True, None),
    ("backprop-name", " BACK-PROP ", True, None),
    ("backprop-name", "gradient descent", False, "Gradient descent uses the gradients"),
]


@pytest.fixture(autouse=True)
def fixture_content(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(content_module.CONTENT_ENV, raising=False)
    monkeypatch.setattr(content_module, "_bundled_dir", lambda: VALID)


def run_cli(*args: str, stdin: str = "", **env_vars: str) -> subprocess.CompletedProcess:
    """`dlgrade quiz` in a fresh Python process with piped stdin, on the fixture content."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", **env_vars}
    command = [
        sys.executable,
        "-c",
        RUN.format(module="cli_quiz", command="quiz"),
        str(VALID),
        *args,
    ]
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )


def run(*args: str, stdin: str = ""):
    return CliRunner().invoke(quiz, list(args), input=stdin)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """Every GRADING answer in one quiz run: the ids repeated in order, one answer a line."""
    home = str(tmp_path_factory.mktemp("home"))
    ids = ",".join(case[0] for case in GRADING)
    stdin = "".join(case[1] + "\n" for case in GRADING)
    done = run_cli("--ids", ids, "--json", stdin=stdin, DLGRADE_HOME=home)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["questions"]


@pytest.mark.parametrize("index", range(len(GRADING)), ids=[f"{c[0]}={c[1]!r}" for c in GRADING])
def test_piped_answers_are_graded_for_every_type(graded: list[dict], index: int) -> None:
    qid, _, right, why = GRADING[index]
    outcome = graded[index]
    assert outcome["id"] == qid
    assert outcome["correct"] is right
    if why is not None:
        assert any(why in line for line in outcome["feedback"]), outcome["feedback"]


def test_wrong_answer_feedback_shows_why_the_right_answer_and_the_source() -> None:
    done = run_cli("--ids", "count-params", stdin="406528\n")
    assert done.returncode == 0, done.stderr
    assert "That counts only the weights" in done.stdout
    assert "Right answer: 407,050" in done.stdout
    assert "Source: An Introduction to Deep Learning, Mark West" in done.stdout
    assert "Score: 0/1" in done.stdout


def test_ids_are_asked_exactly_in_the_given_order() -> None:
    order = ["mnist-accuracy", "bias-role", "epoch-one-pass"]
    result = run("--ids", ",".join(order), "--json")
    assert [q["id"] for q in json.loads(result.stdout)["questions"]] == order


def test_an_unknown_id_is_a_one_line_error_with_did_you_mean() -> None:
    done = run_cli("--ids", "bias-role,count-param")
    assert done.returncode == 2
    message = "Error: unknown question id 'count-param'; did you mean 'count-params'?"
    assert done.stderr.strip() == message


def test_the_seed_orders_questions_by_hash_of_seed_and_id() -> None:
    result = json.loads(run("--seed", "7", "-n", "4", "--json").stdout)
    every = load_content().questions
    expected = sorted(every, key=lambda qid: hashlib.sha256(f"7:{qid}".encode()).hexdigest())
    assert [q["id"] for q in result["questions"]] == expected[:4]
    assert result["seed"] == 7


def test_the_same_seed_gives_the_same_form() -> None:
    first, second = (json.loads(run("--seed", "99", "--json").stdout) for _ in range(2))
    assert first["questions"] == second["questions"]
    assert len(first["questions"]) == 7


def test_exercise_filters_on_the_question_exercises() -> None:
    result = json.loads(run("--exercise", "04_mnist_mlp", "--json").stdout)
    assert sorted(q["id"] for q in result["questions"]) == ["count-params", "epoch-one-pass"]
    assert run("--exercise", "03_backprob").exit_code == 2


def test_end_of_input_leaves_the_rest_unanswered_without_a_traceback() -> None:
    done = run_cli("--ids", "bias-role,count-params,backprop-name", "--json", stdin="b\n")
    assert done.returncode == 0
    assert "Traceback" not in done.stderr
    result = json.loads(done.stdout)
    assert (result["score"], result["total"], result["answered"]) == (1, 3, 1)
    assert [q["answered"] for q in result["questions"]] == [True, False, False]


def test_review_asks_the_missed_questions_again_until_answered_right() -> None:
    run("--ids", "bias-role,epoch-one-pass,backprop-name", stdin="a\ntrue\nnope\n")
    first = json.loads(run("--review", "--seed", "1", "--json", stdin="b\nwrong\n").stdout)
    assert sorted(q["id"] for q in first["questions"]) == ["backprop-name", "bias-role"]
    second = json.loads(run("--review", "--json", stdin="backprop\n").stdout)
    assert [q["id"] for q in second["questions"]] == ["backprop-name"]
    assert json.loads(run("--review", "--json").stdout)["total"] == 0


def test_exam_holds_feedback_until_the_end_and_writes_a_result_file(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    args = ["--exam", "--ids", "bias-role,count-params", "--seed", "5", "--name", "Ada"]
    done = run_cli(*args, "--out", str(out), stdin="a\n407050\n")
    assert done.returncode == 0, done.stderr
    last_prompt = done.stdout.index("How many parameters")
    assert done.stdout.index("the job of the weights") > last_prompt
    sheet = json.loads(out.read_text(encoding="utf-8"))
    assert sheet["student"] == "Ada" and sheet["seed"] == 5 and sheet["timestamp"]
    assert (sheet["score"], sheet["total"]) == (1, 2)
    assert sheet["questions"] == [
        {"id": "bias-role", "answer": "a", "correct": False},
        {"id": "count-params", "answer": "407050", "correct": True},
    ]


def test_exam_result_file_defaults_to_a_timestamped_name(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("--exam", "--ids", "bias-role", "--now", "2025-05-01T10:00:00Z", "--json")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "quiz-result-20250501T100000Z.json").is_file()


def test_mastery_counts_questions_right_at_their_latest_attempt() -> None:
    run("--ids", "bias-role,trainable-things,epoch-one-pass", stdin="b\na\ntrue\n")
    run("--ids", "trainable-things", stdin="a,b\n")
    run("--ids", "bias-role", stdin="c\n")
    conn = connect()
    assert quiz_mastery(conn, load_content()) == {"neurons": (1, 4), "training": (1, 3)}
    conn.close()


@pytest.mark.parametrize(
    ("command", "args"),
    [("glossary", "--list --json"), ("quiz", "-n 1 --json"), ("cards", "--stats --json")],
)
def test_study_commands_do_not_import_tensorflow(command: str, args: str) -> None:
    code = RUN.format(module=MODULES[command], command=command).replace(
        f"{command}(sys.argv[2:], prog_name='dlgrade')",
        f"{command}.main(sys.argv[2:], standalone_mode=False); "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')); "
        "print('HEAVY', heavy)",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", code, str(VALID), *args.split()]
    done = subprocess.run(
        command, input="", capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("HEAVY []")
