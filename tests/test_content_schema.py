"""The content schema: malformed files are reported as file:line: message; the bundled content is
complete and clean."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

import grader.study.content as content_module
from grader.cli.study import content as content_command
from grader.study.content import load_content
from grader.study.schema import EXERCISE_IDS, Choice, Source, Term

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "content"
VALID, INVALID = FIXTURES / "valid", FIXTURES / "invalid"
CASES = sorted(INVALID.rglob("*.toml"))
PROBLEM_LINE = re.compile(r"^\S+\.toml:\d+: \S.*$")


@pytest.fixture(autouse=True)
def no_env_content(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(content_module.CONTENT_ENV, raising=False)


@pytest.fixture
def fixture_as_bundled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(content_module, "_bundled_dir", lambda: VALID)


def _marker(path: Path) -> tuple[int, str]:
    """The line marked `# error: <text>` in an invalid fixture, and that text."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if "# error:" in line:
            return number, line.split("# error:", 1)[1].strip()
    raise AssertionError(f"{path} has no '# error:' marker")


def test_valid_fixture_loads_without_problems() -> None:
    course = load_content([VALID], bundled=False)
    assert course.problems == []
    assert len(course.terms) == 5
    assert {q.type for q in course.questions.values()} == {
        "single",
        "multiple",
        "true_false",
        "numeric",
        "short",
    }


