"""Local parallel grading: N warm workers, each owning one sandbox for its whole life.

Workers are started with the "spawn" context (the parent is never forked once it has
threads). Each pulls chunks — one exercise and a batch of students — from the parent over
its own pipe, grades a chunk with :func:`grader.grading.engine.grade_many` and sends every result
back as a plain dict the moment it is known. Only the parent writes the gradebook.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.sandbox.launch import Limits

POOL_SLOT = 2000
Deliver = Callable[["Chunk", int, dict[str, Any]], None]
Failed = Callable[["Chunk", int, str], None]


@dataclass(frozen=True)
class Chunk:
    """One exercise for a batch of students: the unit of work sent to a worker."""

    id: int
    exercise: str
    students: tuple[str, ...]
    sources: tuple[bytes, ...]
    seeds: tuple[int, ...] = ()  # each student's own; empty: the job's seed for everyone


@dataclass(frozen=True)
class Job:
    """How every chunk of a run is graded (plain data: it crosses process boundaries)."""

    seed: int
    budget: float | None
    options: dict[str, Any]
    strict: bool | None
    hide: tuple[str, ...] = ()


class Boxes:
    """The one sandbox a worker keeps warm; replaced only if an exercise needs other limits."""

    def __init__(self, job: Job, uid: int | None) -> None:
        self.job, self.uid, self.box, self.limits = job, uid, None, None

    def get(self, limits: Limits) -> Any:
        from grader.course.paths import hidden_from_sandbox
        from grader.sandbox.runner import Sandbox

        if self.box is None or self.limits != limits:
            self.close()
            hide = [*hidden_from_sandbox(), *map(Path, self.job.hide)]
            self.box = Sandbox(limits, strict=self.job.strict, uid=self.uid, hide=hide)
            self.limits = limits
        return self.box

    def close(self) -> None:
        if self.box is not None:
            self.box.close()
            self.box = None


def grade_chunk(chunk: Chunk, job: Job, boxes: Boxes, emit: Callable[[int, dict], None]) -> None:
    """Grade one chunk in this process's sandbox, emitting (index, result dict) per student."""
    from grader.course.info import load_course
    from grader.grading.engine import Submission, grade_many

    course = load_course()
    exercise = course.get(chunk.exercise)
    seeds = chunk.seeds or (None,) * len(chunk.sources)
    pairs = zip(chunk.sources, seeds, strict=True)
    subs = [Submission(source, exercise.file_name, seed) for source, seed in pairs]
    sent: set[int] = set()

    def on_result(result: Any) -> None:
        index = len(sent)
        sent.add(index)
        emit(index, result.to_dict())

    found = grade_many(
        course,
        exercise,
        subs,
        sandbox=boxes.get(exercise.sandbox_limits()),
        seed=job.seed,
        options=job.options,
        budget=job.budget,
        on_result=on_result,
    )
    for index, result in enumerate(found):
        if index not in sent:
            emit(index, result.to_dict())


def _worker(slot: int, conn: multiprocessing.connection.Connection, job: Job) -> None:
    """A pool worker: grade the chunks the parent sends until it sends None or goes away."""
    from grader.sandbox.launch import learner_uid

    # One CPU per worker: its sandbox is pinned to the same CPU (see spawn.worker_cpu), so
    # the grader and the child it calls never ping-pong between cores.
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[slot % len(cpus)]})
    boxes = Boxes(job, learner_uid(slot))
    try:
        conn.send(("ready", None, None, None))
        while True:
            try:
                chunk = conn.recv()
            except (EOFError, OSError):
                return
            if chunk is None:
                return
            try:
                grade_chunk(
                    chunk, job, boxes, lambda i, d, c=chunk.id: conn.send(("result", c, i, d))
                )
            except Exception as exc:  # the grader's failure: reported, never a learner's zero
                conn.send(("failed", chunk.id, None, f"{type(exc).__name__}: {exc}"))
            conn.send(("ready", chunk.id, None, None))
    finally:
        boxes.close()


@dataclass
class _Worker:
    slot: int
    proc: Any
    conn: multiprocessing.connection.Connection
    chunk: Chunk | None = None
    reported: set[int] = field(default_factory=set)


def run_local(
    chunks: Sequence[Chunk], job: Job, jobs: int, deliver: Deliver, failed: Failed
) -> None:
    """Grade ``chunks`` on ``jobs`` local workers; results stream into ``deliver``.

    Students whose chunk failed (the sandbox would not start, the worker died) go to
    ``failed`` instead; the caller retries them.
    """
    ctx = multiprocessing.get_context("spawn")
    pending = deque(chunks)
    workers: dict[Any, _Worker] = {}
    restarts = jobs

    def start(slot: int) -> None:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(POOL_SLOT + slot, child, job), daemon=True)
        proc.start()
        child.close()
        worker = _Worker(slot, proc, parent)
        workers[parent] = workers[proc.sentinel] = worker

    def forget(worker: _Worker, why: str | None) -> None:
        workers.pop(worker.conn, None)
        workers.pop(worker.proc.sentinel, None)
        if worker.chunk is not None and why:
            for index in range(len(worker.chunk.students)):
                if index not in worker.reported:
                    failed(worker.chunk, index, why)
        worker.conn.close()
        worker.proc.join(5)

    def handle(worker: _Worker, message: tuple) -> None:
        kind, _chunk_id, index, payload = message
        if kind == "result":
            worker.reported.add(index)
            deliver(worker.chunk, index, payload)
        elif kind == "failed":
            for i in range(len(worker.chunk.students)):
                if i not in worker.reported:
                    worker.reported.add(i)
                    failed(worker.chunk, i, payload)
        elif kind == "ready":
            worker.chunk, worker.reported = (pending.popleft() if pending else None), set()
            worker.conn.send(worker.chunk)

    for slot in range(min(jobs, len(chunks))):
        start(slot)
    try:
        while workers:
            for ready in multiprocessing.connection.wait(list(workers)):
                worker = workers.get(ready)
                if worker is None:
                    continue
                try:
                    while worker.conn.poll():
                        handle(worker, worker.conn.recv())
                except (EOFError, OSError):
                    pass
                if worker.chunk is None and not worker.proc.is_alive():
                    forget(worker, None)
                elif not worker.proc.is_alive():
                    forget(worker, f"grading worker {worker.slot} died")
                    if pending and restarts:
                        restarts -= 1
                        start(worker.slot)
                elif worker.chunk is None and ready is worker.conn and not pending:
                    forget(worker, None)
        for chunk in pending:
            for index in range(len(chunk.students)):
                failed(chunk, index, "every grading worker died")
    finally:
        for worker in {id(w): w for w in workers.values()}.values():
            worker.proc.kill()
            worker.proc.join()
