"""What each sandbox mode cannot enforce here, for the one line the report header shows.

A mode is the isolation (``bubblewrap`` or ``rlimits``) and whether the grader runs as root:
``bubblewrap-root``, ``bubblewrap-user``, ``rlimits-root``, ``rlimits-user``. What it
cannot enforce is worked out from what this machine really allows (a writable cgroup, the
right to unshare namespaces), not assumed; docs/security.md has the table.
"""

from __future__ import annotations

import os

from grader.sandbox import cgroups, private

MEMORY = "memory across processes"
DISK = "disk quota"
FRESH = "a fresh /tmp and IPC for each student"
NETWORK = "network"
WRITES = "writes outside the work directory"
SHARED = "writes to world-writable folders"
READS = "reading world-readable files"
YOURS = "reading your files"
LABELS = {"root": "root", "user": "ordinary user"}


def current(isolation: str) -> str:
    """The mode of a sandbox with this isolation, run by this process's user."""
    return f"{isolation}-{'root' if os.geteuid() == 0 else 'user'}"


def label(mode: str) -> str:
    """How the header names a mode: "rlimits (ordinary user)"."""
    isolation, _, who = mode.partition("-")
    return f"{isolation} ({LABELS.get(who, who)})" if who else isolation


def private_mounts(mode: str) -> bool:
    """Whether each child gets its own mounts, /tmp, IPC (and network without bubblewrap)."""
    isolation, _, who = mode.partition("-")
    # bubblewrap drops every capability of an ordinary user's sandbox: no mounts inside.
    return who == "root" and private.possible(network=isolation != "bubblewrap")


def cgroup_limits(mode: str) -> bool:
    """Whether each child gets a cgroup of its own (memory and processes together)."""
    where = cgroups.place() if mode.endswith("-root") else None
    return where is not None and where.limits_memory


def unenforced(mode: str) -> list[str]:
    """What a sandbox in ``mode`` cannot enforce on this machine, as short phrases."""
    isolation, _, who = mode.partition("-")
    bubblewrap, root = isolation == "bubblewrap", who == "root"
    fresh = private_mounts(mode)
    missing = []
    if not cgroup_limits(mode):
        missing.append(MEMORY)
    if not (bubblewrap or fresh):
        missing.append(DISK)
    if not (bubblewrap or fresh):  # bubblewrap's own /tmp, shm and queues are emptied
        missing.append(FRESH)
    if not (bubblewrap or fresh):
        missing.append(NETWORK)
    if not (bubblewrap or (root and fresh)):
        missing.append(WRITES)
    if not (bubblewrap or root):
        missing.append(YOURS)
    elif not bubblewrap:
        # The learner uid: /tmp and the like are private, any other 0777 folder is not.
        missing += [SHARED, READS]
    return missing


def line(mode: str, missing: list[str] | None = None) -> str:
    """The header line: "sandbox: rlimits (ordinary user) — cannot enforce: …"; ``missing``
    defaults to :func:`unenforced` (a result carries its own)."""
    missing = unenforced(mode) if missing is None else missing
    tail = f"cannot enforce: {', '.join(missing)}" if missing else "every limit enforced"
    return f"sandbox: {label(mode)} — {tail}"
