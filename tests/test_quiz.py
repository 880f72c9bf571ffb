"""Concept quiz: grading of every type through piped stdin, reproducible forms, review, exams."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import grader.study.content as content_module
from grader.cli.quiz import quiz
from grader.course.store import connect
from grader.study import choices
from grader.study.choices import order
from grader.study.content import load_content
from grader.study.quiz import check, grade, quiz_mastery
from grader.study.schema import NumericQuestion, ShortQuestion

ROOT = Path(__file__).resolve().parent.parent
VALID = Path(__file__).resolve().parent / "fixtures" / "content" / "valid"
RUN = (
    "import sys; from pathlib import Path; import grader.study.content as c; "
    "c._bundled_dir = lambda: Path(sys.argv[1]); "
    "from grader.{module} import {command}; {command}(sys.argv[2:], prog_name='dlgrade')"
)
MODULES = {"quiz": "cli.quiz", "glossary": "cli.study", "cards": "cli.study"}
# (question id, one line of stdin, right?, a fragment of the feedback for a wrong answer)
GRADING = [
    ("bias-role", "b", True, None),
    ("bias-role", " B ", True, None),
    ("bias-role", "a", False, "the job of the weights"),
    ("bias-role", "a,b", False, "one letter"),
    ("trainable-things", "b, a", True, None),
    ("trainable-things", "A,B", True, None),
    ("trainable-things", "a", False, "you left out"),
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
    ("mnist-accuracy", "97.86%", True, None),
    ("mnist-accuracy", "97.86 %", True, None),
    ("mnist-accuracy", "97,86", True, None),
    ("count-params", "97.86 %", False, "could not read '97.86 %' as a number"),
    ("count-params", "407 050", True, None),
    ("backprop-name", "the backpropagation", True, None),
    ("backprop-name", "Backpropagation.", True, None),
    ("backprop-name", "backpropogation", True, None),
]


SEED = 11  # shuffles every fixture choice question away from its file order


def at(seed: int, qid: str, text: str) -> str:
    """``text`` with each letter of the file's order replaced by its letter at ``seed``."""
    question = load_content([VALID], bundled=False).questions.get(qid)
    if not hasattr(question, "choices"):
        return text
    places = order(question, seed)
    moved = {"ABCDEF"[i]: "ABCDEF"[places.index(i)] for i in range(len(places))}

    def swap(match: re.Match) -> str:
        letter = moved[match.group(0).upper()]
        return letter if match.group(0).isupper() else letter.lower()

    return re.sub(r"\b[A-Fa-f]\b", swap, text)


def answers(seed: int, *pairs: tuple[str, str]) -> str:
    """Piped stdin for (question id, answer in file-order letters) pairs at ``seed``."""
    return "".join(at(seed, qid, text) + "\n" for qid, text in pairs)


