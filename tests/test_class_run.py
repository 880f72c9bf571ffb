"""The orchestration of a class run with a stand-in backend: retries, grader errors, resume."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from grader.classgrade import run
from grader.classgrade.pool import Chunk, Job, run_local
from grader.core.errors import InputError
from grader.course.info import load_course
from grader.grading.results import CheckResult, ExerciseResult

COURSE = load_course()
EXERCISE = COURSE.get("00_weighted_sum")


class FakeBackend:
    """Answers chunks from a script: per call, which students fail with a grader error."""

    def __init__(self, failing: list[set[str]]) -> None:
        self.failing, self.calls = failing, []

    def __call__(self, chunks, job, jobs, deliver, failed) -> None:
        broken = self.failing[len(self.calls)] if len(self.calls) < len(self.failing) else set()
        self.calls.append([s for c in chunks for s in c.students])
        for chunk in chunks:
            for index, student in enumerate(chunk.students):
                if student in broken:
                    failed(chunk, index, "the sandbox did not start")
                else:
                    result = ExerciseResult(EXERCISE.id, EXERCISE.title, "x.py", seed=job.seed)
                    result.checks = [CheckResult("a_check", "A check", "passed", 2, 2)]
                    deliver(chunk, index, result.to_dict())


@pytest.fixture
def submissions(tmp_path):
    for name in ("ann", "ben"):
        (tmp_path / "class" / name).mkdir(parents=True)
        (tmp_path / "class" / name / EXERCISE.file_name).write_text("x = 1\n")
    return tmp_path / "class"


def request(tmp_path, submissions, **changes) -> run.Request:
    fields = dict(
        submissions=submissions,
        out=tmp_path / "out",
        exercises=("00",),
        jobs=2,
        sandbox=False,
        quiet=True,
        seed=9,
    )
    return run.Request(**{**fields, **changes})


def test_grader_errors_are_retried_once_then_recorded_and_resumed(
    tmp_path, submissions, monkeypatch
):
    backend = FakeBackend([{"ann", "ben"}, {"ben"}])
    monkeypatch.setattr(run, "run_local", backend)
    summary = run.grade_class(request(tmp_path, submissions))
    assert backend.calls == [["ann", "ben"], ["ann", "ben"]]
    assert [e["student"] for e in summary.grader_errors] == ["ben"]
    assert (tmp_path / "out" / "grades.csv").read_text().splitlines()[1:] == ["ann,2,2", "ben,,"]
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["students"][1]["exercises"]["00_weighted_sum"]["status"] == "grader_error"

    backend = FakeBackend([])
    monkeypatch.setattr(run, "run_local", backend)
    summary = run.grade_class(request(tmp_path, submissions, resume=True, seed=None))
    assert backend.calls == [["ben"]] and summary.grader_errors == []
    assert (tmp_path / "out" / "grades.csv").read_text().splitlines()[1:] == ["ann,2,2", "ben,2,2"]


def test_resume_needs_a_gradebook_and_a_fresh_run_refuses_one(tmp_path, submissions, monkeypatch):
    monkeypatch.setattr(run, "run_local", FakeBackend([]))
    with pytest.raises(InputError, match="no gradebook"):
        run.grade_class(request(tmp_path, submissions, resume=True))
    run.grade_class(request(tmp_path, submissions))
    with pytest.raises(InputError, match="--resume"):
        run.grade_class(request(tmp_path, submissions))
    with pytest.raises(InputError, match="seed"):
        run.grade_class(request(tmp_path, submissions, resume=True, seed=10))
    with pytest.raises(InputError, match="inside"):
        run.grade_class(request(tmp_path, submissions, out=submissions / "grades"))


def test_default_exercises_leave_out_tensorflow():
    chosen = run.default_exercises(COURSE)
    assert chosen and all(not e.limits.imports for e in chosen)


def test_chunks_hold_one_exercise_and_shrink_towards_the_end():
    tasks = [(e, f"s{i:03d}", b"") for e in ("00", "01") for i in range(100)]
    chunks = run.chunked(tasks, jobs=2)
    assert all(isinstance(c, Chunk) and len(c.students) <= run.CHUNK_MAX for c in chunks)
    assert [s for c in chunks for s in c.students] == [s for _, s, _ in tasks]
    assert len(chunks[0].students) == run.CHUNK_MAX and len(chunks[-2].students) == run.CHUNK_MIN
    assert len({c.id for c in chunks}) == len(chunks)


def _pool_workers() -> list[int]:
    """Our own children started by multiprocessing's spawn."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and b"spawn_main" in cmdline:
            found.append(int(pid))
    return found


def test_a_pool_worker_that_dies_costs_only_a_retry_of_its_unreported_students():
    source = (COURSE.solution_path(EXERCISE)).read_bytes()
    chunks = run.chunked([(EXERCISE.id, f"s{i:02d}", source) for i in range(12)], jobs=2)
    job = Job(seed=1, budget=None, options={}, strict=False)
    delivered, failed, killed = [], [], []

    def deliver(chunk, index, result):
        delivered.append((chunk.id, index, result["score"]))
        if not killed:
            killed.append(max(_pool_workers()))
            os.kill(killed[0], signal.SIGKILL)

    run_local(
        chunks, job, 2, deliver, lambda chunk, index, why: failed.append((chunk.id, index, why))
    )
    everyone = {(c.id, i) for c in chunks for i in range(len(c.students))}
    assert {(c, i) for c, i, _ in delivered} | {(c, i) for c, i, _ in failed} == everyone
    assert all(score == 26 for *_, score in delivered)
    assert failed and all("died" in why for *_, why in failed)
