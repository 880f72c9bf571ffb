"""The pytest plugin that turns check outcomes into :class:`CheckResult` objects.

It is passed to ``pytest.main(args, plugins=[plugin])`` for one exercise and
never registered globally. It provides the ``learner``, ``reference`` and
``rng`` fixtures and reads each test's outcome in ``pytest_runtest_makereport``,
mapping our exception types to statuses, messages and targeted hints.
"""

from __future__ import annotations

import inspect
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from grader.core.untrusted import clip
from grader.course.info import Exercise
from grader.grading.expect import MISSING, CheckFailed, describe
from grader.grading.learner import Learner
from grader.grading.practice import NotInPractice
from grader.grading.results import FAILED, PASSED, UNAVAILABLE, CheckResult, ExerciseResult
from grader.sandbox.errors import LearnerError, LearnerRaised, LoadFailed, SandboxError

NOT_IMPLEMENTED = "not implemented yet: {fn} still raises NotImplementedError"


@dataclass
class Job:
    """One learner file to grade in this session, its seed, and where its results go.

    ``finished`` is set once every check has run for it; a job the session never finished
    is a grader error, never a score (see grading.grade_many).
    """

    learner: Learner
    result: ExerciseResult
    seed: int | None = None
    finished: bool = False


class GradingPlugin:
    """Fixtures and result collection for one exercise's checks, over one or more files.

    With several jobs, ``pytest_runtestloop`` runs every collected check once per
    file, so pytest's start-up and collection are paid once per session, not per file.
    """

    def __init__(
        self,
        exercise: Exercise,
        jobs: Sequence[Job],
        reference: Any,
        seed: int,
        options: dict[str, Any] | None = None,
        on_event: Callable[[Any], None] | None = None,
        on_done: Callable[[Job], None] | None = None,
    ) -> None:
        self.exercise, self.jobs, self._reference, self.seed = exercise, jobs, reference, seed
        self._options, self._on_event, self._on_done = dict(options or {}), on_event, on_done
        self.current = jobs[0] if jobs else None
        self.grader_error: str | None = None
        self._started: dict[str, float] = {}

    @property
    def results(self) -> list[CheckResult]:
        return self.current.result.checks

    @property
    def _learner(self) -> Learner:
        return self.current.learner

    # Session-scoped so that module-scoped fixtures of a check module can use them; every
    # file's pass ends with a full teardown, so nothing is shared between two learners.
    @pytest.fixture(scope="session")
    def learner(self) -> Learner:
        return self._fixtures()["learner"]("")

    @pytest.fixture(scope="session")
    def reference(self) -> Any:
        """The reference solution, or where it is not installed the practice pool's answers."""
        return self._fixtures()["reference"]("")

    @pytest.fixture(scope="session")
    def options(self) -> dict[str, Any]:
        """Grading options from the command line (for example ``quick`` for 04)."""
        return self._fixtures()["options"]("")

    @pytest.fixture(scope="session")
    def on_event(self) -> Callable[[Any], None] | None:
        """Where progress events from long learner calls go (a progress bar, or nowhere)."""
        return self._fixtures()["on_event"]("")

    @pytest.fixture(scope="session")
    def exercise_grading(self) -> dict[str, Any]:
        """The exercise's ``[exercise.grading]`` settings from info.toml."""
        return self._fixtures()["exercise_grading"]("")

    @pytest.fixture(scope="session")
    def artifacts(self) -> dict[str, Any]:
        """Plain data a check leaves for the report (learning curves, examples)."""
        return self._fixtures()["artifacts"]("")

    @property
    def _seed(self) -> int:
        seed = self.current.seed if self.current else None
        return self.seed if seed is None else seed

    @pytest.fixture
    def rng(self, request: pytest.FixtureRequest) -> np.random.Generator:
        return self._fixtures()["rng"](request.node.name)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.grader_error = f"the checks for {self.exercise.id} did not load"

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        direct = all(self._direct(item) for item in session.items)
        for job in self.jobs:
            self.current = job
            started = time.perf_counter()
            if not self.grader_error and not job.result.load_error:
                for index, item in enumerate(session.items):
                    if direct:
                        self._run_direct(item)
                        continue
                    following = session.items[index + 1] if index + 1 < len(session.items) else None
                    item.config.hook.pytest_runtest_protocol(item=item, nextitem=following)
            job.result.duration += time.perf_counter() - started
            job.result.grader_error = job.result.grader_error or self.grader_error
            job.finished = True
            if self._on_done:
                self._on_done(job)
        return True

    def _fixtures(self) -> dict[str, Callable[[str], Any]]:
        """This plugin's fixtures as functions of the check's name (the pytest fixtures
        above and the direct calls below both answer from here)."""
        return {
            "learner": lambda _: self._learner,
            "reference": lambda _: self._reference,
            "options": lambda _: self._options,
            "on_event": lambda _: self._on_event,
            "exercise_grading": lambda _: self.exercise.grading,
            "artifacts": lambda _: self.current.result.artifacts,
            "rng": self._rng,
        }

    def _direct(self, item: pytest.Item) -> bool:
        """Whether ``item`` is a plain check function that needs only this plugin's fixtures.

        Such checks (every check of the numpy exercises) are called directly, without
        pytest's per-test protocol, which costs more than most checks themselves; anything
        else (module fixtures, marks, parameters) runs through pytest as usual.
        """
        if not isinstance(item, pytest.Function) or hasattr(item, "callspec"):
            return False
        wanted = set(inspect.signature(item.obj).parameters)
        return (
            not list(item.iter_markers())
            and set(item.fixturenames) - {"request"} == wanted
            and wanted <= set(self._fixtures())
        )

    def _run_direct(self, item: pytest.Function) -> None:
        """Call one check with its fixtures and record its result, as the protocol would."""
        self._started[item.nodeid] = time.perf_counter()
        self._learner.forget_last_call()
        if self.grader_error or self.current.result.grader_error:
            return  # as pytest_runtest_setup skips it: no result
        provide = self._fixtures()
        kwargs = {name: provide[name](item.name) for name in item.fixturenames if name != "request"}
        call = pytest.CallInfo.from_call(
            lambda: item.obj(**kwargs), when="call", reraise=(KeyboardInterrupt,)
        )
        result = self._result(item, call)
        result.duration = time.perf_counter() - self._started[item.nodeid]
        self.results.append(result)

    def _rng(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self._seed, zlib.crc32(name.encode())])

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self._started[item.nodeid] = time.perf_counter()
        self._learner.forget_last_call()
        if self.grader_error or self.current.result.grader_error:
            pytest.skip("grader error")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        report = yield
        if call.when == "call" or (call.when == "setup" and call.excinfo and not report.skipped):
            result = self._result(item, call)
            result.duration = time.perf_counter() - self._started.get(item.nodeid, 0.0)
            if result is not None:
                self.results.append(result)
        return report

    def _result(self, item: pytest.Item, call: pytest.CallInfo) -> CheckResult:
        name = item.name.removeprefix("test_")
        doc = (getattr(item, "function", None).__doc__ or "").strip()
        points = self.exercise.points.get(name, 1)
        result = CheckResult(name, doc.splitlines()[0] if doc else name, PASSED, points, points)
        if call.excinfo is None:
            return result
        result.points = 0
        result.call = self._learner.last_call or None
        exc = call.excinfo.value
        if isinstance(exc, CheckFailed):
            self._failed(result, exc)
        elif isinstance(exc, LearnerError):
            self._learner_error(result, exc)
        elif isinstance(exc, NotInPractice):
            result.status, result.message, result.call = UNAVAILABLE, str(exc), None
        elif isinstance(exc, SandboxError):  # this file's grading failed, not its checks
            self.current.result.grader_error = str(exc)
            result.status, result.message = "error", f"grader error: {exc}"
        else:
            result.status = FAILED
            result.message = clip(f"your result could not be checked ({type(exc).__name__}: {exc})")
        return result

    def _failed(self, result: CheckResult, exc: CheckFailed) -> None:
        result.status, result.message = FAILED, exc.message
        result.call = exc.call or result.call
        if exc.expected is not MISSING:
            result.expected = describe(exc.expected)
        if exc.got is not MISSING:
            result.got = describe(exc.got)
        if exc.mistake:
            mistake = self.exercise.mistakes.get(exc.mistake)
            result.mistake = exc.mistake
            result.hint = mistake.hint if mistake else None
            result.glossary = mistake.glossary if mistake else None
        result.output = self._learner.last_output

    def _learner_error(self, result: CheckResult, exc: LearnerError) -> None:
        result.status, result.output = exc.status, exc.output
        if isinstance(exc, LearnerRaised) and exc.status == "not_implemented":
            fn = (result.call or "it").split("(")[0]
            result.message = NOT_IMPLEMENTED.format(fn=fn)
        elif isinstance(exc, LearnerRaised):
            where = f" (line {exc.line} of your file)" if exc.line else ""
            result.message = f"your code raised {exc.message}{where}"
        elif isinstance(exc, LoadFailed):
            result.message = exc.message
            result.call = None
        else:
            result.message = exc.message
