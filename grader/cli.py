"""The ``dlgrade`` command line: commands only — parse, call one function, render."""

from __future__ import annotations

import gc
import importlib
import os
import sqlite3
import sys
from pathlib import Path
from typing import ClassVar

import click

from grader import __version__, progress, report, store, workspace
from grader.course import load_course
from grader.errors import InputError

JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


class LazyGroup(click.Group):
    """A group whose commands from other modules are imported only when used.

    ``dlgrade check`` should not pay for the flashcard and quiz modules, nor
    ``dlgrade quiz`` for pytest and the sandbox.
    """

    LAZY: ClassVar[dict[str, str]] = {
        "glossary": "grader.cli_study:glossary",
        "cards": "grader.cli_study:cards",
        "quiz": "grader.cli_quiz:quiz",
        "content": "grader.cli_study:content",
        "grade": "grader.cli_instructor:grade",
        "report": "grader.cli_instructor:report_command",
        "release": "grader.cli_kit:release",
        "similarity": "grader.cli_kit:similarity",
        "gradescope-bundle": "grader.cli_kit:gradescope_bundle",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY:
            module, attr = self.LAZY[name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dlgrade")
def cli() -> None:
    """Auto-graded deep-learning exercises, flashcards and concept quizzes."""


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@JSON
def init(directory: Path, as_json: bool) -> None:
    """Create a learner workspace in DIRECTORY with the exercise stubs."""
    ws = workspace.init(load_course(), directory)
    if as_json:
        report.emit_json(
            {"workspace": str(ws.root), "exercises": [e.id for e in ws.course.exercises]}
        )
        return
    con = report.console()
    con.print(f"[pass]Workspace ready:[/] {ws.root}")
    con.print(f"Next: [formula]cd {directory} && dlgrade check {ws.course.exercises[0].id}[/]")


@cli.command()
@click.argument("exercises", nargs=-1)
@click.option("--path", type=click.Path(path_type=Path), help="Grade this file instead.")
@click.option("--solution", is_flag=True, help="Grade the reference solution.")
@click.option("--seed", type=int, help="Repeat a run with the seed its header printed.")
@click.option("--quick", is_flag=True, help="04_mnist_mlp: train on a small fixed slice.")
@JSON
def check(
    exercises: tuple[str, ...],
    path: Path | None,
    solution: bool,
    seed: int | None,
    quick: bool,
    as_json: bool,
) -> None:
    """Grade EXERCISES (default: all) check by check."""
    from grader import checking

    course = load_course()
    ws = None if path or solution else workspace.find(course)
    chosen = checking.targets(course, exercises, path=path, solution=solution, workspace=lambda: ws)
    if not exercises and not path:
        for line in checking.skipped(course):
            click.echo(f"dlgrade: {line}", err=True)
    con = report.console()
    progress = None if as_json else report.EpochProgress(con)
    results = []
    key = str(ws.root) if ws else None
    for target, result in checking.run(
        course, chosen, workspace_key=key, seed=seed, options={"quick": quick}, on_event=progress
    ):
        if progress:
            progress.close()
        results.append(result)
        if as_json:
            report.emit_json(result.to_dict())
            continue
        report.exercise_result(con, result)
        if result.artifacts.get("history") or result.artifacts.get("misclassified"):
            from grader import mnist_report

            folder = target.path.parent if not solution else None
            mnist_report.render(con, result, folder)
    sys.exit(checking.exit_code(results))


@cli.command(name="list")
@JSON
def list_(as_json: bool) -> None:
    """Exercises, quiz mastery per topic and flashcards due, side by side."""
    course = load_course()
    ws = workspace.find(course)
    overview = progress.overview(course, str(ws.root))
    if as_json:
        report.emit_json(overview.to_dict())
        return
    report.overview(report.console(), overview)


@cli.command()
@click.argument("exercise")
@click.option("--all", "show_all", is_flag=True, help="Show every hint at once.")
@JSON
def hint(exercise: str, show_all: bool, as_json: bool) -> None:
    """Reveal the next hint for EXERCISE."""
    course = load_course()
    ex = course.get(exercise)
    ws = workspace.find(course)
    with store.connect() as conn:
        shown = (
            len(ex.hints)
            if show_all
            else progress.next_hint(conn, str(ws.root), ex.id, len(ex.hints))
        )
    if as_json:
        report.emit_json({"exercise": ex.id, "hints": ex.hints[:shown], "total": len(ex.hints)})
        return
    report.hints(report.console(), ex, shown)


@cli.command()
@click.argument("exercise")
@JSON
def reset(exercise: str, as_json: bool) -> None:
    """Restore EXERCISE's stub, keeping a backup of your file."""
    course = load_course()
    ex = course.get(exercise)
    backup = workspace.find(course).reset(ex)
    if as_json:
        report.emit_json({"exercise": ex.id, "backup": str(backup) if backup else None})
        return
    con = report.console()
    con.print(f"[pass]{ex.id} restored to its stub.[/]")
    if backup:
        con.print(f"[muted]Your previous file is kept at {backup}[/]")


@cli.command()
@click.argument("exercise", required=False)
@JSON
def watch(exercise: str | None, as_json: bool) -> None:
    """Re-check an exercise every time you save its file (Ctrl-C to stop)."""
    from grader.watching import watch_and_check

    course = load_course()
    ws = workspace.find(course)
    chosen = [course.get(exercise)] if exercise else list(course.exercises)
    from grader import extras

    missing = extras.missing(chosen[0]) if exercise else None
    if missing:
        raise InputError(missing)
    chosen = [e for e in chosen if not extras.missing(e)]
    watch_and_check(ws, chosen, as_json=as_json)


def main() -> None:
    """Entry point: user errors are one line and exit 2, never a traceback."""
    try:
        _run()
    finally:
        # Every object alive now lives until the process ends: freezing them spares the
        # interpreter's shutdown from sweeping them for cycles, 0.1 s with numpy, pytest
        # and rich loaded, after the report is out. Exit handlers and flushes still run.
        gc.freeze()


def _run() -> None:
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        click.echo(f"dlgrade: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except sqlite3.DatabaseError as exc:  # damaged past what opening it showed
        error = store.store_error(store.home_path() / store.DB_NAME, exc)
        click.echo(f"dlgrade: {error.format_message()}", err=True)
        sys.exit(error.exit_code)
    except Exception as exc:  # a bug of ours: one line for people, the trace on request
        if os.environ.get("DLGRADE_DEBUG"):
            raise
        click.echo(
            f"dlgrade: internal error: {type(exc).__name__}: {exc} "
            "(set DLGRADE_DEBUG=1 for the traceback, and please report it)",
            err=True,
        )
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)
