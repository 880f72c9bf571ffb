"""``dlgrade grade`` and ``dlgrade report``: class grading for instructors (parse, call, render)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from grader.core.errors import GraderError, InputError
from grader.core.untrusted import markup
from grader.grading import report


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@click.command()
@click.argument("submissions", required=False, type=click.Path(path_type=Path))
@click.option(
    "--exercise",
    "-e",
    "exercises",
    multiple=True,
    help="Grade this exercise (repeatable). Default: the numpy exercises; the TensorFlow "
    "exercise 04_mnist_mlp is slow and graded only when named.",
)
@click.option("--jobs", "-j", type=click.IntRange(1, 500), help="Parallel workers [all cores].")
@click.option("--out", type=click.Path(path_type=Path), help="Output folder [./grades].")
@click.option(
    "--resume", is_flag=True, help="Finish the gradebook in --out: grade what is missing."
)
@click.option(
    "--budget",
    "--timeout",
    "timeout",
    type=click.FloatRange(min=0.1),
    help="Seconds per exercise per student (default: the exercise's time_budget).",
)
@click.option("--quick", is_flag=True, help="04_mnist_mlp: train on a small fixed slice.")
@click.option("--seed", type=int, help="Seed for the checks' inputs (stored; reused by --resume).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--no-sandbox", is_flag=True, help="Grade without bubblewrap (limits only).")
@click.option(
    "--gradescope",
    type=click.Path(path_type=Path, file_okay=False),
    help="Grade ONE submission folder and write Gradescope's results.json to --out.",
)
@click.option("--dask-scheduler", metavar="tcp://HOST:PORT", help="Grade on this Dask cluster.")
@click.option(
    "--roster",
    type=click.Path(path_type=Path, dir_okay=False),
    help="CSV of the class (login, ID, SIS User ID, name, email, section): fills the ids in "
    "canvas.csv, lists who submitted nothing and flags unknown submitters.",
)
@click.option(
    "--late-policy",
    metavar="FILE|SETTINGS",
    help='TOML file or "due=2026-03-01T23:59+01:00,10%/day,max=3d,grace=2h" ("none": no penalty).',
)
@click.option(
    "--submitted-at",
    type=click.Path(path_type=Path, dir_okay=False),
    help="CSV student,submitted_at: submission times where the download names carry none.",
)
@click.option(
    "--no-leaderboard",
    is_flag=True,
    help="--gradescope: leave 04_mnist_mlp's test accuracy off Gradescope's leaderboard.",
)
def grade(
    submissions: Path | None,
    exercises: tuple[str, ...],
    jobs: int | None,
    out: Path | None,
    resume: bool,
    timeout: float | None,
    quick: bool,
    seed: int | None,
    as_json: bool,
    no_sandbox: bool,
    gradescope: Path | None,
    dask_scheduler: str | None,
    roster: Path | None,
    late_policy: str | None,
    submitted_at: Path | None,
    no_leaderboard: bool,
) -> None:
    """Grade a class: SUBMISSIONS is an LMS download (Canvas, Moodle, Gradescope export) or
    one folder or .zip per student.

    Writes grades.csv, results.json, feedback/<student>.md, canvas.csv, report.html and the
    durable gradebook.sqlite into --out. Every file runs in its own sandboxed child.
    """
    from grader.classgrade import late, run, summary_report
    from grader.course import extras
    from grader.course.info import load_course
    from grader.course.solutions import require_solutions

    course = load_course()  # graded cases need the real reference: refuse a practice install
    named = [course.get(e) for e in exercises]
    require_solutions(course, named or run.default_exercises(course))
    if seed is not None:
        from grader.grading.practice import refuse_pool_seed

        for exercise in named or run.default_exercises(course):
            refuse_pool_seed(course, exercise, seed)
    for exercise in named:
        if extras.missing(exercise):
            raise InputError(extras.missing(exercise))
    policy = late.parse(late_policy)  # a bad policy stops here, before anything is written
    if no_sandbox:
        summary_report.warn_no_sandbox()
    if gradescope is not None:
        _gradescope(
            gradescope, out, exercises, no_sandbox, seed, timeout, quick, as_json, no_leaderboard
        )
        return
    if submissions is None:
        raise InputError("give the SUBMISSIONS folder (or --gradescope SUBMISSION_DIR)")
    request = run.Request(
        submissions=submissions,
        out=out or Path("grades"),
        exercises=exercises,
        jobs=jobs or _cores(),
        resume=resume,
        timeout=timeout,
        quick=quick,
        seed=seed,
        sandbox=not no_sandbox,
        dask_scheduler=dask_scheduler,
        quiet=as_json,
        roster=roster,
        late_policy=policy,
        submitted_at=submitted_at,
    )
    summary = run.grade_class(request)
    if as_json:
        report.emit_json(summary.to_dict())
    else:
        summary_report.render(report.console(), summary)
    sys.exit(3 if summary.grader_errors else 0)


def _gradescope(
    folder: Path,
    out: Path | None,
    exercises: tuple[str, ...],
    no_sandbox: bool,
    seed: int | None,
    timeout: float | None,
    quick: bool,
    as_json: bool,
    no_leaderboard: bool = False,
) -> None:
    from grader.classgrade import gradescope, run
    from grader.course.info import load_course
    from grader.sandbox.errors import SandboxError

    course = load_course()
    chosen = [course.get(e) for e in exercises] or run.default_exercises(course)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    target = out or gradescope.default_out()
    try:
        data = gradescope.grade_submission(
            folder,
            target,
            chosen,
            sandbox=False if no_sandbox else None,
            seed=seed,
            budget=timeout,
            options={"quick": quick},
            leaderboard=not no_leaderboard,
        )
    except SandboxError as exc:
        raise GraderError(f"grader error: {exc}") from None
    if as_json:
        report.emit_json({"results": str(target), "score": data["score"]})
    else:
        report.console().print(f"[pass]score {data['score']}[/] written to {markup(target)}")


@click.command("report")
@click.argument("grades_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print where the report went as JSON.")
def report_command(grades_dir: Path, as_json: bool) -> None:
    """Rebuild GRADES_DIR/report.html from GRADES_DIR/gradebook.sqlite alone."""
    from grader.classgrade import html_report
    from grader.course.info import load_course

    path = html_report.rebuild(grades_dir, load_course())
    if as_json:
        report.emit_json({"report": str(path)})
        return
    report.console().print(f"[pass]Class report written:[/] {markup(path)}")
