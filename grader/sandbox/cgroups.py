"""A cgroup per learner child: memory and processes limited for the whole student.

``RLIMIT_AS`` bounds one process; a learner who forks keeps several times the limit in
total. A cgroup bounds the child and everything it forks together, and lets the trusted
side kill all of it at the end. The grader (as root) makes one folder per worker and one
per child under its own cgroup, owned by root and not writable by the learner uid, sets
the limits there and removes them when the child is gone. The child joins its cgroup
itself, while still root, before it drops its uid (:func:`join`).

cgroup v2 is used where ``memory`` and ``pids`` are delegated to the grader's own cgroup
(``memory.max``, ``pids.max``, ``cgroup.kill``), else cgroup v1's ``memory`` and ``pids``
hierarchies (``memory.limit_in_bytes`` and ``memory.memsw.limit_in_bytes``, ``pids.max``;
killed with the ``freezer`` when it is there). Where neither is writable, :func:`place`
is None and the report header says so (:mod:`grader.sandbox.modes`).

Standard library only: the worker imports this as a sibling module, like ``procs``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

INSIDE = "/run/dlgrade-cgroup"  # where a bubblewrap worker sees its cgroup folders
FOLDER = "dlgrade"
V1 = ("memory", "pids", "freezer")


@dataclass(frozen=True)
class Place:
    """Where this process may make cgroups: one folder per hierarchy it uses."""

    version: int
    dirs: dict[str, Path]  # v1: controller -> our own cgroup folder; v2: {"unified": folder}

    @property
    def limits_memory(self) -> bool:
        return self.version == 2 or "memory" in self.dirs


@dataclass
class Group:
    """The cgroup folders of one worker (``worker``) or one child in it."""

    place: Place
    dirs: dict[str, Path]
    children: int = 0
    made: list[Path] = field(default_factory=list)

    def inside(self, bubblewrap: bool) -> dict[str, str]:
        """The folders as the worker sees them (bound under :data:`INSIDE` in bubblewrap)."""
        if not bubblewrap:
            return {k: str(v) for k, v in self.dirs.items()}
        return {k: f"{INSIDE}/{k}" for k in self.dirs}

    def binds(self) -> list[str]:
        """bubblewrap arguments that make the worker's folders visible to the worker."""
        args: list[str] = []
        for key, folder in self.dirs.items():
            args += ["--bind", str(folder), f"{INSIDE}/{key}"]
        return args

    def child(self, memory_mb: int, processes: int) -> tuple[Group, str]:
        """A fresh cgroup for the next child, limits set; and its name under this worker's."""
        self.children += 1
        name = f"c{self.children}"
        dirs = {k: v / name for k, v in self.dirs.items()}
        group = Group(self.place, dirs)
        try:
            for folder in dirs.values():
                folder.mkdir(mode=0o755)
                group.made.append(folder)
            group._limit(memory_mb << 20, processes)
        except OSError:
            group.remove()
            raise
        return group, name

    def _limit(self, memory: int, processes: int) -> None:
        if self.place.version == 2:
            folder = self.dirs["unified"]
            _write(folder / "memory.max", memory)
            with contextlib.suppress(FileNotFoundError):
                _write(folder / "memory.swap.max", 0)
            _write(folder / "pids.max", processes)
            return
        if "memory" in self.dirs:
            folder = self.dirs["memory"]
            _write(folder / "memory.limit_in_bytes", memory)
            with contextlib.suppress(FileNotFoundError):
                _write(folder / "memory.memsw.limit_in_bytes", memory)
        if "pids" in self.dirs:
            _write(self.dirs["pids"] / "pids.max", processes)

    def breach(self, memory_mb: int, processes: int) -> str | None:
        """What limit the child's processes together ran into, if any."""
        if self.place.version == 2:
            folder = self.dirs["unified"]
            memory, pids = folder / "memory.events", folder / "pids.events"
            oom, forks = _counter(memory, "oom_kill"), _counter(pids, "max")
        else:
            oom = _counter(self.dirs.get("memory", Path("-")) / "memory.oom_control", "oom_kill")
            forks = _counter(self.dirs.get("pids", Path("-")) / "pids.events", "max")
        if oom:
            return f"your processes together went over the memory limit of {memory_mb} MB"
        if forks:
            return f"your code tried to run more than {processes} processes at once"
        return None

    def pids(self) -> list[int]:
        found: set[int] = set()
        for folder in self.dirs.values():
            with contextlib.suppress(OSError):
                found |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
        return sorted(found)

    def kill(self, patience: float = 5.0) -> bool:
        """Kill every process in this cgroup (forks and ``setsid()`` daemons included);
        True once none is left."""
        deadline = time.monotonic() + patience
        if self.place.version == 2:
            with contextlib.suppress(OSError):
                _write(self.dirs["unified"] / "cgroup.kill", 1)
        freezer = self.dirs.get("freezer")
        while True:
            pids = self.pids()
            if not pids:
                return True
            if time.monotonic() > deadline:
                return False
            if freezer is not None:  # a frozen cgroup cannot fork while it is being killed
                with contextlib.suppress(OSError):
                    _write(freezer / "freezer.state", "FROZEN")
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if freezer is not None:
                with contextlib.suppress(OSError):
                    _write(freezer / "freezer.state", "THAWED")
            time.sleep(0.002)

    def remove(self) -> bool:
        """Kill what is left, then remove the folders (children first); never raises."""
        gone = self.kill()
        for key, folder in self.dirs.items():
            for sub in sorted(_subfolders(folder), key=lambda p: -len(p.parts)):
                Group(self.place, {key: sub}).kill()
                with contextlib.suppress(OSError):
                    sub.rmdir()
            with contextlib.suppress(OSError):
                folder.rmdir()
        return gone and not any(f.exists() for f in self.dirs.values())


