"""Instructor commands that package the course: ``release``, ``similarity``, ``gradescope-bundle``.

Each command parses options, calls one function (grader.classgrade.release,
grader.classgrade.similarity,
grader.classgrade.gradescope_bundle) and renders its result; ``--json`` prints plain JSON instead.
The grading machinery and copydetect are imported only by the command that needs them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from grader.classgrade import gradescope_bundle as gradescope
from grader.classgrade import similarity as sim
from grader.core.errors import InputError
from grader.core.untrusted import markup
from grader.course.info import Course, Exercise, load_course
from grader.grading import report

__all__ = ["gradescope_bundle", "release", "similarity"]

JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
TOP_PAIRS = 15


@click.command()
@click.argument("out_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--skip-slow", is_flag=True, help="Do not verify 04_mnist_mlp (it trains a Keras model)."
)
@JSON
def release(out_dir: Path, skip_slow: bool, as_json: bool) -> None:
    """Write a student kit to OUT_DIR, once every stub fails and every solution passes."""
    from grader.classgrade import release as kit  # pytest and the sandbox: only when releasing
    from grader.course.preflight import work_folder
    from grader.sandbox.launch import bubblewrap

    course = load_course()
    kit.check_target(out_dir)
    work_folder(bubblewrap=bubblewrap() is not None)
    if as_json:
        outcome = kit.release(course, out_dir, skip_slow=skip_slow)
        report.emit_json(outcome.to_dict())
        sys.exit(1 if outcome.refused else 0)
    con, err = report.console(), report.console(stderr=True)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("verifying", total=len(course.exercises))

        def step(exercise: Exercise) -> None:
            timed = exercise.id in kit.SLOW and not skip_slow
            slow = " (trains a model: about a minute)" if timed else ""
            done, text = course.exercises.index(exercise), f"verifying {exercise.id}{slow}"
            progress.update(task, completed=done, description=text)

        outcome = kit.release(course, out_dir, skip_slow=skip_slow, on_exercise=step)
    for verdict in outcome.verdicts:
        if verdict.skipped:
            err.print(f"[warn]⚠ {markup(kit.SKIP_NOTE.format(id=verdict.exercise))}[/]")
        elif not verdict.problems:
            con.print(
                f"[pass]✓[/] {verdict.exercise}  [muted]stub {verdict.stub} · "
                f"solution {verdict.solution}[/]"
            )
    if outcome.refused:
        for problem in outcome.problems:
            err.print(f"[fail]✗ {markup(problem)}[/]")
        err.print(f"[fail]{kit.REFUSED.format(count=len(outcome.problems))}[/]")
        sys.exit(1)
    shown = markup(out_dir)
    con.print(f"[pass]Kit written:[/] {shown} [muted]({len(outcome.written)} files)[/]")
    con.print(f"Try it: [formula]cd {shown} && dlgrade check {course.exercises[0].id}[/]")


@click.command()
@click.argument("submissions", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--exercise", "exercises", multiple=True, help="Only this exercise (repeatable).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("similarity"),
    show_default=True,
    help="Folder for similarity.csv and one HTML report per exercise.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=sim.DEFAULT_THRESHOLD,
    show_default=True,
    help="Flag a pair when either file's share covered by the other exceeds this.",
)
@JSON
def similarity(
    submissions: Path,
    exercises: tuple[str, ...],
    out_dir: Path,
    threshold: float,
    as_json: bool,
) -> None:
    """Flag suspiciously similar SUBMISSIONS per exercise (the stub's lines are ignored)."""
    course = load_course()
    chosen = [course.get(e) for e in exercises] or None
    found = sim.similarity(
        course, submissions, exercises=chosen, out_dir=out_dir, threshold=threshold
    )
    rebuilt = _class_report(out_dir, course)
    if as_json:
        report.emit_json(found.to_dict())
        return
    con, err = report.console(), report.console(stderr=True)
    for problem in found.problems:
        err.print(f"[warn]⚠ {markup(problem)}[/]")
    table = Table(title=f"Most similar pairs (threshold {threshold:.2f})", title_justify="left")
    for name, justify in (("exercise", "left"), ("student a", "left"), ("student b", "left")):
        table.add_column(name, justify=justify)
    for name in ("a covered", "b covered", "tokens"):
        table.add_column(name, justify="right")
    for pair in found.pairs[:TOP_PAIRS]:
        style = "fail" if pair.similarity >= 0.8 else "warn"
        table.add_row(
            markup(pair.exercise),
            markup(pair.student_a),
            markup(pair.student_b),
            f"[{style}]{pair.similarity_a:.0%}[/]",
            f"[{style}]{pair.similarity_b:.0%}[/]",
            str(pair.token_overlap),
        )
    if found.pairs:
        con.print(table)
    else:
        con.print(f"[pass]No pair above the threshold ({threshold:.2f}).[/]")
    counts = ", ".join(f"{ex} {n}" for ex, n in found.compared.items())
    con.print(f"[muted]Submissions compared: {counts}[/]")
    con.print(f"[muted]CSV: {markup(found.csv)}[/]")
    for exercise, path in found.html.items():
        con.print(f"[muted]HTML ({markup(exercise)}): {markup(path)}[/]")
    if rebuilt:
        con.print(f"[muted]Class report updated with these pairs: {markup(rebuilt)}[/]")


def _class_report(out_dir: Path, course: Course) -> str | None:
    """Rebuild report.html when --out is a grades folder or its similarity/ subfolder."""
    from grader.classgrade import html_report

    for folder in (out_dir, out_dir.parent):
        if (folder / "gradebook.sqlite").is_file():
            try:
                return str(html_report.rebuild(folder, course))
            except InputError as exc:
                report.console(stderr=True).print(f"[warn]⚠ {markup(str(exc))}[/]")
    return None


@click.command(name="gradescope-bundle")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("autograder.zip"),
    show_default=True,
    help="Where to write the zip to upload to Gradescope.",
)
@JSON
def gradescope_bundle(out: Path, as_json: bool) -> None:
    """Build autograder.zip for Gradescope: setup.sh, run_autograder and the dlgrade wheel."""
    built = gradescope.bundle(out)
    if as_json:
        report.emit_json(built.to_dict())
        return
    con = report.console()
    con.print(f"[pass]Wrote {markup(built.path)}[/] [muted]({markup(', '.join(built.entries))})[/]")
    con.print("Upload it as the autograder of a Gradescope programming assignment.")
