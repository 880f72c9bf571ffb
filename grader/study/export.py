"""Export the question bank: Moodle GIFT, plain JSON, or a printable Markdown sheet."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grader.study.content import Content
from grader.study.quiz import expected
from grader.study.schema import (
    LETTERS,
    NumericQuestion,
    Question,
    ShortQuestion,
    TrueFalseQuestion,
)

FORMATS = ("gift", "json", "markdown")
GIFT_SPECIAL = "~=#{}:"  # Moodle's escapable characters (plus backslash and newline)
KIND = {
    "single": "one answer",
    "multiple": "every correct answer",
    "true_false": "true or false",
    "numeric": "a number",
    "short": "a word or phrase",
}


def gift_escape(text: str) -> str:
    """Escape text for GIFT: backslash first, then ~ = # { } :, newlines as \\n."""
    text = text.replace("\\", "\\\\")
    for char in GIFT_SPECIAL:
        text = text.replace(char, "\\" + char)
    return text.replace("\n", "\\n")


def _num(value: float) -> str:
    return str(value) if isinstance(value, int) else repr(value)


def _weight(count: int, sign: str = "") -> str:
    return f"%{sign}{f'{100 / count:.5f}'.rstrip('0').rstrip('.')}%"


def _fb(text: str | None) -> str:
    return f"#{gift_escape(text)}" if text else ""


def _gift_answers(q: Question) -> list[str]:
    if isinstance(q, TrueFalseQuestion):
        return [f"{'T' if q.answer else 'F'}{_fb(q.feedback)}"]
    if isinstance(q, NumericQuestion):
        tol = _num(q.tolerance)
        wrong = [f"=%0%{_num(w.value)}:{tol}{_fb(w.feedback)}" for w in q.wrong_values]
        return [f"={_num(q.answer)}:{tol}", *wrong]
    if isinstance(q, ShortQuestion):
        return [*(f"={gift_escape(a)}" for a in q.accepted), f"=%0%*{_fb(q.feedback)}"]
    right = sum(c.correct for c in q.choices)
    wrong = len(q.choices) - right
    lines = []
    for c in q.choices:
        if q.type == "single":
            mark = "=" if c.correct else "~"
        else:
            mark = "~" + (_weight(right) if c.correct else _weight(wrong, "-"))
        lines.append(f"{mark}{gift_escape(c.text)}{_fb(c.feedback)}")
    return lines


def gift(questions: Sequence[Question], content: Content) -> str:
    """Moodle GIFT: one category per topic, per-answer feedback, explanation as general feedback."""
    parts, topic = [], None
    for q in questions:
        if q.topic != topic:
            parts.append(f"$CATEGORY: dlgrade/{q.topic}\n")
            topic = q.topic
        opening = "{#" if isinstance(q, NumericQuestion) else "{"
        answers = "".join(f"\n{line}" for line in _gift_answers(q))
        parts.append(
            f"// {q.id} ({q.type}) source: {content.citation(q)}\n"
            f"::{gift_escape(q.id)}::{gift_escape(q.prompt)}{opening}{answers}\n"
            f"####{gift_escape(q.explanation)}\n}}\n"
        )
    return "\n".join(parts)


def json_item(q: Question, content: Content) -> dict[str, Any]:
    """A question as plain data; choices lettered in the order given, answer in those letters."""
    item: dict[str, Any] = {
        "id": q.id,
        "type": q.type,
        "topic": q.topic,
        "exercises": q.exercises,
        "terms": q.terms,
        "prompt": q.prompt,
    }
    if isinstance(q, TrueFalseQuestion):
        item.update(answer=q.answer, feedback=q.feedback)
    elif isinstance(q, NumericQuestion):
        wrong = [{"value": w.value, "feedback": w.feedback} for w in q.wrong_values]
        item.update(answer=q.answer, tolerance=q.tolerance, wrong_values=wrong)
    elif isinstance(q, ShortQuestion):
        item.update(answer=q.accepted, feedback=q.feedback)
    else:
        item["choices"] = [
            {"letter": LETTERS[i], "id": c.id, "text": c.text, "feedback": c.feedback}
            for i, c in enumerate(q.choices)
        ]
        letters = q.correct_letters()
        item["answer"] = letters[0] if q.type == "single" else letters
    citations = content.citations(q)
    item.update(explanation=q.explanation, source=citations[0], sources=citations)
    return item


def _md(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>])", r"\\\1", text)


def markdown(questions: Sequence[Question], content: Content) -> tuple[str, str]:
    """A printable sheet (numbered questions, lines to answer on) and its answer key, apart."""
    lines = ["# Deep-learning concept quiz", "", "Name: ____________________", ""]
    for number, q in enumerate(questions, 1):
        lines += [f"## {number}. {_md(q.prompt)}", "", f"*Give {KIND[q.type]}.*", ""]
        if isinstance(q, TrueFalseQuestion):
            lines += ["- [ ] True", "- [ ] False"]
        elif isinstance(q, NumericQuestion | ShortQuestion):
            lines += ["Answer: ____________________"]
        else:
            lines += [f"- [ ] **{LETTERS[i]}.** {_md(c.text)}" for i, c in enumerate(q.choices)]
        lines.append("")
    sheet = "\n".join(lines).rstrip("\n") + "\n"
    lines = ["# Deep-learning concept quiz: answer key", ""]
    for number, q in enumerate(questions, 1):
        lines.append(
            f"{number}. **{_md(expected(q))}** — {_md(q.explanation)}"
            f" *(Source: {_md(content.citation(q))})*"
        )
    return sheet, "\n".join(lines) + "\n"


def key_path(out: Path) -> Path:
    """Where the answer key of a Markdown sheet written to ``out`` goes."""
    return out.with_name(f"{out.stem}-key{out.suffix or '.md'}")


def export(questions: Sequence[Question], content: Content, fmt: str) -> dict[str, str]:
    """The questions in one of FORMATS: {"": text}, plus {"key": answer key} for markdown.

    Choices are lettered in the order of each question's ``choices`` (see grader.study.choices).
    """
    if fmt == "gift":
        return {"": gift(questions, content)}
    if fmt == "json":
        return {"": json.dumps([json_item(q, content) for q in questions], indent=2) + "\n"}
    sheet, key = markdown(questions, content)
    return {"": sheet, "key": key}
