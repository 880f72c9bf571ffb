"""Exports: GIFT parses back to the same questions and answers; JSON and Markdown carry the key."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import grader.study.content as content_module
from grader.cli.quiz import quiz
from grader.study.content import Content, load_content
from grader.study.export import export, gift
from grader.study.schema import QUESTION_TYPES as TYPES

VALID = Path(__file__).resolve().parent / "fixtures" / "content" / "valid"
BUNDLED_DIR = content_module._bundled_dir
ESCAPES = {"\\" + char: char for char in "\\:#={}~"} | {"\\n": "\n"}
PLACEHOLDER = {escape: chr(0xE000 + i) for i, escape in enumerate(ESCAPES)}


def _protect(text: str) -> str:
    for escape, mark in PLACEHOLDER.items():
        text = text.replace(escape, mark)
    return text


def _restore(text: str) -> str:
    for escape, mark in PLACEHOLDER.items():
        text = text.replace(mark, ESCAPES[escape])
    return text.strip()


def _answer(token: str) -> tuple[str, float | None, str, str | None]:
    """'~%-50%text#feedback' -> ('~', -50.0, 'text', 'feedback')."""
    mark, rest = token[0], token[1:].strip()
    weight = None
    if rest.startswith("%"):
        value, rest = rest[1:].split("%", 1)
        weight = float(value)
    text, _, feedback = rest.partition("#")
    return mark, weight, _restore(text), _restore(feedback) if feedback else None


def parse_gift(text: str) -> list[dict]:
    """A small GIFT reader: title, prompt, kind and answers of each question."""
    parsed = []
    for block in re.split(r"\n\s*\n", _protect(text).strip()):
        lines = [ln for ln in block.splitlines() if not ln.startswith(("//", "$CATEGORY:"))]
        body = "\n".join(lines).strip()
        if not body:
            continue
        title, rest = re.fullmatch(r"::(.*?)::(.*)", body, re.S).groups()
        prompt, answers = rest.split("{", 1)
        answers, _, general = answers.rsplit("}", 1)[0].partition("####")
        item = {"id": _restore(title), "prompt": _restore(prompt), "general": _restore(general)}
        if answers.startswith("#"):
            tokens = [_answer(t) for t in re.split(r"\s(?==)", answers[1:].strip())]
            item["kind"] = "numeric"
            item["numbers"] = [(w, *map(float, text.split(":"))) for _, w, text, _ in tokens]
        elif answers.strip().split("#")[0] in ("TRUE", "FALSE", "T", "F"):
            item["kind"] = "true_false"
            item["answer"] = answers.strip().startswith("T")
        else:
            tokens = [_answer(t) for t in re.split(r"(?=[=~])", answers.strip()) if t.strip()]
            item["kind"] = "choices" if any(t[0] == "~" for t in tokens) else "short"
            item["tokens"] = tokens
        parsed.append(item)
    return parsed


@pytest.fixture(autouse=True)
def fixture_content(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(content_module.CONTENT_ENV, raising=False)
    monkeypatch.setattr(content_module, "_bundled_dir", lambda: VALID)


def _assert_round_trip(course: Content) -> None:
    questions = list(course.questions.values())
    parsed = parse_gift(gift(questions, course))
    assert [p["id"] for p in parsed] == [q.id for q in questions]
    for q, p in zip(questions, parsed, strict=True):
        assert p["prompt"] == q.prompt
        assert p["general"] == q.explanation
        if q.type == "true_false":
            assert p["answer"] is q.answer
        elif q.type == "numeric":
            assert p["numbers"][0] == (None, q.answer, q.tolerance)
            assert [n[1] for n in p["numbers"][1:]] == [w.value for w in q.wrong_values]
        elif q.type == "short":
            accepted = [text for mark, weight, text, _ in p["tokens"] if weight is None]
            assert accepted == q.accepted
        elif q.type == "single":
            assert [t[2] for t in p["tokens"] if t[0] == "="] == [
                c.text for c in q.choices if c.correct
            ]
            assert [t[2] for t in p["tokens"]] == [c.text for c in q.choices]
        else:
            right = [t for t in p["tokens"] if (t[1] or 0) > 0]
            assert [t[2] for t in right] == [c.text for c in q.choices if c.correct]
            assert sum(t[1] for t in right) == pytest.approx(100, abs=0.01)
            wrong = [t[1] for t in p["tokens"] if (t[1] or 0) < 0]
            assert sum(wrong) == pytest.approx(-100, abs=0.01)


def test_gift_parses_back_to_the_same_questions_and_answers() -> None:
    _assert_round_trip(load_content())


def test_gift_escapes_special_characters() -> None:
    course = load_content()
    text = gift([course.questions["special-chars"]], course)
    assert r"y \= w*x + b with \{w\: 2, x\: 3, b\: 1\}" in text
    assert r"\~tildes\~, \#hashes and C\:\\temp" in text
    assert parse_gift(text)[0]["prompt"] == course.questions["special-chars"].prompt


def test_gift_keeps_feedback_per_answer() -> None:
    course = load_content()
    parsed = parse_gift(gift([course.questions["bias-role"]], course))[0]
    feedback = {text: fb for _, _, text, fb in parsed["tokens"]}
    assert feedback["It multiplies every input"].startswith("Scaling inputs is the job")


def test_bundled_bank_round_trips_through_gift(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(content_module, "_bundled_dir", BUNDLED_DIR)
    course = load_content()
    if not course.questions:
        pytest.skip("the bundled question bank is still empty")
    _assert_round_trip(course)


def test_json_export_letters_choices_in_file_order_and_states_answers() -> None:
    course = load_content()
    items = {
        i["id"]: i for i in json.loads(export(list(course.questions.values()), course, "json")[""])
    }
    single = items["bias-role"]
    assert [(c["letter"], c["id"]) for c in single["choices"]] == [
        ("A", "scales-inputs"),
        ("B", "shifts-threshold"),
        ("C", "picks-activation"),
    ]
    assert single["answer"] == "B"
    assert items["trainable-things"]["answer"] == ["A", "B"]
    assert items["epoch-one-pass"]["answer"] is True
    numeric = items["mnist-accuracy"]
    assert (numeric["answer"], numeric["tolerance"]) == (97.86, 0.01)
    assert items["backprop-name"]["answer"] == ["backpropagation", "backprop", "back-propagation"]
    assert {i["type"] for i in items.values()} == set(TYPES)
    assert items["count-params"]["source"]["author"] == "Mark West"
    for item in items.values():
        assert set(item) >= {"id", "type", "topic", "prompt", "answer", "source"}


def test_markdown_sheet_and_answer_key_are_two_files(tmp_path: Path) -> None:
    out = tmp_path / "sheet.md"
    result = CliRunner().invoke(
        quiz, ["export", "--format", "markdown", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    key_file = tmp_path / "sheet-key.md"
    assert json.loads(result.stdout) == {
        "format": "markdown",
        "out": str(out),
        "key": str(key_file),
        "questions": 7,
    }
    sheet, key = out.read_text(encoding="utf-8"), key_file.read_text(encoding="utf-8")
    assert "How many parameters" in sheet and "How many parameters" not in key
    assert "**B. It shifts the threshold of the neuron**" in key
    assert "**407,050**" in key
    assert "Answer key" not in sheet and "407,050" not in sheet
    assert "It shifts the threshold of the neuron" in sheet


def test_markdown_without_out_is_a_one_line_error() -> None:
    result = CliRunner().invoke(quiz, ["export", "--format", "markdown"])
    assert result.exit_code == 2
    assert "add --out FILE" in result.output


def test_gift_keeps_file_order_and_refuses_a_seed() -> None:
    result = CliRunner().invoke(quiz, ["export", "--format", "gift", "--seed", "3"])
    assert result.exit_code == 2
    assert "leaves shuffling to Moodle" in result.output


@pytest.mark.parametrize("seed", [1, 2, 31337])
def test_json_export_with_a_seed_shows_choices_as_the_quiz_does(seed: int) -> None:
    ids = ["bias-role", "trainable-things", "special-chars"]
    args = ["--seed", str(seed)]
    exported = json.loads(CliRunner().invoke(quiz, ["export", "--format", "json", *args]).stdout)
    items = {item["id"]: item for item in exported}
    asked = CliRunner().invoke(quiz, ["--ids", ",".join(ids), *args, "--json"], input="")
    human = CliRunner().invoke(
        quiz, ["--ids", ",".join(ids), *args], input="z\n" * 3, terminal_width=200
    )
    assert asked.exit_code == 0 and human.exit_code == 0, human.output
    orders = {q["id"]: q["order"] for q in json.loads(asked.stdout)["questions"]}
    screen = [line.strip() for line in human.stdout.splitlines()]
    for qid in ids:
        item = items[qid]
        assert [c["id"] for c in item["choices"]] == orders[qid]
        lines = [f"{c['letter']}. {c['text']}" for c in item["choices"]]
        start = screen.index(lines[0])
        assert screen[start : start + len(lines)] == lines
        right = [c["letter"] for c in item["choices"] if c["id"] in _right_ids(qid)]
        assert item["answer"] == (right[0] if item["type"] == "single" else right)
    assert any(orders[qid] != _file_order(qid) for qid in ids), "the seed shuffled nothing"


def _file_order(qid: str) -> list[str]:
    return [c.id for c in load_content().questions[qid].choices]


def _right_ids(qid: str) -> set[str]:
    return {c.id for c in load_content().questions[qid].choices if c.correct}


def test_json_export_without_a_seed_keeps_the_file_order() -> None:
    course = load_content()
    items = json.loads(CliRunner().invoke(quiz, ["export", "--format", "json"]).stdout)
    for item in items:
        if "choices" in item:
            assert [c["id"] for c in item["choices"]] == [
                c.id for c in course.questions[item["id"]].choices
            ]


def test_export_command_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "bank.gift"
    result = CliRunner().invoke(quiz, ["export", "--format", "gift", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"format": "gift", "out": str(out), "questions": 7}
    assert len(parse_gift(out.read_text(encoding="utf-8"))) == 7


def test_export_to_stdout_and_bad_format() -> None:
    result = CliRunner().invoke(quiz, ["export", "--format", "json"])
    assert len(json.loads(result.stdout)) == 7
    assert CliRunner().invoke(quiz, ["export", "--format", "docx"]).exit_code == 2