@pytest.fixture(autouse=True)
def fixture_content(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(content_module.CONTENT_ENV, raising=False)
    monkeypatch.setattr(content_module, "_bundled_dir", lambda: VALID)


def run_cli(
    *args: str, stdin: str = "", bundled: Path = VALID, **env_vars: str
) -> subprocess.CompletedProcess:
    """`dlgrade quiz` in a fresh Python process with piped stdin, on the fixture content."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", **env_vars}
    command = [
        sys.executable,
        "-c",
        RUN.format(module="cli.quiz", command="quiz"),
        str(bundled),
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
    stdin = answers(SEED, *((case[0], case[1]) for case in GRADING))
    done = run_cli("--ids", ids, "--seed", str(SEED), "--json", stdin=stdin, DLGRADE_HOME=home)
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
    ids = "bias-role,count-params,backprop-name"
    stdin = answers(SEED, ("bias-role", "b"))
    done = run_cli("--ids", ids, "--seed", str(SEED), "--json", stdin=stdin)
    assert done.returncode == 0
    assert "Traceback" not in done.stderr
    result = json.loads(done.stdout)
    assert (result["score"], result["total"], result["answered"]) == (1, 3, 1)
    assert [q["answered"] for q in result["questions"]] == [True, False, False]


def test_review_asks_the_missed_questions_again_until_answered_right() -> None:
    stdin = answers(SEED, ("bias-role", "a"), ("epoch-one-pass", "true"), ("backprop-name", "nope"))
    run("--ids", "bias-role,epoch-one-pass,backprop-name", "--seed", str(SEED), stdin=stdin)
    seed1 = "--seed", "1"
    order1 = json.loads(run("--review", *seed1, "--json").stdout)["questions"]
    stdin = answers(1, *((q["id"], "b" if q["id"] == "bias-role" else "wrong") for q in order1))
    first = json.loads(run("--review", *seed1, "--json", stdin=stdin).stdout)
    assert sorted(q["id"] for q in first["questions"]) == ["backprop-name", "bias-role"]
    second = json.loads(run("--review", "--json", stdin="backprop\n").stdout)
    assert [q["id"] for q in second["questions"]] == ["backprop-name"]
    assert json.loads(run("--review", "--json").stdout)["total"] == 0


def test_exam_holds_feedback_until_the_end_and_writes_a_result_file(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    args = ["--exam", "--ids", "bias-role,count-params", "--seed", "5", "--name", "Ada"]
    done = run_cli(*args, "--out", str(out), stdin=answers(5, ("bias-role", "a")) + "407050\n")
    assert done.returncode == 0, done.stderr
    last_prompt = done.stdout.index("How many parameters")
    assert done.stdout.index("the job of the weights") > last_prompt
    sheet = json.loads(out.read_text(encoding="utf-8"))
    assert sheet["student"] == "Ada" and sheet["seed"] == 5 and sheet["timestamp"]
    assert (sheet["score"], sheet["total"]) == (1, 2)
    shown = [c.id for c in choices.shown(load_content().questions["bias-role"], 5).choices]
    assert sheet["questions"] == [
        {
            "id": "bias-role",
            "answer": at(5, "bias-role", "a"),
            "correct": False,
            "order": shown,
            "chosen": ["scales-inputs"],
        },
        {
            "id": "count-params",
            "answer": "407050",
            "correct": True,
            "order": None,
            "chosen": None,
        },
    ]


def test_exam_result_file_defaults_to_a_timestamped_name(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("--exam", "--ids", "bias-role", "--now", "2025-05-01T10:00:00Z", "--json")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "quiz-result-20250501T100000Z.json").is_file()


def test_mastery_counts_questions_right_at_their_latest_attempt() -> None:
    stdin = answers(SEED, ("bias-role", "b"), ("trainable-things", "a"), ("x", "true"))
    seed = "--seed", str(SEED)
    run("--ids", "bias-role,trainable-things,epoch-one-pass", *seed, stdin=stdin)
    run("--ids", "trainable-things", *seed, stdin=answers(SEED, ("trainable-things", "a,b")))
    run("--ids", "bias-role", *seed, stdin=answers(SEED, ("bias-role", "c")))
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


# Always answering A (or the first choices) scores at chance -----------------------------

BUNDLED = ROOT / "glossary"


def _bank() -> dict:
    return load_content([BUNDLED], bundled=False).questions


def _first(k: int) -> str:
    return ",".join("ABCDEF"[:k])


def _chance(questions: list, k: int) -> tuple[float, float]:
    """Mean and variance of the score of always answering the first ``k`` choices."""
    odds = []
    for q in questions:
        movable = [c for c in q.choices if not c.positional]
        right = sum(c.correct for c in q.choices)
        odds.append(1 / math.comb(len(movable), right) if right == k else 0.0)
    return sum(odds), sum(p * (1 - p) for p in odds)


@pytest.mark.parametrize(
    ("kind", "k"), [("single", 1), ("multiple", 1), ("multiple", 2), ("multiple", 3)]
)
def test_always_the_first_choices_scores_at_chance_through_piped_exam(tmp_path, kind, k) -> None:
    questions = [q for q in _bank().values() if q.type == kind]
    assert len(questions) >= 10
    ids = ",".join(q.id for q in questions)
    out = tmp_path / "exam.json"
    args = ["--exam", "--ids", ids, "--seed", "2024", "--out", str(out), "--json"]
    stdin = (_first(k) + "\n") * len(questions)
    done = run_cli(*args, stdin=stdin, DLGRADE_HOME=str(tmp_path), bundled=BUNDLED)
    assert done.returncode == 0, done.stderr
    score = json.loads(done.stdout)["score"]
    mean, variance = _chance(questions, k)
    assert score <= mean + 3 * math.sqrt(variance) + 1, (score, mean)
    sheet = json.loads(out.read_text(encoding="utf-8"))
    first = [q["order"][:k] == q["chosen"] for q in sheet["questions"]]
    assert all(first), "the result file records the order shown and the choices chosen"


def _right_first(question):
    """The question with its right choices moved to the front: the worst file order."""
    ranked = sorted(question.choices, key=lambda c: not c.correct)
    return question.model_copy(update={"choices": ranked})


@pytest.mark.parametrize("file_order", ["as written", "right answers first"])
def test_always_a_averages_chance_over_seeds(file_order: str) -> None:
    from grader.study.choices import shown
    from grader.study.quiz import grade

    bank = [q for q in _bank().values() if q.type in ("single", "multiple")]
    if file_order == "right answers first":
        bank = [_right_first(q) for q in bank]
        assert all(grade(q, _first(len(q.correct_letters()))).correct for q in bank)
    for kind, k in (("single", 1), ("multiple", 1), ("multiple", 2), ("multiple", 3)):
        questions = [q for q in bank if q.type == kind]
        mean, _ = _chance(questions, k)
        seeds = range(200)
        scores = [sum(grade(shown(q, s), _first(k)).correct for q in questions) for s in seeds]
        assert sum(scores) / len(scores) <= mean * 1.15 + 0.1, (kind, k, mean)


def test_a_positional_choice_keeps_its_place_and_the_rest_move() -> None:
    from grader.study.choices import shown

    question = load_content([VALID], bundled=False).questions["trainable-things"]
    last = question.choices[-1].model_copy(update={"positional": True})
    fixed = question.model_copy(update={"choices": [*question.choices[:-1], last]})
    orders = {tuple(c.id for c in shown(fixed, seed).choices) for seed in range(50)}
    assert all(order[-1] == last.id for order in orders)
    assert len(orders) == 6  # every order of the other three choices appears
    assert shown(fixed, None) is fixed


# Answers as a person types them ----------------------------------------------------------


def _short(accepted: list[str], prompt: str = "Name it.") -> ShortQuestion:
    return ShortQuestion.model_validate(
        {
            "id": "name-it",
            "type": "short",
            "topic": "training",
            "prompt": prompt,
            "explanation": "Because.",
            "source": "west",
            "accepted": accepted,
            "feedback": "No.",
        }
    )


def _numeric(answer: float, prompt: str = "How much?", tolerance: float = 0) -> NumericQuestion:
    return NumericQuestion.model_validate(
        {
            "id": "how-much",
            "type": "numeric",
            "topic": "training",
            "prompt": prompt,
            "explanation": "Because.",
            "source": "west",
            "answer": answer,
            "tolerance": tolerance,
        }
    )


@pytest.mark.parametrize(
    ("accepted", "typed", "right"),
    [
        (["learning rate"], "the learning rate", True),
        (["learning rate"], "A learning rate", True),
        (["learning rate"], "learning rates", True),
        (["learning rate"], "Learning-Rate.", True),
        (["learning rate"], "step size", True),  # the glossary term's alias
        (["learning rate"], "the step sizes", True),
        (["learning rate"], "alpha", True),
        (["learning rate"], "gradient descent", False),
        (["epoch"], "epochs", True),
        (["epoch"], "an epoch", True),
        (["epoch"], "batch", False),
        (["global minimum"], "global minima", True),
        (["bias"], "biases", True),
        (["bias"], "the bias", True),
        (["bias"], "weights", False),
        (["loss"], "losses", True),
        (["backpropagation"], "back propagation", True),
        (["backpropagation"], "propagation", False),
        (["gradient descent"], "gradient ascent", False),
        (["weight"], "w", True),
        (["weight"], "b", False),
        (["a"], "the", False),
    ],
)
def test_short_answers_accept_articles_plurals_and_aliases(accepted, typed, right) -> None:
    course = load_content([VALID], bundled=False)
    assert check(_short(accepted), typed, course)[0] is right


@pytest.mark.parametrize(
    ("answer", "prompt", "typed", "right"),
    [
        (-0.3, "How much?", "\u22120.3", True),
        (-0.3, "How much?", "-0.3", True),
        (-0.3, "How much?", "\u22120,3", True),
        (0.5, "How much?", "0,5", True),
        (1000, "How much?", "1,000", True),
        (1000, "How much?", "1 000", True),
        (1, "How much?", "1,000", False),
        (1000000, "How much?", "1,000,000", True),
        (97.86, "What accuracy, in percent?", "97.86%", True),
        (97.86, "What share (%) was right?", "97.86 %", True),
        (97.86, "What accuracy, as a percentage?", "97,86 %", True),
        (13, "How many trillion US dollars is it?", "13 trillion", True),
        (13, "How many trillion US dollars is it?", "$13 trillion", True),
        (13, "How many trillion US dollars is it?", "13 trillion dollars", True),
        (469, "How many updates does one epoch make?", "469 updates", True),
        (13, "How many trillion US dollars is it?", "14 trillion", False),
    ],
)
def test_numbers_accept_the_forms_people_type(answer, prompt, typed, right) -> None:
    assert check(_numeric(answer, prompt), typed)[0] is right


@pytest.mark.parametrize(
    ("prompt", "typed", "note"),
    [
        ("How many?", "97.86 %", "could not read '97.86 %' as a number"),
        ("How many?", "lots", "could not read 'lots' as a number"),
        ("How many?", "1,00", None),  # a decimal comma: 1.00
        ("How many?", "1,000.5,3", "could not read '1,000.5,3' as a number"),
        ("How many?", "1.000,5", "could not read '1.000,5' as a number"),
        ("How many?", "inf", "could not read 'inf' as a number"),
        ("How many trillion?", "13 billion", "could not read '13 billion' as a number"),
    ],
)
def test_an_unreadable_number_gets_a_note(prompt, typed, note) -> None:
    outcome = grade(_numeric(1, prompt), typed)
    assert outcome.note is None if note is None else note in outcome.note
    assert outcome.to_dict()["note"] == outcome.note


def test_a_piped_unreadable_number_gets_a_note_in_the_json_result() -> None:
    done = run_cli("--ids", "count-params", "--json", stdin="97.86 %\n")
    question = json.loads(done.stdout)["questions"][0]
    assert question["correct"] is False
    assert question["note"].startswith("could not read '97.86 %' as a number")


# Stopping early --------------------------------------------------------------------------


def test_q_stops_the_quiz_and_only_the_answered_count() -> None:
    ids = "bias-role,count-params,backprop-name"
    stdin = answers(SEED, ("bias-role", "b")) + "q\n" + "backprop\n"
    result = json.loads(run("--ids", ids, "--seed", str(SEED), "--json", stdin=stdin).stdout)
    assert (result["score"], result["total"], result["planned"]) == (1, 1, 3)
    assert result["interrupted"] is True
    assert [q["id"] for q in result["questions"]] == ["bias-role"]
    human = run("--ids", ids, "--seed", str(SEED), stdin=stdin)
    assert "Interrupted after 1 of 3 questions" in human.stdout
    assert "Score: 1/1" in human.stdout
    assert "407,050" not in human.stdout  # the right answer of a question never asked


def test_an_interrupted_exam_writes_only_what_was_answered(tmp_path: Path) -> None:
    out = tmp_path / "exam.json"
    args = ["--exam", "--ids", "count-params,bias-role", "--seed", "3", "--out", str(out)]
    assert run(*args, stdin="407050\nq\n").exit_code == 0
    sheet = json.loads(out.read_text(encoding="utf-8"))
    assert (sheet["score"], sheet["total"], sheet["interrupted"]) == (1, 1, True)


def test_ctrl_c_in_a_running_quiz_counts_only_what_was_answered(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    env["DLGRADE_HOME"] = str(tmp_path)
    ids = "count-params,mnist-accuracy,backprop-name"
    code = RUN.format(module="cli.quiz", command="quiz")
    command = [sys.executable, "-c", code, str(VALID), "--ids", ids, "--seed", "1"]
    with subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    ) as child:
        child.stdin.write("407050\n")
        child.stdin.flush()
        seen = ""
        while "2/3" not in seen:
            line = child.stdout.readline()
            assert line, seen
            seen += line
        child.send_signal(signal.SIGINT)
        rest, errors = child.communicate(timeout=60)
    output = seen + rest
    assert "Traceback" not in errors, errors
    assert "Interrupted after 1 of 3 questions" in output
    assert "Score: 1/1" in output
    assert "97.86" not in output and "backpropagation" not in output
