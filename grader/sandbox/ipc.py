"""What a learner child leaves in shared memory, found and removed once it is gone.

System V shared memory segments, semaphore sets and message queues outlive every process
that uses them, and so do POSIX shared memory objects and semaphores (files in
``/dev/shm``). Left in place, one student's segment is a channel to the next student graded
by the same worker, and memory that no longer counts against anyone's limit. The worker
takes a :func:`snapshot` before it forks a child and calls :func:`remove_left` once the
child and everything it started are dead.

What is removed: objects created by the learner's uid. When the child runs as a learner uid
of its own (root drops it to one no other run uses), that is every object of that uid; when
it runs as the grader's own user, only the objects that were not there before the child
started, so the user's other programs keep theirs. Standard library only: the worker imports
this as a sibling module, the grader as ``grader.sandbox.ipc``.
"""

from __future__ import annotations

import contextlib
import os

try:
    import procs  # inside the sandbox: a sibling module
except ImportError:
    from grader.sandbox import procs

SYSV = ("shm", "sem", "msg")
SHM_DIR = "/dev/shm"
IPC_RMID = 0

Snapshot = tuple[frozenset[tuple[str, int]], frozenset[tuple[str, int]]]


def sysv_objects() -> list[tuple[str, int, int]]:
    """(kind, id, creator uid) of every System V IPC object visible here."""
    found = []
    for kind in SYSV:
        try:
            with open(f"/proc/sysvipc/{kind}", "rb") as handle:
                lines = handle.read().decode("ascii", "replace").splitlines()
        except OSError:
            continue
        if not lines:
            continue
        names = lines[0].split()
        try:
            ident, creator = names.index(names[1]), names.index("cuid")
        except (ValueError, IndexError):
            continue
        for line in lines[1:]:
            fields = line.split()
            with contextlib.suppress(IndexError, ValueError):
                found.append((kind, int(fields[ident]), int(fields[creator])))
    return found


def shm_files() -> list[tuple[str, int, int]]:
    """(name, inode, owner uid) of every entry in ``/dev/shm``."""
    found = []
    with contextlib.suppress(OSError), os.scandir(SHM_DIR) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                info = entry.stat(follow_symlinks=False)
                found.append((entry.name, info.st_ino, info.st_uid))
    return found


def snapshot() -> Snapshot:
    """What exists before a child starts: kept by :func:`remove_left`."""
    sysv = frozenset((kind, ident) for kind, ident, _ in sysv_objects())
    files = frozenset((name, inode) for name, inode, _ in shm_files())
    return sysv, files


def remove_left(before: Snapshot, learner_uid: int | None) -> int:
    """Remove what the finished child created; returns how many objects went.

    ``learner_uid`` is the uid the child ran as when the worker dropped it to one of its
    own (then everything of that uid goes), or None when it ran as this process's user
    (then only what is not in ``before``).
    """
    owner = os.getuid() if learner_uid is None else learner_uid
    fresh = learner_uid is None
    removed = 0
    libc = None
    for kind, ident, creator in sysv_objects():
        if creator != owner or (fresh and (kind, ident) in before[0]):
            continue
        if libc is None:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
        if _remove_sysv(libc, kind, ident) == 0:
            removed += 1
    for name, inode, uid in shm_files():
        if uid != owner or (fresh and (name, inode) in before[1]):
            continue
        if procs.remove_tree(os.path.join(SHM_DIR, name)):
            removed += 1
    return removed


def _remove_sysv(libc, kind: str, ident: int) -> int:
    if kind == "shm":
        return libc.shmctl(ident, IPC_RMID, None)
    if kind == "sem":
        return libc.semctl(ident, 0, IPC_RMID)
    return libc.msgctl(ident, IPC_RMID, None)
