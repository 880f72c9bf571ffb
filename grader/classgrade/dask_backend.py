"""Grading on an existing Dask distributed cluster (``--dask-scheduler tcp://HOST:PORT``).

Each chunk (one exercise × a batch of students, sources included) is one task. A Dask
worker grades it in its own local sandbox — one cached per worker process, with a uid slot
from the worker's name — and returns plain result dicts, which stream back through
``as_completed`` into the same gradebook as local results. Workers need dlgrade (and
bubblewrap, unless --no-sandbox) installed. Dask is imported only here (the ``instructor``
extra).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

from grader.classgrade.pool import Boxes, Chunk, Deliver, Failed, Job, grade_chunk
from grader.core.errors import GraderError

DASK_SLOT = 2500
NOT_INSTALLED = "--dask-scheduler needs Dask: pip install 'dlgrade[instructor]' (dask[distributed])"
_boxes: Boxes | None = None
_lock = threading.Lock()


def _slot() -> int:
    """A uid slot for this worker process: from the worker's name when it is a number."""
    from distributed import get_worker

    name = str(get_worker().name)
    return DASK_SLOT + (int(name) % 400 if name.isdigit() else 400 + os.getpid() % 99)


def grade_on_worker(chunk: Chunk, job: Job) -> list[tuple[int, dict[str, Any]]]:
    """Runs on a Dask worker: grade one chunk in this process's cached sandbox."""
    global _boxes
    from grader.sandbox.launch import learner_uid

    with _lock:
        if _boxes is None or _boxes.job.strict != job.strict:
            if _boxes is not None:
                _boxes.close()
            _boxes = Boxes(job, learner_uid(_slot()))
        _boxes.job = job
        found: list[tuple[int, dict[str, Any]]] = []
        grade_chunk(chunk, job, _boxes, lambda index, result: found.append((index, result)))
        return found


def run_dask(
    address: str, chunks: Sequence[Chunk], job: Job, deliver: Deliver, failed: Failed
) -> None:
    """Send every chunk to the cluster at ``address``; deliver results as chunks finish."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise GraderError(NOT_INSTALLED) from None
    try:
        client = Client(address, timeout=30)
    except (OSError, TimeoutError) as exc:
        raise GraderError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    with client:
        futures = {
            client.submit(grade_on_worker, chunk, job, pure=False, retries=0): chunk
            for chunk in chunks
        }
        for future in as_completed(futures):
            chunk = futures[future]
            try:
                found = future.result()
            except Exception as exc:  # a worker lost or a grader bug: not a learner's zero
                for index in range(len(chunk.students)):
                    failed(chunk, index, f"Dask task failed: {type(exc).__name__}: {exc}")
                continue
            reported = set()
            for index, result in found:
                reported.add(index)
                deliver(chunk, index, result)
            for index in set(range(len(chunk.students))) - reported:
                failed(chunk, index, "the Dask worker returned no result")
