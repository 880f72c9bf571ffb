"""Click commands for concept quizzes: ``quiz`` (practice, review, exam) and ``quiz export``."""

from __future__ import annotations

import getpass
import json
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

import click

from grader import __version__
from grader.cli.study import (
    StudyError,
    content_option,
    interactive,
    json_option,
    next_line,
    now_option,
    parse_now,
    study_content,
)
from grader.course.store import connect
from grader.study import report
from grader.study.choices import shown_all
from grader.study.content import Content, UnknownName
from grader.study.export import FORMATS, export, key_path
from grader.study.quiz import Stop, check, exam_sheet, missed, run_quiz, select
from grader.study.schema import Question

__all__ = ["quiz"]

QUIT_WORDS = ("q", "quit")
NO_QUESTIONS = "no questions match these filters"
CANNOT_WRITE = "cannot write {path}: {reason}"


def _ask(
    prompt: bool, as_json: bool, total: int, course: Content
) -> Callable[[int, Question], str | None]:
    """Show each question (unless --json) and read its answer: a prompt, or a stdin line.

    ``q`` (either way) and Ctrl-C stop the quiz (Stop); Ctrl-D at a prompt does too.
    """

    def ask(index: int, question: Question) -> str | None:
        if not as_json:
            report.question(index, total, question)
        if prompt:
            text = report.ask_answer(
                lambda text: text.strip().lower() in QUIT_WORDS or check(question, text, course)
            )
            if text is None:
                raise Stop
        else:
            text = next_line()
            if not as_json:
                report.echo_answer(text)
        if text is not None and text.strip().lower() in QUIT_WORDS:
            raise Stop
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
@click.option(
    "--seed", type=int, help="Names the form: same seed, same questions, order and choice order."
)
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
    course, now, conn = study_content(content_dirs), parse_now(now_text), connect()
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
    chosen = shown_all(chosen, seed)
    if not chosen and not review:
        raise StudyError(NO_QUESTIONS)
    if not as_json:
        report.quiz_header(
            f"dlgrade {__version__} quiz · {mode} · seed {seed} · {len(chosen)} questions"
        )
    show = None if exam or as_json else (lambda outcome: report.outcome(outcome, course))
    ask = _ask(interactive(as_json), as_json, len(chosen), course)
    result = run_quiz(
        conn, chosen, ask, seed=seed, mode=mode, now=now, on_outcome=show, content=course
    )
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
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File [default: stdout; markdown needs it: the key goes to <name>-key.md].",
)
@click.option("--topic", help="Only questions of this topic.")
@click.option(
    "--seed",
    type=int,
    help="Choices in the order `dlgrade quiz --seed` shows them [default: file order].",
)
@content_option
@json_option
def export_command(
    fmt: str,
    out: Path | None,
    topic: str | None,
    seed: int | None,
    content_dirs: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Export the question bank as Moodle GIFT, JSON, or a printable Markdown sheet and key.

    GIFT keeps the file order and leaves shuffling to Moodle, so it takes no --seed.
    """
    course = study_content(content_dirs)
    if topic is not None and topic not in course.topics:
        raise StudyError(f"unknown topic '{topic}'")
    if fmt == "gift" and seed is not None:
        raise StudyError("GIFT leaves shuffling to Moodle: drop --seed")
    if fmt == "markdown" and out is None:
        raise StudyError("markdown writes a sheet and an answer key: add --out FILE")
    chosen = [q for q in course.questions.values() if topic is None or q.topic == topic]
    files = export(shown_all(chosen, seed), course, fmt)
    if out is None:
        if as_json:
            raise StudyError("--json reports on a written file: add --out FILE")
        sys.stdout.write(files[""])
        return
    written = {"out": out} | ({"key": key_path(out)} if "key" in files else {})
    for part, path in written.items():
        _write(path, files["" if part == "out" else part])
    if as_json:
        data = {"format": fmt} | {part: str(path) for part, path in written.items()}
        report.emit_json(data | {"questions": len(chosen)})
    else:
        for part, path in written.items():
            what = "the answer key" if part == "key" else f"{len(chosen)} questions ({fmt})"
            report.wrote(path, what)
