"""One class run: discover, open the gradebook, grade what is missing, export, summarize.

Results reach the gradebook one transaction at a time as they arrive from the workers
(local pool or Dask). A student whose chunk hit a grader error is retried once; if it
fails again it is recorded as a grader error — never a learner's zero — and stays to do
for the next ``--resume``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import __version__
from grader.classgrade import gradebook, late, layouts, lms_store, notebook_files, roster
from grader.classgrade.analytics import Summary, summarize
from grader.classgrade.exports import write_all
from grader.classgrade.pool import Chunk, Job, run_local
from grader.classgrade.summary_report import ProgressView
from grader.core.atomic import out_lock
from grader.core.errors import GraderError, InputError
from grader.course.info import Course, Exercise, load_course
from grader.course.preflight import work_folder
from grader.grading.results import CheckResult, ExerciseResult
from grader.sandbox import launch

CHUNK_MAX = 25
CHUNK_MIN = 5
NO_BWRAP = (
    "bubblewrap is not installed, and class grading runs every submission inside it: "
    "install it (apt-get install bubblewrap) or pass --no-sandbox to grade with "
    "resource limits only"
)
Backend = Callable[[Sequence[Chunk], Callable, Callable], None]


@dataclass(frozen=True)
class Request:
    """What the instructor asked for on the command line."""

    submissions: Path
    out: Path
    exercises: tuple[str, ...] = ()
    jobs: int = 1
    resume: bool = False
    timeout: float | None = None
    quick: bool = False
    seed: int | None = None
    sandbox: bool = True
    dask_scheduler: str | None = None
    quiet: bool = False
    roster: Path | None = None
    late_policy: late.Policy | None = None
    submitted_at: Path | None = None


def default_exercises(course: Course) -> list[Exercise]:
    """The numpy exercises; TensorFlow ones (with ``limits.imports``) only when named."""
    return [e for e in course.exercises if not e.limits.imports]


def missing_result(exercise: Exercise, seed: int, note: str) -> dict[str, Any]:
    """A zero for a file that was not submitted (or was refused), check by check."""
    result = ExerciseResult(exercise.id, exercise.title, exercise.file_name, seed=seed)
    result.load_error = note
    result.checks = [
        CheckResult(name, name.replace("_", " "), "missing", 0, points, note)
        for name, points in exercise.points.items()
    ]
    return result.to_dict()


def chunked(
    tasks: list[tuple[str, str, bytes]],
    jobs: int,
    first_id: int = 0,
    seeds: dict[str, int] | None = None,
) -> list[Chunk]:
    """(exercise, student, source) tasks as chunks of one exercise each, in task order.

    Chunks hold up to 25 students and shrink towards the end of the run (a share of what
    is left per worker, at least 5), so no worker idles long while another finishes a
    big last chunk. ``seeds`` gives each student's own seed.
    """
    by_exercise: dict[str, list[tuple[str, bytes]]] = {}
    for exercise, student, source in tasks:
        by_exercise.setdefault(exercise, []).append((student, source))
    chunks, left = [], len(tasks)
    for exercise, items in by_exercise.items():
        start = 0
        while start < len(items):
            size = max(CHUNK_MIN, min(CHUNK_MAX, -(-left // (2 * max(jobs, 1)))))
            part = items[start : start + size]
            students, sources = tuple(s for s, _ in part), tuple(src for _, src in part)
            own = tuple(seeds[s] for s in students) if seeds else ()
            chunks.append(Chunk(first_id + len(chunks), exercise, students, sources, own))
            start, left = start + len(part), left - len(part)
    return chunks


def _open(request: Request, course: Course) -> tuple[Any, gradebook.Settings]:
    ids = tuple(course.get(e).id for e in request.exercises)
    options = {"quick": True} if request.quick else None
    if request.resume:
        return gradebook.reopen(
            request.out,
            seed=request.seed,
            exercises=ids or None,
            budget=request.timeout,
            options=options,
        )
    settings = gradebook.Settings.new(
        request.seed,
        ids or tuple(e.id for e in default_exercises(course)),
        request.timeout,
        options or {"quick": False},
    )
    return gradebook.create(request.out, settings), settings


def _backend(request: Request, job: Job) -> Backend:
    if request.dask_scheduler:
        from grader.classgrade.dask_backend import run_dask

        return lambda chunks, deliver, failed: run_dask(
            request.dask_scheduler, chunks, job, deliver, failed
        )
    return lambda chunks, deliver, failed: run_local(chunks, job, request.jobs, deliver, failed)


def grade_class(request: Request) -> Summary:
    """Grade what the gradebook in ``request.out`` lacks, write the exports, summarize."""
    course = load_course()
    if not request.submissions.is_dir():
        raise InputError(f"{request.submissions}: not a folder of submissions")
    out = request.out.resolve()
    if out.is_relative_to(request.submissions.resolve()):
        raise InputError("--out must not be inside the submissions folder")
    if request.sandbox and not request.dask_scheduler and not launch.bubblewrap():
        raise GraderError(NO_BWRAP)
    if not request.dask_scheduler:
        work_folder(bubblewrap=request.sandbox and launch.bubblewrap() is not None)
    members = roster.load(request.roster) if request.roster else None
    times = late.submitted_at(request.submitted_at) if request.submitted_at else {}
    download = None
    if not request.resume:  # a download with nothing to grade leaves no --out behind
        ids = tuple(course.get(e).id for e in request.exercises)
        chosen = [course.get(e) for e in ids] or default_exercises(course)
        download = find_students(request, chosen, members, times)
    with out_lock(out):
        conn, settings = _open(request, course)
        try:
            if download is None:
                chosen = [course.get(e) for e in settings.exercises]
                download = find_students(request, chosen, members, times)
            return _grade(request, course, conn, settings, download)
        finally:
            conn.close()


def find_students(
    request: Request,
    exercises: Sequence[Exercise],
    members: list[roster.Member] | None,
    times: dict[str, Any],
) -> layouts.Download:
    """The students of the download (roster and submission times applied); exit 2 if none."""
    download = layouts.discover(
        request.submissions, [e.file_name for e in exercises], skip=[request.out]
    )
    layouts.require_gradable(request.submissions, download)
    if members is not None:
        download.students, download.unknown = roster.apply(members, download.students)
    for submitter in download.students:
        for key in (submitter.student, submitter.login, submitter.lms_id, submitter.email):
            if key and key in times:
                submitter.submitted_at = times[key]
                break
    return download


def _grade(
    request: Request,
    course: Course,
    conn: Any,
    settings: gradebook.Settings,
    download: layouts.Download,
) -> Summary:
    exercises = [course.get(e) for e in settings.exercises]
    found = [s.files for s in download.students]
    lms_store.set_meta(conn, "layout", download.layout)
    if request.late_policy is not None or not request.resume:
        policy = request.late_policy.to_dict() if request.late_policy else None
        lms_store.set_meta(conn, "late_policy", policy)
    done = gradebook.done(conn)
    tasks, digests, cells = [], {}, {}
    for submitter in download.students:
        lms_store.record(conn, submitter.student, submitter.info())
    for student in found:
        gradebook.record_student(conn, student.student, student.notes)
        for ex in exercises:
            if (student.student, ex.id) in done:
                continue
            source = student.files.get(ex.file_name)
            if source is None:
                note = student.refused.get(ex.file_name) or f"no {ex.file_name} was submitted"
                seed = settings.seed_for(student.student)
                gradebook.commit(conn, student.student, missing_result(ex, seed, note), None)
                continue
            tasks.append((ex.id, student.student, source))
            cells[(student.student, ex.id)] = student.cells.get(ex.file_name)
            digests[(student.student, ex.id)] = gradebook.sha256(source)
    seeds = {s.student: settings.seed_for(s.student) for s in found}
    job = Job(
        settings.seed_for(""),
        settings.budget,
        settings.options,
        request.sandbox,
        (str(request.submissions.resolve()), str(request.out.resolve())),
    )
    backend = _backend(request, job)
    started = time.perf_counter()
    run_index = gradebook.start_run(conn, _run_info(request))
    with ProgressView(len(tasks), quiet=request.quiet) as progress:

        def deliver(chunk: Chunk, index: int, result: dict[str, Any]) -> None:
            student = chunk.students[index]
            where = cells.get((student, chunk.exercise))  # a notebook's: feedback names cells
            result = notebook_files.relabel(result, where, f"{chunk.exercise}.py")
            gradebook.commit(conn, student, result, digests.get((student, chunk.exercise)))
            progress.advance(student, chunk.exercise, gradebook.status_of(result))

        errors = _attempt(backend, chunked(tasks, request.jobs, seeds=seeds), deliver)
        if errors:  # once more, in fresh workers
            retry = [(c.exercise, c.students[i], c.sources[i]) for c, i, _ in errors]
            errors = _attempt(
                backend, chunked(retry, request.jobs, first_id=10**6, seeds=seeds), deliver
            )
        for chunk, index, message in errors:
            gradebook.record_grader_error(conn, chunk.students[index], chunk.exercise, message)
            progress.advance(chunk.students[index], chunk.exercise, "grader error")
    seconds = time.perf_counter() - started
    graded = len(tasks) - len(errors)
    gradebook.finish_run(conn, run_index, seconds=round(seconds, 3), graded=graded)
    data = write_all(conn, request.out, course)
    summary = summarize(data)
    summary.report = write_report(conn, request.out, course)
    summary.run = {
        "layout": download.layout,
        "not_on_roster": list(download.unknown),
        "ids_missing": len(data["ids_missing"]),
        "late": [
            (r["student"], r["late"]["days_late"], r["late"]["penalty_percent"])
            for r in data["students"]
            if r.get("late") and r["late"]["days_late"]
        ],
        "late_unknown": [
            r["student"]
            for r in data["students"]
            if r.get("late") and r["late"]["days_late"] is None and r["lms"].get("marked_late")
        ],
        "out": str(request.out),
        "graded": graded,
        "seconds": round(seconds, 3),
        "per_second": round(graded / seconds, 2) if seconds and graded else None,
        "backend": "dask" if request.dask_scheduler else f"local ({request.jobs} jobs)",
    }
    return summary


def _run_info(request: Request) -> dict[str, Any]:
    """What report.html's header says about this run (never the class secret)."""
    if request.dask_scheduler:
        sandbox = "dask workers" if request.sandbox else "dask workers, no sandbox"
    else:
        sandbox = "bubblewrap" if request.sandbox else "rlimits (--no-sandbox)"
    return {
        "version": __version__,
        "sandbox": sandbox,
        "started": gradebook.now(),
        "backend": "dask" if request.dask_scheduler else f"local ({request.jobs} jobs)",
    }


def write_report(conn: Any, out: Path, course: Course) -> str | None:
    """Write report.html; None when Jinja2 (the instructor extra) is not installed."""
    from grader.classgrade import html_report

    try:
        return str(html_report.write(conn, out, course))
    except InputError:
        return None


def _attempt(backend: Backend, chunks: list[Chunk], deliver: Callable) -> list[tuple]:
    """Run ``chunks``; returns the (chunk, index, message) of every grader error."""
    errors: list[tuple[Chunk, int, str]] = []

    def checked(chunk: Chunk, index: int, result: dict[str, Any]) -> None:
        problem = gradebook.unscorable(result)
        if not problem and result["exercise"] != chunk.exercise:
            problem = f"a result for {result['exercise']} instead of {chunk.exercise}"
        if problem:
            errors.append((chunk, index, problem))
        else:
            deliver(chunk, index, result)

    if chunks:
        backend(chunks, checked, lambda chunk, index, msg: errors.append((chunk, index, msg)))
    return errors
