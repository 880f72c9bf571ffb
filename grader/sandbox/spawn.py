"""Starting sandbox workers: early, on the right CPU, and cleaning up after killed ones.

Kept apart from :mod:`grader.sandbox.launch` (what a worker is allowed) because this is
about processes (when and where a worker runs).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox import cgroups, procs
from grader.sandbox.errors import SandboxError
from grader.sandbox.launch import (
    INSIDE_CODE,
    INSIDE_WORK,
    SANDBOX_CODE,
    Limits,
    bubblewrap,
    bwrap_command,
    clean_env,
    worker_argv,
)

WORKDIR_PREFIX = "dlgrade-work-"
LOCK_SUFFIX = ".lock"
log = logging.getLogger("dlgrade")


@dataclass
class Spawned:
    """A worker process just started: not yet known to be ready."""

    proc: subprocess.Popen
    control_fd: int
    workdir: Path
    key: tuple
    cgroups: cgroups.Group | None = None  # the worker's, as root where cgroups are writable


def worker_cpu(limits: Limits) -> int | None:
    """The CPU to run a single-threaded exercise's worker on, or None to let it roam.

    Learner calls are a ping-pong between the grader and the child; on these machines a
    pipe round trip between two CPUs costs about four times one on the same CPU. Exercises
    that import TensorFlow want every core, so they are never pinned.
    """
    if limits.imports or not shutil.which("taskset"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    return cpus[os.getpid() % len(cpus)] if cpus else None


def _key(limits: Limits, bwrap: str | None, hide: Iterable[Path], cpu: int | None) -> tuple:
    """What fixes a worker at start: a worker can serve any exercise with the same key."""
    return (
        limits.preload,
        limits.max_frame_mb,
        limits.tmp_mb,
        limits.disk_mb,
        bwrap,
        tuple(sorted(str(p) for p in hide)),
        cpu,
    )


def spawn(limits: Limits, bwrap: str | None, hide: Iterable[Path]) -> Spawned:
    """Start the worker process (under bubblewrap when ``bwrap`` is given), on
    :func:`worker_cpu`'s choice of CPU."""
    hide = list(hide)
    cpu = worker_cpu(limits)
    key = _key(limits, bwrap, hide, cpu)
    early = _take_early(key)
    if early:
        return early
    _remove_stale_workdirs()
    workdir = _new_workdir()
    groups = _groups[workdir] = cgroups.for_worker(workdir.name)
    try:
        binds = groups.binds() if groups else []
        command = bwrap_command(bwrap, workdir, limits, hide, binds) if bwrap else []
    except SandboxError:
        release(workdir)
        raise
    control_r, control_w = os.pipe()
    fds = (control_w,)
    if bwrap:
        argv = command + worker_argv(INSIDE_CODE, INSIDE_WORK, limits, fds, pidns=True)
        env, cwd = {}, None
    else:
        argv = worker_argv(str(SANDBOX_CODE), str(workdir), limits, fds, pidns=False)
        env, cwd = clean_env(str(workdir)), workdir
    if cpu is not None:
        argv = [shutil.which("taskset"), "-c", str(cpu), *argv]
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=fds,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    except OSError:
        os.close(control_r)
        release(workdir)
        raise
    finally:
        os.close(control_w)
    return Spawned(proc, control_r, workdir, key, groups)


_locks: dict[Path, int] = {}
_groups: dict[Path, cgroups.Group | None] = {}


def _new_workdir() -> Path:
    """A fresh work directory, with a lock file beside it held for as long as it is in use.

    A work directory whose lock can be taken belongs to a grader that is gone: that, and
    not a process id, is what makes it stale (pids are reused, and not every system has
    ``/proc``).
    """
    workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-"))
    os.chmod(workdir, 0o700)
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(_lock_path(workdir), flags, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    _locks[workdir] = fd
    return workdir


def _lock_path(workdir: Path) -> Path:
    return workdir.with_name(workdir.name + LOCK_SUFFIX)


def release(workdir: Path) -> None:
    """Remove a work directory this process made (and its cgroups), then its lock; failures
    are logged."""
    groups = _groups.pop(workdir, None)
    if groups is not None and not groups.remove():
        log.warning("could not remove the cgroups of %s; a later run removes them", workdir)
    if not procs.remove_tree(workdir):
        log.warning("could not remove all of %s; it is left for a later run", workdir)
        return  # the lock goes with this process, so a later run sees it stale
    with contextlib.suppress(OSError):
        os.unlink(_lock_path(workdir))
    fd = _locks.pop(workdir, None)
    if fd is not None:
        os.close(fd)


def _remove_stale_workdirs() -> None:
    """Delete the work directories of graders that are gone (their lock is free)."""
    for lock in Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}*{LOCK_SUFFIX}"):
        try:
            fd = os.open(lock, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # in use
        try:
            workdir = lock.with_name(lock.name.removesuffix(LOCK_SUFFIX))
            cgroups.remove_stale(workdir.name)
            if procs.remove_tree(workdir):
                with contextlib.suppress(OSError):
                    os.unlink(lock)
            else:
                log.warning("could not remove all of the stale %s", workdir)
        finally:
            os.close(fd)


_early: list[Spawned] = []


def spawn_early(hide: Iterable[Path], limits: Limits | None = None) -> None:
    """Boot a worker now, while the grader is still importing its own modules.

    ``dlgrade check`` spends most of its start-up importing numpy, pytest and rich;
    the worker's own start-up (bubblewrap, Python, numpy) overlaps with that. A
    worker nobody takes is killed at exit.
    """
    try:
        _early.append(spawn(limits or Limits(), bubblewrap(), hide))
    except (OSError, SandboxError):
        return  # the grading command starts its own sandbox and reports the problem
    if len(_early) == 1:
        atexit.register(_discard_early)


def _take_early(key: tuple) -> Spawned | None:
    for spawned in _early:
        if spawned.key == key and spawned.proc.poll() is None:
            _early.remove(spawned)
            return spawned
    return None


def _discard_early() -> None:
    while _early:
        spawned = _early.pop()
        try:
            os.killpg(spawned.proc.pid, signal.SIGKILL)
        except OSError:
            spawned.proc.kill()
        spawned.proc.wait()
        os.close(spawned.control_fd)
        release(spawned.workdir)
