"""Rendering for glossary, cards, quiz and content check: one Console, one Theme.

Only this module talks to Rich. ``emit_json`` bypasses Rich entirely for scripts.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fsrs import Rating
from rich.console import Console
from rich.panel import Panel
from rich.prompt import Prompt
from rich.table import Table
from rich.theme import Theme

from grader.core.untrusted import markup
from grader.study.cards import RATING_NAMES, Flashcard, Session, parse_rating
from grader.study.content import Content, Problem
from grader.study.quiz import Outcome, QuizResult, expected
from grader.study.schema import LETTERS, Question, Term

THEME = Theme(
    {"pass": "bold green", "fail": "bold red", "hint": "yellow", "formula": "cyan", "muted": "dim"}
)
console = Console(theme=THEME, highlight=False, emoji=False)
RATING_HELP = (
    "[fail]1 again[/] forgot it · [hint]2 hard[/] recalled with effort (still a pass) · "
    "[pass]3 good[/] recalled · [formula]4 easy[/] instantly"
)


def escape(text: str) -> str:
    """Content (glossary, questions, feedback) safe to put in a Rich markup string."""
    return markup(text, one_line=False)


def emit_json(data: Any) -> None:
    """Plain JSON on stdout, no Rich."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


# content check -------------------------------------------------------------------------


def problems(
    found: Sequence[Problem], content: Content, warnings: Sequence[dict[str, str]] = ()
) -> None:
    """Each problem as file:line: message, each warning as folder: warning: message, a summary."""
    for problem in found:
        console.print(str(problem), style="fail", markup=False, soft_wrap=True)
    for warning in warnings:
        line = f"{warning['folder']}: warning: {warning['message']}"
        console.print(line, style="hint", markup=False, soft_wrap=True)
    counts = (
        f"{len(content.terms)} terms, {len(content.questions)} questions, "
        f"{len(content.topics)} topics, {len(content.sources)} sources"
    )
    if found:
        console.print(f"[fail]{len(found)} problem(s)[/] in content with {counts}")
    else:
        console.print(f"[pass]content OK[/]: {counts}")


# glossary ------------------------------------------------------------------------------


def term(entry: Term, content: Content) -> None:
    """One term: definition, example, aliases, related terms, source."""
    related = [content.terms[r].term if r in content.terms else r for r in entry.related]
    lines = [escape(entry.definition), "", f"[formula]Example:[/] {escape(entry.example)}"]
    if entry.aliases:
        lines.append(f"[muted]Also called:[/] {escape(', '.join(entry.aliases))}")
    lines.append(f"[muted]Related:[/] {escape(', '.join(related))}")
    if entry.exercises:
        lines.append(f"[muted]Exercises:[/] {', '.join(entry.exercises)}")
    lines.append(f"[muted]Source:[/] {escape(content.citation(entry))}")
    title = f"[bold]{escape(entry.term)}[/] [muted]({entry.topic})[/]"
    console.print(Panel("\n".join(lines), title=title, title_align="left"))


def term_list(entries: Sequence[Term]) -> None:
    """A table of terms with their topic and definition."""
    table = Table("Term", "Topic", "Definition", show_lines=False)
    for entry in entries:
        table.add_row(escape(entry.term), entry.topic, escape(entry.definition))
    console.print(table)
    console.print(f"[muted]{len(entries)} terms[/]")


# cards ---------------------------------------------------------------------------------


def cards_header(queued: int, stats: dict[str, Any]) -> None:
    mistakes = len(stats["from_mistakes"])
    console.print(
        f"[bold]dlgrade cards[/] · {queued} in this session · {stats['due_today']} due today"
        f" · {stats['new']} never seen"
        + (f" · {mistakes} from your coding mistakes" if mistakes else "")
    )
    console.print(RATING_HELP)


def card_origin(origins: list[dict[str, str]]) -> None:
    """Where a card came from, when a coding mistake put it in the deck."""
    where = ", ".join(f"{o['exercise']} ({o['mistake']})" for o in origins)
    console.print(f"[hint]from your mistake in {escape(where)}[/]")


def card_front(card: Flashcard) -> None:
    label = "Term → definition" if card.direction == "fwd" else "Definition → term"
    console.print(Panel(escape(card.front), title=f"[muted]{label}[/]", title_align="left"))


def card_back(card: Flashcard) -> None:
    extra = f"\n[formula]Example:[/] {escape(card.term.example)}" if card.direction == "fwd" else ""
    console.print(Panel(escape(card.back) + extra, border_style="pass"))


def card_rated(rating: Rating) -> None:
    console.print(f"[muted]rated {RATING_NAMES[rating]}[/]")