def _subfolders(folder: Path) -> list[Path]:
    found: list[Path] = []
    with contextlib.suppress(OSError):
        for root, dirs, _ in os.walk(folder):
            found += [Path(root) / d for d in dirs]
    return found


def _write(path: Path, value: object) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.write(fd, str(value).encode())
    finally:
        os.close(fd)


def _counter(path: Path, name: str) -> int:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        key, _, value = line.partition(" ")
        if key == name and value.strip().isdigit():
            return int(value)
    return 0


def _mounts() -> tuple[dict[str, tuple[Path, str]], Path | None]:
    """cgroup v1 hierarchies (controller -> (mount point, root)) and the v2 mount point."""
    v1: dict[str, tuple[Path, str]] = {}
    v2 = None
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return v1, v2
    for line in lines:
        fields = line.split()
        if " - " not in line:
            continue
        after = line.split(" - ", 1)[1].split()
        fstype, options = after[0], after[2].split(",") if len(after) > 2 else []
        if fstype == "cgroup2" and v2 is None:
            v2 = Path(fields[4])
        elif fstype == "cgroup":
            for name in V1:
                if name in options and name not in v1:
                    v1[name] = (Path(fields[4]), fields[3])
    return v1, v2


def _own() -> dict[str, str]:
    """This process's cgroup path per v1 controller, and under "" for v2."""
    own: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                own[name] = path
    return own


def _below(mount: Path, root: str, path: str) -> Path | None:
    if not (path + "/").startswith(root.rstrip("/") + "/"):
        return None
    return mount / path[len(root.rstrip("/")) :].lstrip("/")


def _writable(folder: Path) -> bool:
    probe = folder / f"{FOLDER}-probe-{os.getpid()}"
    try:
        probe.mkdir()
    except OSError:
        return False
    with contextlib.suppress(OSError):
        probe.rmdir()
    return True


_place: list[Place | None] = []


def place() -> Place | None:
    """Where cgroups can be made here, or None (not root, or nothing delegated); cached."""
    if _place:
        return _place[0]
    found = None
    if os.geteuid() == 0:
        found = _v2() or _v1()
    _place.append(found)
    return found


def _v2() -> Place | None:
    _, mount = _mounts()
    own = _own().get("")
    if mount is None or own is None:
        return None
    base = _below(mount, "/", own)
    if base is None:
        return None
    try:
        enabled = set((base / "cgroup.subtree_control").read_text().split())
    except OSError:
        return None
    if not {"memory", "pids"} <= enabled or not (base / "cgroup.kill").exists():
        return None
    return Place(2, {"unified": base}) if _writable(base) else None


def _v1() -> Place | None:
    mounts, own = _mounts()[0], _own()
    dirs: dict[str, Path] = {}
    for name, (mount, root) in mounts.items():
        folder = _below(mount, root, own.get(name, "/"))
        if folder is not None and folder.is_dir() and _writable(folder):
            dirs[name] = folder
    if "memory" not in dirs:
        return None
    return Place(1, dirs)


def for_worker(name: str) -> Group | None:
    """Folders for one worker under ``dlgrade/`` in this process's cgroup, or None."""
    where = place()
    if where is None:
        return None
    dirs = {k: v / FOLDER / name for k, v in where.dirs.items()}
    group = Group(where, dirs)
    try:
        for folder in dirs.values():
            folder.parent.mkdir(mode=0o755, exist_ok=True)
            if where.version == 2:
                _enable(folder.parent)
            folder.mkdir(mode=0o755)
            group.made.append(folder)
            if where.version == 2:
                _enable(folder)
    except OSError:
        group.remove()
        return None
    return group


def _enable(folder: Path) -> None:
    enabled = set((folder / "cgroup.subtree_control").read_text().split())
    if not {"memory", "pids"} <= enabled:
        _write(folder / "cgroup.subtree_control", "+memory +pids")


def remove_stale(name: str) -> None:
    """Remove a gone worker's folders (its work directory is stale): never raises."""
    where = place()
    if where is not None:
        Group(where, {k: v / FOLDER / name for k, v in where.dirs.items()}).remove()


def join(dirs: dict[str, str] | None) -> None:
    """Move the calling process into the child cgroup ``dirs`` (the worker's child, as root)."""
    for folder in (dirs or {}).values():
        with open(os.path.join(folder, "cgroup.procs"), "w", encoding="ascii") as handle:
            handle.write(str(os.getpid()))
