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

from grader import __version__
from grader.cli import actions
from grader.core.errors import InputError
from grader.course import store, workspace
from grader.course.info import load_course
from grader.grading import progress, report

JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
BUDGET = click.option(
    "--budget",
    type=click.FloatRange(min=0.1),
    help="Seconds all of one file's calls may take (default: the exercise's time_budget).",
)


class LazyGroup(click.Group):
    """A group whose commands from other modules are imported only when used.

    ``dlgrade check`` should not pay for the flashcard and quiz modules, nor
    ``dlgrade quiz`` for pytest and the sandbox.
    """

    LAZY: ClassVar[dict[str, str]] = {
        "glossary": "grader.cli.study:glossary",
        "cards": "grader.cli.study:cards",
        "quiz": "grader.cli.quiz:quiz",
        "content": "grader.cli.study:content",
        "grade": "grader.cli.instructor:grade",
        "report": "grader.cli.instructor:report_command",
        "release": "grader.cli.kit:release",
        "similarity": "grader.cli.kit:similarity",
        "gradescope-bundle": "grader.cli.kit:gradescope_bundle",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY:
            module, attr = self.LAZY[name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)


POLL = click.option(
    "--poll",
    is_flag=True,
    default=None,
    help="Poll for saves (where file events do not arrive: WSL, Docker, network drives).",
)


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="dlgrade")
@POLL
@click.pass_context
def cli(ctx: click.Context, poll: bool | None) -> None:
    """Auto-graded deep-learning exercises, flashcards and concept quizzes.

    Without a command, inside a workspace or a clone of the course: the course loop, on the
    first exercise you have not passed (keys: h hint, n next, p previous, l list, r reset,
    s solution, q quit).
    """
    if ctx.invoked_subcommand is not None:
        return
    course = load_course()
    try:
        ws = workspace.find(course)
    except InputError:
        click.echo(ctx.get_help())
        return
    from grader.cli import loop

    loop.run(ws, poll=poll)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--notebooks", is_flag=True, help="Also write each exercise as a Jupyter notebook (.ipynb)."
)
@JSON
def init(directory: Path, notebooks: bool, as_json: bool) -> None:
    """Create a learner workspace in DIRECTORY with the exercise stubs."""
    ws = workspace.init(load_course(), directory, notebooks=notebooks)
    if as_json:
        report.emit_json(
            {"workspace": str(ws.root), "exercises": [e.id for e in ws.course.exercises]}
        )
        return
    con = report.console()
    con.print(f"[pass]Workspace ready:[/] {ws.root}")
    first = ws.course.exercises[0].id
    if notebooks:
        con.print(f"In Jupyter: [formula]cd {directory} && jupyter lab exercises/{first}.ipynb[/]")
    con.print(f"Next: [formula]cd {directory} && dlgrade check {first}[/]")


@cli.command()
@click.argument("exercises", nargs=-1)
@click.option("--path", type=click.Path(path_type=Path), help="Grade this file instead.")
@click.option("--solution", is_flag=True, help="Grade the reference solution.")
@click.option("--seed", type=int, help="Repeat a run with the seed its header printed.")
@click.option("--quick", is_flag=True, help="04_mnist_mlp: train on a small fixed slice.")
@BUDGET
@JSON
def check(
    exercises: tuple[str, ...],
    path: Path | None,
    solution: bool,
    seed: int | None,
    quick: bool,
    budget: float | None,
    as_json: bool,
) -> None:
    """Grade EXERCISES (default: all) check by check."""
    from grader.grading import checking

    course = load_course()
    ws = None if path or solution else workspace.find(course)
    chosen = checking.targets(course, exercises, path=path, solution=solution, workspace=lambda: ws)
    if not exercises and not path:
        for line in checking.skipped(course):
            click.echo(f"dlgrade: {line}", err=True)
    from grader.cli.gate import require

    at_terminal = not as_json and sys.stdin.isatty() and sys.stdout.isatty()
    require(course, [t.exercise for t in chosen if t.record], ask=at_terminal)
    con = report.console()
    progress = None if as_json else report.EpochProgress(con)
    results = []
    key = str(ws.root) if ws else None
    for target, result in checking.run(
        course,
        chosen,
        workspace_key=key,
        seed=seed,
        options={"quick": quick},
        budget=budget,
        on_event=progress,
    ):
        if progress:
            progress.close()
        results.append(result)
        if as_json:
            report.emit_json(result.to_dict())
            continue
        report.exercise_result(con, result)
        if result.artifacts.get("history") or result.artifacts.get("misclassified"):
            from grader.mnist import report as mnist_report

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
    shown = actions.next_hint(workspace.find(course), ex, show_all=show_all)
    if as_json:
        report.emit_json({"exercise": ex.id, "hints": ex.hints[:shown], "total": len(ex.hints)})
        return
    report.hints(report.console(), ex, shown)


@cli.command()
@click.argument("exercise", required=False)
@click.option("--all", "every", is_flag=True, help="Restore every stub (asks once).")
@click.option("--yes", is_flag=True, help="With --all: do not ask.")
@JSON
def reset(exercise: str | None, every: bool, yes: bool, as_json: bool) -> None:
    """Restore EXERCISE's stub (or --all), keeping a backup of your file."""
    course = load_course()
    if bool(exercise) == every:
        raise InputError("name one EXERCISE, or give --all")
    ws = workspace.find(course)
    if every:
        if not yes and not click.confirm(
            f"Restore all {len(course.exercises)} stubs? Changed files are kept in "
            f"{ws.root / '.dlgrade' / 'backups'}",
            err=True,
        ):
            raise click.exceptions.Abort
        backups = actions.reset_all(ws)
        if as_json:
            report.emit_json(
                {"exercises": [{"exercise": e, "backup": b and str(b)} for e, b in backups.items()]}
            )
            return
        report.reset_done(report.console(), backups)
        return
    ex = course.get(exercise)
    backup = actions.reset(ws, ex)
    if as_json:
        report.emit_json({"exercise": ex.id, "backup": str(backup) if backup else None})
        return
    report.reset_done(report.console(), {ex.id: backup})


@cli.command()
@click.argument("exercise")
@click.option("--force", is_flag=True, help="Show it before a pass (your progress notes it).")
@click.option("--diff", "as_diff", is_flag=True, help="A diff from your file to the reference.")
@JSON
def solution(exercise: str, force: bool, as_diff: bool, as_json: bool) -> None:
    """Show EXERCISE's reference solution beside your file, once your file passes."""
    course = load_course()
    view = actions.solution(workspace.find(course), course.get(exercise), force=force)
    if as_json:
        report.emit_json(view.to_dict())
        return
    from grader.cli.solution_view import render

    render(report.console(), view, diff=True if as_diff else None)


@cli.command()
@click.argument("exercise", required=False)
@POLL
@JSON
def watch(exercise: str | None, poll: bool | None, as_json: bool) -> None:
    """Re-check EXERCISE every time you save its file (Ctrl-C to stop).

    Without EXERCISE: the course loop, as `dlgrade` alone (with --json: every exercise).
    """
    from grader.cli.watching import watch_and_check

    course = load_course()
    ws = workspace.find(course)
    if exercise is None and not as_json:
        from grader.cli import loop

        loop.run(ws, poll=poll)
        return
    chosen = [course.get(exercise)] if exercise else list(course.exercises)
    from grader.course import extras

    missing = extras.missing(chosen[0]) if exercise else None
    if missing:
        raise InputError(missing)
    chosen = [e for e in chosen if not extras.missing(e)]
    watch_and_check(ws, chosen, as_json=as_json, poll=poll)


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
