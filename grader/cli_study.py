"""Click commands for studying: ``glossary``, ``cards``, ``quiz`` (+ ``export``), ``content check``.

Each command parses options, calls one function and renders. The lead registers them with
``cli.add_command(...)``; nothing here imports TensorFlow, so they start fast.
"""

from __future__ import annotations

import getpass
import json
import secrets
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import click
from fsrs import Rating

from grader import __version__
from grader import study_report as report
from grader.cards import Flashcard, card_stats, parse_rating, run_session, session_queue
from grader.content import Content, UnknownName, load_content
from grader.content_schema import Question
from grader.errors import InputError
from grader.export import FORMATS, export
from grader.glossary import lookup, term_dict, terms_in
from grader.quiz import check, exam_sheet, missed, run_quiz, select
from grader.store import connect

__all__ = ["cards", "content", "glossary", "quiz"]

CONTENT_BROKEN = "content has {count} problem(s), first: {first} (see `dlgrade content check`)"
NOT_A_RATING = "stdin line {line}: {text!r} is not a rating (again, hard, good, easy or 1-4)"
BAD_NOW = "--now/DLGRADE_NOW must be an ISO date-time such as 2025-01-31T09:00:00Z, not {text!r}"
NO_QUESTIONS = "no questions match these filters"
CANNOT_WRITE = "cannot write {path}: {reason}"


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


def _course(dirs: tuple[Path, ...]) -> Content:
    course = load_content(dirs)
    if course.problems:
        raise StudyError(
            CONTENT_BROKEN.format(count=len(course.problems), first=course.problems[0])
        )
    return course


def _now(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise StudyError(BAD_NOW.format(text=text)) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _interactive(as_json: bool) -> bool:
    return not as_json and sys.stdin.isatty() and sys.stdout.isatty()


def _next_line() -> str | None:
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
    course = _course(content_dirs)
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
        while (line := _next_line()) is not None:
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
    course, now, conn = _course(content_dirs), _now(now_text), connect()
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
    ask = report.ask_card if _interactive(as_json) else _piped_rating(as_json)
    clock = (lambda: now) if now_text else (lambda: datetime.now(UTC))
    result = run_session(conn, course, ask, clock, new_limit=new_limit, limit=limit)
    if as_json:
        report.emit_json(result.to_dict())
    else:
        report.session(result)


def _ask(interactive: bool, as_json: bool, total: int) -> Callable[[int, Question], str | None]:
    """Show each question (unless --json) and read its answer: a prompt, or a stdin line."""

    def ask(index: int, question: Question) -> str | None:
        if not as_json:
            report.question(index, total, question)
        if interactive:
            return report.ask_answer(lambda text: check(question, text))
        text = _next_line()
        if not as_json:
            report.echo_answer(text)
        return text

    return ask


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise StudyError(CANNOT_WRITE.format(path=path, reason=exc.strerror)) from None


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


@click.group(invoke_without_command=True)
@click.option("--topic", help="Only questions of this topic.")
@click.option("--exercise", help="Only questions for this exercise (e.g. 03_backprop).")
@click.option("-n", "count", type=click.IntRange(min=1), help="How many questions [default: 10].")
@click.option("--seed", type=int, help="Names the form: same seed, same questions and order.")
@click.option("--ids", help="Comma-separated question ids, asked exactly in that order.")
@click.option("--review", is_flag=True, help="Ask the questions you missed before.")
@click.option("--exam", is_flag=True, help="No feedback until the end; write a result file.")
@click.option("--name", help="Student name for the exam result [default: login name].")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Exam result file [default: ./quiz-result-<timestamp>.json].",
)
@content_option
@json_option
@now_option
@click.pass_context
def quiz(
    ctx: click.Context,
    topic: str | None,
    exercise: str | None,
    count: int | None,
    seed: int | None,
    ids: str | None,
    review: bool,
    exam: bool,
    name: str | None,
    out: Path | None,
    content_dirs: tuple[Path, ...],
    as_json: bool,
    now_text: str | None,
) -> None:
    """Answer concept questions with immediate feedback (or --exam); `quiz export` exports.

    Without a terminal, reads one answer per line: a letter, letters like A,C, true/false,
    a number (407,050 or 4.0705e5) or a word.
    """
    if ctx.invoked_subcommand is not None:
        return
    course, now, conn = _course(content_dirs), _now(now_text), connect()
    seed = secrets.randbelow(1_000_000) if seed is None else seed
    wanted = [part.strip() for part in ids.split(",") if part.strip()] if ids else None
    mode = "exam" if exam else "review" if review else "practice"
    limit = count or (None if review else 10)
    try:
        among = missed(conn) if review else None
        chosen = select(
            course, seed=seed, topic=topic, exercise=exercise, n=limit, ids=wanted, among=among
        )
    except UnknownName as exc:
        raise StudyError(str(exc)) from None
    if not chosen and not review:
        raise StudyError(NO_QUESTIONS)
    if not as_json:
        report.quiz_header(
            f"dlgrade {__version__} quiz · {mode} · seed {seed} · {len(chosen)} questions"
        )
    show = None if exam or as_json else (lambda outcome: report.outcome(outcome, course))
    ask = _ask(_interactive(as_json), as_json, len(chosen))
    result = run_quiz(conn, chosen, ask, seed=seed, mode=mode, now=now, on_outcome=show)
    data = result.to_dict()
    if exam:
        path = out or Path(f"quiz-result-{now:%Y%m%dT%H%M%SZ}.json")
        sheet = exam_sheet(result, name or _login(), now)
        _write(path, json.dumps(sheet, indent=2, ensure_ascii=False) + "\n")
        data["result_file"] = str(path)
    if as_json:
        report.emit_json(data)
        return
    report.quiz_summary(result, course, details=exam)
    if exam:
        report.wrote(path, "the exam result")


@quiz.command("export")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="Output format.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="File [default: stdout]."
)
@click.option("--topic", help="Only questions of this topic.")
@content_option
@json_option
def export_command(
    fmt: str, out: Path | None, topic: str | None, content_dirs: tuple[Path, ...], as_json: bool
) -> None:
    """Export the question bank as Moodle GIFT, JSON, or a printable Markdown sheet."""
    course = _course(content_dirs)
    if topic is not None and topic not in course.topics:
        raise StudyError(f"unknown topic '{topic}'")
    chosen = [q for q in course.questions.values() if topic is None or q.topic == topic]
    text = export(chosen, course, fmt)
    if out is None:
        if as_json:
            raise StudyError("--json reports on a written file: add --out FILE")
        sys.stdout.write(text)
        return
    _write(out, text)
    if as_json:
        report.emit_json({"format": fmt, "out": str(out), "questions": len(chosen)})
    else:
        report.wrote(out, f"{len(chosen)} questions ({fmt})")


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

    Exit status 1 if there is any problem, 0 if the content is clean.
    """
    course = load_content([*content_dirs, *dirs])
    if as_json:
        counts = {kind: len(course.table(kind)) for kind in ("source", "topic", "term", "question")}
        report.emit_json(
            {
                "ok": not course.problems,
                "problems": [p.to_dict() for p in course.problems],
                "counts": counts,
            }
        )
    else:
        report.problems(course.problems, course)
    ctx.exit(1 if course.problems else 0)