def ask_card(card: Flashcard) -> tuple[Rating, int] | None:
    """Interactive: front, Enter, back, rating. None when the learner stops (q, Ctrl-D/C)."""
    started = time.monotonic()
    try:
        card_front(card)
        if console.input("[muted]Enter shows the answer, q stops:[/] ").strip().lower() == "q":
            return None
        card_back(card)
        while True:
            text = Prompt.ask(
                "Rating [muted](1-4 or again/hard/good/easy, q stops)[/]", console=console
            )
            if text.strip().lower() == "q":
                return None
            rating = parse_rating(text)
            if rating is not None:
                return rating, int((time.monotonic() - started) * 1000)
            console.print(RATING_HELP)
    except (EOFError, KeyboardInterrupt):
        return None


def session(result: Session) -> None:
    console.print(f"[pass]{len(result.reviews)} reviewed[/] · {result.left} left in the queue")


def card_stats(stats: dict[str, Any]) -> None:
    table = Table("Cards", "", show_header=False)
    retention = stats["retention"]
    rows = [
        ("due now", stats["due_now"]),
        ("due today", stats["due_today"]),
        ("due this week", stats["due_week"]),
        ("new (never seen)", stats["new"]),
        ("learning", stats["learning"]),
        ("review", stats["review"]),
        ("reviews in 30 days", stats["reviews_30d"]),
        ("retention (not Again)", "–" if retention is None else f"{retention:.0%}"),
        ("from coding mistakes", len(stats["from_mistakes"])),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    console.print(table)
    for key, origins in stats["from_mistakes"].items():
        where = ", ".join(f"{o['exercise']} ({o['mistake']})" for o in origins)
        console.print(f"[muted]{escape(key)}: from your mistake in {escape(where)}[/]")


# quiz ----------------------------------------------------------------------------------


def quiz_header(line: str) -> None:
    console.print(f"[bold]{escape(line)}[/]", soft_wrap=True)


def question(index: int, total: int, q: Question) -> None:
    """The prompt and, for choice questions, the lettered choices."""
    hint = {
        "single": "one letter",
        "multiple": "all correct letters, e.g. A,C",
        "true_false": "true or false",
        "numeric": "a number",
        "short": "a word or phrase",
    }[q.type]
    console.print(f"\n[bold]{index + 1}/{total}[/] {escape(q.prompt)} [muted]({hint})[/]")
    for letter, choice in zip(LETTERS, getattr(q, "choices", []), strict=False):
        console.print(f"  [bold]{letter}.[/] {escape(choice.text)}")


def ask_answer(validate: Callable[[str], object]) -> str | None:
    """Interactive: ask until ``validate`` accepts the text. None on Ctrl-D/Ctrl-C."""
    while True:
        try:
            text = Prompt.ask("[hint]Your answer[/] [muted](q quits)[/]", console=console)
        except (EOFError, KeyboardInterrupt):
            return None
        try:
            validate(text)
        except ValueError as exc:
            console.print(f"[hint]{escape(str(exc))}[/]")
            continue
        return text


def echo_answer(text: str | None) -> None:
    console.print(f"[muted]> {escape(text if text is not None else '(no answer)')}[/]")


def outcome(result: Outcome, content: Content) -> None:
    """Feedback: right, or why not, the right answer and where to read about it."""
    q = result.question
    if result.correct:
        console.print(f"[pass]✓ Right.[/] [muted]{escape(q.explanation)}[/]")
        return
    console.print("[fail]✗ Not answered.[/]" if result.given is None else "[fail]✗ Wrong.[/]")
    for why in result.feedback:
        console.print(f"  [hint]{escape(why)}[/]")
    console.print(f"  Right answer: [pass]{escape(expected(q))}[/]")
    console.print(f"  [muted]{escape(q.explanation)}[/]")
    console.print(f"  [muted]Source: {escape(content.citation(q))}[/]")


def quiz_summary(result: QuizResult, content: Content, *, details: bool) -> None:
    """Score line; with ``details`` (exams) every question's feedback first."""
    if not result.outcomes:
        if result.interrupted:
            console.print("[hint]Interrupted before the first answer: nothing counted.[/]")
        else:
            console.print("[muted]No questions to ask (nothing missed, or nothing matches).[/]")
        return
    if details:
        for index, item in enumerate(result.outcomes):
            console.print(f"\n[bold]{index + 1}.[/] {escape(item.question.prompt)}")
            outcome(item, content)
    total = len(result.outcomes)
    style = "pass" if result.score == total else "hint" if result.score else "fail"
    if result.interrupted:
        console.print(
            f"\n[hint]Interrupted after {total} of {result.planned} questions;"
            " the score counts only those.[/]"
        )
    console.print(f"\n[{style}]Score: {result.score}/{total}[/] [muted](seed {result.seed})[/]")


def wrote(path: Path, what: str) -> None:
    console.print(f"[pass]Wrote[/] {what} to {escape(str(path))}", soft_wrap=True)
