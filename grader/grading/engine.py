"""Grade one learner file against one exercise's checks.

The checks run here, in the trusted process, under pytest; every call into the
learner's code crosses the sandbox boundary. The reference solution is loaded
here too (or, where it is not installed, the practice pool: :mod:`grader.grading.practice`);
it never enters the sandbox, and neither do the expected values.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from grader.course.info import Course, Exercise
from grader.course.paths import CHECKS_DIR, PACKAGE_DIR, hidden_from_sandbox
from grader.grading import practice
from grader.grading.learner import Learner
from grader.grading.plugin import GradingPlugin, Job
from grader.grading.results import CheckResult, ExerciseResult
from grader.grading.sources import read_learner_file, source_problem
from grader.sandbox import procs
from grader.sandbox.errors import SandboxError
from grader.sandbox.runner import Sandbox

# Our own plugin object does the reporting; pytest's output capture, logging, tmpdir and the
# like only cost start-up time here (about half of a session's overhead).
UNUSED_PLUGINS = (
    "cacheprovider",
    "terminal",
    "capture",
    "logging",
    "faulthandler",
    "doctest",
    "junitxml",
    "pastebin",
    "stepwise",
    "unraisableexception",
    "threadexception",
    "legacypath",
    "tmpdir",
    "monkeypatch",
    "setuponly",
    "setupplan",
)
PYTEST_ARGS = [
    *(arg for name in UNUSED_PLUGINS for arg in ("-p", f"no:{name}")),
    "--assert=plain",
    "--import-mode=importlib",
    "-o",
    "python_files=check_*.py",
    "-o",
    "addopts=",
    "-o",
    "testpaths=",
    "--rootdir",
    str(CHECKS_DIR),
    "--confcutdir",
    str(CHECKS_DIR),
    "-c",
    str(CHECKS_DIR / "pytest.ini"),
]


def load_reference(course: Course, exercise: Exercise) -> ModuleType:
    """The reference solution, loaded by path in the trusted process."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    procs.import_quietly(exercise.limits.imports)
    path = course.solution_path(exercise)
    spec = importlib.util.spec_from_file_location(f"dlgrade_reference_{exercise.id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def _pytest_environment() -> Iterator[None]:
    """Keep the learner's pytest configuration and plugins out of the grader's run."""
    names = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    saved = {k: os.environ.pop(k) for k in names if k in os.environ}
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        os.environ.update(saved)


def _failed_everywhere(exercise: Exercise, result: ExerciseResult, message: str) -> None:
    result.load_error = message
    result.checks = [
        CheckResult(name, name.replace("_", " "), "error", 0, points, message)
        for name, points in exercise.points.items()
    ]


class _PlainFailures:
    """Skip pytest's rendering of each failed check's traceback (it parses source: ~80 ms each).

    The verdict and the feedback come from the exception itself (see plugin.py); pytest's
    rendered traceback is never shown, so a one-line summary is enough.
    """

    @staticmethod
    def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
        for item in items:
            item.repr_failure = lambda excinfo: excinfo.exconly()


def driver_source(exercise: Exercise) -> str | None:
    """The trusted driver that runs next to the learner's module, if the exercise has one.

    A driver (for example grader/mnist/driver.py) calls the learner's functions in the
    child and returns plain data; it is sent as source, so the sandbox never sees the
    grader's files.
    """
    name = exercise.grading.get("driver")
    return (PACKAGE_DIR / f"{name}.py").read_text(encoding="utf-8") if name else None


UNFINISHED = "the grading run ended before this file's checks had run ({why})"
NO_CHECKS = "no check ran for this file"


@dataclass(frozen=True)
class Submission:
    """One learner file's bytes, how to name it in feedback, and its own seed if it has one."""

    source: bytes
    shown: str
    seed: int | None = None
    cells: Any = None  # a notebook's grader.grading.notebooks.CellMap: feedback names cells


def grade_many(
    course: Course,
    exercise: Exercise,
    submissions: Sequence[Submission],
    *,
    sandbox: Sandbox,
    seed: int,
    options: dict | None = None,
    budget: float | None = None,
    on_event: Callable[[Any], None] | None = None,
    on_result: Callable[[ExerciseResult], None] | None = None,
    reference: Any = None,
) -> list[ExerciseResult]:
    """Grade several files against one exercise in a single pytest session and sandbox.

    ``budget`` caps the wall-clock time each file's calls may take in all (default: the
    exercise's ``time_budget``);
    ``on_result`` is called as soon as each file's result is known; ``reference``
    replaces the reference solution or practice pool (the pool's recorder uses it).
    """
    if reference is None:
        reference = practice.reference_for(course, exercise, seed)
    if budget is None:
        budget = sandbox.limits.time_budget
    jobs = []
    cells_of: dict[int, Any] = {}
    driver = driver_source(exercise)
    for sub in submissions:
        own_seed = seed if sub.seed is None else sub.seed
        result = ExerciseResult(
            exercise.id,
            exercise.title,
            sub.shown,
            seed=own_seed,
            isolation=sandbox.isolation,
            cases=practice.cases_of(reference),
        )
        problem = source_problem(sub.source)
        if problem:
            _failed_everywhere(exercise, result, f"{sub.shown}:{problem[0]}: {problem[1]}")
            text = ""
        else:
            text = sub.source.decode("utf-8")
        learner = Learner(
            sandbox, text, sub.shown, exercise.file_name, budget=budget, driver=driver
        )
        jobs.append(Job(learner, result, own_seed))
        if sub.cells is not None:
            cells_of[id(result)] = sub.cells

    def finish(job: Job) -> None:
        try:
            sandbox.unload()
        except Exception as exc:  # cleanup failed: this file's checks have all run
            _close_quietly(sandbox, exc)
        if not job.result.checks and not job.result.grader_error:
            job.result.grader_error = NO_CHECKS
        job.result.isolation = sandbox.isolation
        job.result.isolation_note = sandbox.fallback_reason
        job.result.mode, job.result.unenforced = sandbox.mode, sandbox.unenforced
        error = job.learner.load_error
        if error and all(c.status == "error" for c in job.result.checks):
            job.result.load_error = error.message
        if id(job.result) in cells_of:
            cells_of[id(job.result)].relabel_result(job.result)
        if on_result:
            on_result(job.result)

    plugin = GradingPlugin(exercise, jobs, reference, seed, options, on_event, finish)
    try:
        with _pytest_environment():
            code = pytest.main(
                [str(exercise.check_module), *PYTEST_ARGS], plugins=[plugin, _PlainFailures()]
            )
        why = f"pytest exit status {int(code)}"
    except SandboxError as exc:
        why = str(exc)
    for job in jobs:
        if not job.finished:
            job.result.grader_error = job.result.grader_error or UNFINISHED.format(why=why)
        elif not job.result.checks:
            job.result.grader_error = job.result.grader_error or NO_CHECKS
    return [job.result for job in jobs]


def _close_quietly(sandbox: Sandbox, exc: Exception) -> None:
    """Drop a sandbox whose cleanup failed; the next file starts a fresh one."""
    import logging

    logging.getLogger("dlgrade").warning("sandbox cleanup failed: %s: %s", type(exc).__name__, exc)
    with contextlib.suppress(Exception):
        sandbox.close()
    sandbox.proc, sandbox.loaded = None, False


def grade(
    course: Course,
    exercise: Exercise,
    path: Path,
    *,
    seed: int | None = None,
    sandbox: Sandbox | None = None,
    strict: bool | None = None,
    display_name: str | None = None,
    options: dict | None = None,
    budget: float | None = None,
    on_event: Callable[[Any], None] | None = None,
) -> ExerciseResult:
    """Run ``exercise``'s checks against the learner file at ``path``."""
    seed = seed if seed is not None else practice.draw_seed(course, exercise)
    shown = display_name or str(path)
    found = read_learner_file(path, shown, exercise.id)
    submission = Submission(found.source, shown, cells=found.cells)
    own = sandbox is None
    hide = hidden_from_sandbox()
    box = sandbox or Sandbox(exercise.sandbox_limits(), strict=strict, hide=hide)
    try:
        (result,) = grade_many(
            course,
            exercise,
            [submission],
            sandbox=box,
            seed=seed,
            options=options,
            budget=budget,
            on_event=on_event,
        )
    finally:
        if own:
            box.close()
    return result