@pytest.mark.parametrize("case", CASES, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_each_mistake_is_reported_once_at_its_line(case: Path) -> None:
    line, fragment = _marker(case)
    course = load_content([VALID, INVALID], bundled=False)
    found = [p for p in course.problems if Path(p.path).resolve() == case.resolve()]
    assert len(found) == 1, [str(p) for p in found]
    assert found[0].line == line, str(found[0])
    assert fragment in found[0].message


def test_problems_read_as_file_line_message() -> None:
    course = load_content([VALID, INVALID], bundled=False)
    assert len(course.problems) == len(CASES)
    for problem in course.problems:
        assert PROBLEM_LINE.match(str(problem)), str(problem)


def test_schema_forbids_unknown_keys_and_loose_types() -> None:
    good = {
        "id": "x",
        "term": "x",
        "definition": "d",
        "example": "e",
        "related": ["y"],
        "topic": "t",
        "source": "s",
    }
    Term.model_validate(good)
    with pytest.raises(ValidationError):
        Term.model_validate({**good, "colour": "red"})
    with pytest.raises(ValidationError):
        Choice.model_validate({"id": "a", "text": "t", "correct": "false", "feedback": "f"})


def test_extra_folders_come_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    extra = tmp_path / "mine"
    (extra / "terms").mkdir(parents=True)
    (extra / "terms" / "extra.toml").write_text(
        '[[term]]\nid = "dropout"\nterm = "dropout"\ndefinition = "Randomly silencing units."\n'
        'example = "Half the units off."\nrelated = ["weight"]\ntopic = "training"\n'
        'source = "west"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv(content_module.CONTENT_ENV, os.pathsep.join([str(VALID), str(extra)]))
    course = load_content(bundled=False)
    assert course.problems == []
    assert "dropout" in course.terms and "weight" in course.terms


def test_extra_folder_ids_must_not_collide_with_bundled_ones(tmp_path: Path, monkeypatch) -> None:
    extra = tmp_path / "copy"
    shutil.copytree(VALID / "terms", extra / "terms")
    monkeypatch.setattr(content_module, "_bundled_dir", lambda: VALID)
    course = load_content([extra])
    assert course.problems
    assert all("collides with the one at" in p.message for p in course.problems)


def test_a_missing_extra_folder_is_a_problem(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(content_module.CONTENT_ENV, str(tmp_path / "nowhere"))
    course = load_content(bundled=False)
    assert [p.message for p in course.problems] == ["content folder not found"]


def test_content_check_prints_file_line_message_and_exits_1(fixture_as_bundled) -> None:
    result = CliRunner().invoke(content_command, ["check", str(INVALID)])
    assert result.exit_code == 1, result.output
    problem_lines = [line for line in result.stdout.splitlines() if ".toml:" in line]
    assert len(problem_lines) == len(CASES)
    assert all(PROBLEM_LINE.match(line) for line in problem_lines)


def test_content_check_json_lists_problems(fixture_as_bundled) -> None:
    result = CliRunner().invoke(content_command, ["check", str(INVALID), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert {"file", "line", "message"} <= set(data["problems"][0])


def test_content_check_exits_0_when_clean(fixture_as_bundled) -> None:
    result = CliRunner().invoke(content_command, ["check", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"]["question"] == 7


# The bundled content (written in parallel with this code) --------------------------------


@pytest.fixture
def bundled():
    return load_content()


def test_bundled_content_has_no_problems(bundled) -> None:
    assert [str(p) for p in bundled.problems] == []


def test_every_bundled_term_and_question_cites_a_known_source(bundled) -> None:
    entries = [*bundled.terms.values(), *bundled.questions.values()]
    assert entries
    for entry in entries:
        for cited in bundled.citations(entry):
            assert cited["kind"] in ("article", "reference", "exercise"), (entry.id, cited)
            if cited["kind"] == "exercise":
                assert cited["id"].removeprefix("exercise:") in EXERCISE_IDS, entry.id
            else:
                assert cited["title"] and cited["author"], (entry.id, cited)


def test_bundled_glossary_has_at_least_70_terms(bundled) -> None:
    assert len(bundled.terms) >= 70


def test_bundled_bank_has_80_questions_over_8_topics(bundled) -> None:
    assert len(bundled.questions) >= 80
    assert len({q.topic for q in bundled.questions.values()}) >= 8


def test_sources_render_by_kind() -> None:
    course = load_content([VALID], bundled=False)
    question = course.questions["backprop-name"]
    assert [c["kind"] for c in course.citations(question)] == ["article", "reference", "exercise"]
    assert course.citation(question) == (
        "An introduction to deep learning, IBM Developer; "
        "reference: Learning representations by back-propagating errors "
        "(David E. Rumelhart, Geoffrey E. Hinton and Ronald J. Williams, 1986); "
        "course exercise 03_backprop"
    )


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"kind": "article"}, "an article needs 'seed'"),
        ({"kind": "reference", "seed": "x.txt"}, "a reference needs 'year'"),
        ({"kind": "article", "seed": "x.txt", "year": 2001}, "no 'year'"),
    ],
)
def test_a_source_carries_the_fields_of_its_kind(fields: dict, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        Source.model_validate({"id": "s", "title": "T", "author": "A", **fields})


def _choice_bank(folder: Path, singles: list[str], multiples: list[str]) -> Path:
    """A content folder of choice questions whose right letters are ``singles``/``multiples``."""
    (folder / "questions").mkdir(parents=True)
    blocks = []
    for number, right in enumerate([*singles, *multiples]):
        kind = "single" if number < len(singles) else "multiple"
        blocks.append(
            f'[[question]]\nid = "q{number}"\ntype = "{kind}"\ntopic = "neurons"\n'
            f'prompt = "Question {number}?"\nexplanation = "Because."\nsource = "west"\n'
        )
        for letter in "ABCD":
            correct = "true" if letter in right else "false"
            blocks.append(
                f'[[question.choices]]\nid = "c{letter.lower()}"\ntext = "Choice {letter}"\n'
                f'correct = {correct}\nfeedback = "Why {letter}."\n'
            )
    (folder / "questions" / "bank.toml").write_text("\n".join(blocks), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("singles", "multiples", "warned"),
    [
        (["A", "A", "A", "B", "C"], ["BD"] * 5, ["single-choice answers (60%) are A"]),
        (["A", "B", "C", "D", "B"], ["AB", "A", "ABC", "BD", "AB"], ["select-all"]),
        (["A", "B", "C", "D", "B"], ["AB", "A", "BC", "BD", "AC"], []),
    ],
)
def test_content_check_warns_when_right_answers_cluster(
    tmp_path: Path, fixture_as_bundled, singles, multiples, warned
) -> None:
    bank = _choice_bank(tmp_path / "bank", singles, multiples)
    result = CliRunner().invoke(content_command, ["check", str(bank), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    mine = [w["message"] for w in data["warnings"] if w["folder"].endswith("bank")]
    assert len(mine) == len(warned), mine
    assert all(fragment in message for fragment, message in zip(warned, mine, strict=True))
    human = CliRunner().invoke(content_command, ["check", str(bank)])
    assert human.stdout.count("warning:") == len(warned)


def test_the_bundled_bank_does_not_cluster(bundled) -> None:
    from grader.study.choices import clusters

    assert [str(c) for c in clusters(bundled.questions.values())] == []
