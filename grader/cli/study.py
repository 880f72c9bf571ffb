"""Click commands for studying: ``glossary``, ``cards``, ``content check``, and what the
study commands share (options, content loading, reading answers; ``quiz`` is in grader.cli.quiz).

Each command parses options, calls one function and renders. ``cli.LazyGroup`` imports them
only when used; nothing here imports TensorFlow, so they start fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import click
from fsrs import Rating

from grader.core.errors import InputError
from grader.course.store import connect
from grader.study import report
from grader.study.cards import Flashcard, card_stats, parse_rating, run_session, session_queue
from grader.study.choices import clusters
from grader.study.content import Content, UnknownName, load_content
from grader.study.glossary import lookup, term_dict, terms_in

__all__ = ["cards", "content", "glossary"]

CONTENT_BROKEN = "content has {count} problem(s), first: {first} (see `dlgrade content check`)"
NOT_A_RATING = "stdin line {line}: {text!r} is not a rating (again, hard, good, easy or 1-4)"
BAD_NOW = "--now/DLGRADE_NOW must be an ISO date-time such as 2025-01-31T09:00:00Z, not {text!r}"


class StudyError(InputError):
    """An InputError (exit 2) shown as one line, without the usage block."""

    def show(self, file: IO[str] | None = None) -> None:
        click.ClickException.show(self, file)


content_option = click.option(
    "--content",
    "content_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Extra content folder (repeatable; also $DLGRADE_CONTENT).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
now_option = click.option("--now", "now_text", hidden=True, envvar="DLGRADE_NOW")


def study_content(dirs: tuple[Path, ...]) -> Content:
    """The bundled content plus ``dirs``; any problem in it is one StudyError."""
    course = load_content(dirs)
    if course.problems:
        raise StudyError(
            CONTENT_BROKEN.format(count=len(course.problems), first=course.problems[0])
        )
    return course


def parse_now(text: str | None) -> datetime:
    """``--now`` (tests and demos) as an aware UTC time; the real time when not given."""
    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise StudyError(BAD_NOW.format(text=text)) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def interactive(as_json: bool) -> bool:
    """Prompt a person, or read piped lines (--json, or stdin/stdout not a terminal)."""
    return not as_json and sys.stdin.isatty() and sys.stdout.isatty()


def next_line() -> str | None:
    """One line of piped stdin without its line ending; None at the end."""
    line = sys.stdin.readline()
    return line.rstrip("\r\n") if line else None


@click.command()
@click.argument("term", nargs=-1)
@click.option("--list", "list_all", is_flag=True, help="List every term (or those of --topic).")
@click.option("--topic", help="Only terms of this topic.")
@content_option
@json_option
def glossary(
    term: tuple[str, ...],
    list_all: bool,
    topic: str | None,
    content_dirs: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Look up TERM (typos and aliases welcome), or list the glossary."""
    course = study_content(content_dirs)
    query = " ".join(term).strip()
    if query and list_all:
        raise StudyError("give a TERM or --list, not both")
    try:
        if not query:
            entries = terms_in(course, topic)
            if as_json:
                report.emit_json([term_dict(course, entry) for entry in entries])
            else:
                report.term_list(entries)
            return
        found = lookup(course, query, topic)
    except UnknownName as exc:
        raise StudyError(str(exc)) from None
    if found.term is None:
        raise StudyError(found.message())
    if as_json:
        report.emit_json(term_dict(course, found.term))
    else:
        report.term(found.term, course)


def _piped_rating(as_json: bool) -> Callable[[Flashcard], tuple[Rating, None] | None]:
    """Ratings from stdin, one per line (blank lines skipped); EOF stops the session."""
    count = 0

    def ask(card: Flashcard) -> tuple[Rating, None] | None:
        nonlocal count
        while (line := next_line()) is not None:
            count += 1
            if line.strip():
                break
        if line is None:
            return None
        rating = parse_rating(line)
        if rating is None:
            raise StudyError(NOT_A_RATING.format(line=count, text=line))
        if not as_json:
            report.card_front(card)
            report.card_back(card)
            report.card_rated(rating)
        return rating, None

    return ask


def _with_origin(ask: Callable, conn, as_json: bool) -> Callable:
    """``ask``, first saying which coding mistake put the card in the deck."""
    from grader.study.mistake_cards import origins

    came_from = origins(conn)

    def asked(card: Flashcard):
        if not as_json and card.key in came_from:
            report.card_origin(came_from[card.key])
        return ask(card)

    return asked


@click.command()
@click.option(
    "--new",
    "new_limit",
    default=10,
    show_default=True,
    type=click.IntRange(min=0),
    help="New cards per day, counting those already introduced today.",
)
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many reviews.")
@click.option("--stats", is_flag=True, help="Show due counts and retention instead of reviewing.")
@content_option
@json_option
@now_option
def cards(
    new_limit: int,
    limit: int | None,
    stats: bool,
    content_dirs: tuple[Path, ...],
    as_json: bool,
    now_text: str | None,
) -> None:
    """Review glossary flashcards (FSRS): due cards first, then new ones.

    Rate each card again (forgot), hard (recalled with effort: still a pass), good or easy.
    Without a terminal, reads one rating per line from stdin (again/hard/good/easy or 1-4).
    """
    course, now, conn = study_content(content_dirs), parse_now(now_text), connect()
    if stats:
        numbers = card_stats(conn, course, now)
        if as_json:
            report.emit_json(numbers)
        else:
            report.card_stats(numbers)
        return
    if not as_json:
        queued = session_queue(conn, course, now, new_limit=new_limit, limit=limit)
        report.cards_header(len(queued), card_stats(conn, course, now))
    ask = _with_origin(
        report.ask_card if interactive(as_json) else _piped_rating(as_json), conn, as_json
    )
    clock = (lambda: now) if now_text else (lambda: datetime.now(UTC))
    result = run_session(conn, course, ask, clock, new_limit=new_limit, limit=limit)
    if as_json:
        report.emit_json(result.to_dict())
    else:
        report.session(result)


@click.group()
def content() -> None:
    """Check the glossary and question bank."""


@content.command("check")
@click.argument("dirs", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@content_option
@json_option
@click.pass_context
def check_command(
    ctx: click.Context, dirs: tuple[Path, ...], content_dirs: tuple[Path, ...], as_json: bool
) -> None:
    """Check the bundled content with DIR... and $DLGRADE_CONTENT; print file:line: message.

    Also warns (without failing) when a folder's right answers cluster on one position.
    Exit status 1 if there is any problem, 0 if the content is clean.
    """
    course = load_content([*content_dirs, *dirs])
    warnings = [
        {"folder": folder, "message": str(cluster)}
        for folder, questions in course.questions_by_folder().items()
        for cluster in clusters(questions)
    ]
    if as_json:
        counts = {kind: len(course.table(kind)) for kind in ("source", "topic", "term", "question")}
        report.emit_json(
            {
                "ok": not course.problems,
                "problems": [p.to_dict() for p in course.problems],
                "warnings": warnings,
                "counts": counts,
            }
        )
    else:
        report.problems(course.problems, course, warnings)
    ctx.exit(1 if course.problems else 0)
