"""Every hint, glossary text and question text prints whole: no [bracketed] part is eaten."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest
from rich.console import Console

import grader.study.content as content_module
from grader.course.info import load_course
from grader.grading import report
from grader.study import report as study_report
from grader.study.choices import shown
from grader.study.content import load_content
from grader.study.quiz import grade

ROOT = Path(__file__).resolve().parent.parent
INFO = tomllib.loads((ROOT / "exercises" / "info.toml").read_text(encoding="utf-8"))
BOX = re.compile(r"[\s│─╭╮╰╯┃━┏┓┗┛]")


def _squeeze(text: str) -> str:
    return BOX.sub("", text)


def _recording(monkeypatch: pytest.MonkeyPatch) -> Console:
    console = Console(record=True, width=400, color_system=None, theme=study_report.THEME)
    monkeypatch.setattr(study_report, "console", console)
    return console


@pytest.fixture(autouse=True)
def bundled_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(content_module.CONTENT_ENV, raising=False)


def test_the_course_has_hints_with_brackets() -> None:
    hints = [hint for table in INFO["exercise"] for hint in table["hints"]]
    assert len(hints) >= 10
    assert sum(bool(re.search(r"\[[a-z]", hint)) for hint in hints) >= 1


@pytest.mark.parametrize("exercise", [table["id"] for table in INFO["exercise"]])
def test_dlgrade_hint_prints_every_hint_whole(exercise: str) -> None:
    course = load_course()
    ex = course.get(exercise)
    console = Console(record=True, width=400, color_system=None, theme=report.THEME)
    report.hints(console, ex, len(ex.hints))
    printed = _squeeze(console.export_text())
    for hint in ex.hints:
        assert _squeeze(hint) in printed, hint


def test_a_hint_about_indexing_keeps_its_brackets() -> None:
    course = load_course()
    ex = course.exercises[0]
    tricky = "use x[i] and w[j], then [bold]not bold[/bold] and a literal \\[escape]"
    console = Console(record=True, width=400, color_system=None, theme=report.THEME)
    report.hints(console, dataclasses.replace(ex, hints=(tricky,)), 1)
    assert _squeeze(tricky) in _squeeze(console.export_text())


def test_every_glossary_text_prints_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    content = load_content()
    console = _recording(monkeypatch)
    for term in content.terms.values():
        study_report.term(term, content)
        printed = _squeeze(console.export_text(clear=True))
        for text in (term.term, term.definition, term.example, *term.aliases):
            assert _squeeze(text) in printed, (term.id, text)
        assert _squeeze(content.citation(term)) in printed, term.id


def _wrong(question) -> list[str]:
    """Wrong answers that together show every piece of feedback the question has."""
    if question.type == "true_false":
        return ["false" if question.answer else "true"]
    if question.type == "single":
        return ["ABCDEF"[i] for i, c in enumerate(question.choices) if not c.correct]
    if question.type == "multiple":
        return [",".join("ABCDEF"[: len(question.choices)])]
    return ["zzzz"] if question.type == "short" else ["-123456789"]


def test_every_question_text_prints_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    content = load_content()
    console = _recording(monkeypatch)
    for question in content.questions.values():
        asked = shown(question, 7)
        study_report.question(0, 1, asked)
        for answer in _wrong(asked):
            study_report.outcome(grade(asked, answer, content), content)
        printed = _squeeze(console.export_text(clear=True))
        texts = [asked.prompt, asked.explanation, content.citation(asked)]
        texts += [c.text for c in getattr(asked, "choices", [])]
        texts += [c.feedback or "" for c in getattr(asked, "choices", []) if not c.correct]
        texts += [getattr(asked, "feedback", None) or ""]
        for text in texts:
            assert _squeeze(text) in printed, (question.id, text)
