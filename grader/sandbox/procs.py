"""Process helpers both sides of the boundary use; standard library only.

The worker imports this as a sibling module (like ``wire``), the grader as
``grader.sandbox.procs``.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import stat
import time
from collections.abc import Iterable


def import_quietly(names: Iterable[str]) -> None:
    """Import modules (TensorFlow) with their start-up chatter on stderr silenced."""
    missing = [name for name in names if name not in __import__("sys").modules]
    if not missing:
        return
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            for name in missing:
                importlib.import_module(name)
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def left_behind(uid: int) -> bool:
    """Whether a live (non-zombie) process of ``uid`` is still visible in /proc."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/status", "rb") as handle:
                status = handle.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        uids = fields.get("Uid", "").split()
        if uids[:1] == [str(uid)] and not fields.get("State", "").strip().startswith("Z"):
            return True
    return False


def kill_uid(uid: int, rounds: int = 50) -> None:
    """Kill every process of ``uid`` visible here (run as root).

    A helper process becomes ``uid`` and calls ``kill(-1)``; that reports success
    whenever any other process is visible, so /proc says when the sweep is done.
    """
    for _ in range(rounds):
        if not left_behind(uid):
            return
        pid = os.fork()
        if pid == 0:
            try:
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
                os._exit(0)
            except BaseException:
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            return


def _table() -> dict[int, tuple[int, bytes]]:
    """Parent pid and state of every process visible in /proc."""
    table: dict[int, tuple[int, bytes]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        table[int(name)] = (int(fields[1]), fields[0])
    return table


def descendants(pid: int) -> list[int]:
    """Live (non-zombie) processes below ``pid``, however they detached (``setsid()``, a
    new process group, a double fork): below a child subreaper, orphans stay in its tree.

    Walks the kernel's per-thread ``children`` lists where it has them (a handful of reads
    for a small tree), else the parent pid of every process in /proc.
    """
    if not os.path.exists(f"/proc/{pid}/task/{pid}/children"):
        return _descendants_by_table(pid)
    found: list[int] = []
    seen, todo = {pid}, [pid]
    while todo:
        for child in _children(todo.pop()):
            if child in seen:
                continue
            seen.add(child)
            todo.append(child)
            if _state(child) not in (b"Z", None):
                found.append(child)
    return found


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                found += [int(child) for child in f.read().split()]
    return found


def _state(pid: int) -> bytes | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _descendants_by_table(pid: int) -> list[int]:
    table = _table()
    children: dict[int, list[int]] = {}
    for child, (parent, _state) in table.items():
        children.setdefault(parent, []).append(child)
    found: list[int] = []
    seen, todo = {pid}, [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
                if table[child][1] != b"Z":
                    found.append(child)
    return found


def kill_descendants(pid: int, patience: float = 10.0) -> bool:
    """SIGKILL every process below ``pid`` until none is left; True if none is.

    ``pid`` should be a child subreaper (or its parent): what a killed process leaves is
    reparented inside the tree, and the next round kills it. A fork bomb loses a round to
    each generation it manages to fork, so this repeats until two rounds in a row find
    nothing.
    """
    deadline = time.monotonic() + patience
    quiet = 0
    while quiet < 2:
        found = descendants(pid)
        if not found:
            quiet += 1
            continue
        quiet = 0
        for victim in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(victim, signal.SIGKILL)
        if time.monotonic() > deadline:
            return not descendants(pid)
    return True


def become_subreaper() -> None:
    """Adopt the orphans of every process below this one (``PR_SET_CHILD_SUBREAPER``).

    An orphan is then reparented here rather than to the machine's pid 1, so it stays
    in this process's tree (:func:`descendants` finds it) and its zombie is reaped here:
    zombies count against a uid's process limit, and pid 1 in a container may never reap.
    """
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def keep(poll: float = 0.25) -> None:
    """Fork: the new process returns and goes on as the worker; this one becomes its keeper.

    The keeper runs no learner code and holds no pipe of the worker's. It is a child
    subreaper, so everything the worker's children leave (``setsid()`` daemons, double
    forks, a fork bomb's survivors) is reparented to it once the worker is gone. When
    the worker ends or is killed, or the process that started the keeper is gone, the
    keeper kills every process below it, reaps them and exits with the worker's status.
    Without a PID namespace, this is what makes nothing learner-made outlive a worker.
    """
    become_subreaper()
    starter = os.getppid()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    worker = os.fork()
    if worker == 0:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        return
    code = 1
    try:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        status = None
        while status is None and os.getppid() == starter:
            signal.sigtimedwait({signal.SIGCHLD}, poll)
            status = _reap(worker)
        kill_descendants(os.getpid())
        _reap(worker, patience=2.0)
        if status is not None:
            code = os.waitstatus_to_exitcode(status)
            code = code if code >= 0 else 128 - code
    finally:
        os._exit(code)


def _reap(worker: int, patience: float = 0.0) -> int | None:
    """Reap every child that has ended (for up to ``patience`` seconds, until none is
    left); the wait status of ``worker`` if it was among them."""
    deadline = time.monotonic() + patience
    status = None
    while True:
        try:
            pid, got = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return status
        if pid == worker:
            status = got
        if not pid:
            if time.monotonic() >= deadline:
                return status
            time.sleep(0.005)


def remove_tree(path: str | os.PathLike) -> bool:
    """Delete a directory tree that learner code may have shaped; True if nothing is left.

    Learner code can build trees thousands of levels deep, symlink loops, directories it
    cannot enter (mode 000) and FIFOs. So this walks with one directory descriptor at a time
    (no recursion, no path longer than one name), never follows a symlink, stays on one file
    system, makes a directory enterable before entering it, and skips whatever it still
    cannot remove. It never raises.
    """
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        top = os.lstat(path)
    except OSError:
        return True
    if not _is_dir(top.st_mode):
        return _unlink(path, None)
    try:
        fd = os.open(path, flags)
    except OSError:
        return False
    names: list[str] = []  # the way down from ``path``, one name per level
    stuck: set[tuple[int, int]] = set()  # (device, inode) of what could not be removed
    while True:
        child = _next_subdir(fd, top.st_dev, stuck)
        if child is not None:
            try:
                sub = _enter(fd, child, flags)
            except OSError:
                with contextlib.suppress(OSError):
                    stuck.add(_ident(os.lstat(child, dir_fd=fd)))
                continue
            names.append(child)
            os.close(fd)
            fd = sub
            continue
        if not names:
            os.close(fd)
            try:
                os.rmdir(path)
            except OSError:
                return False
            return True
        name = names.pop()
        try:
            parent = os.open("..", flags, dir_fd=fd)
        except OSError:
            os.close(fd)
            return False
        mine = os.fstat(fd)
        os.close(fd)
        fd = parent
        try:
            os.rmdir(name, dir_fd=fd)
        except OSError:
            stuck.add(_ident(mine))


def _next_subdir(fd: int, device: int, stuck: set[tuple[int, int]]) -> str | None:
    """Unlink every non-directory in ``fd``; return a subdirectory still to empty, if any."""
    try:
        entries = list(os.scandir(fd))
    except OSError:
        return None
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if _ident(info) in stuck:
            continue
        if not _is_dir(info.st_mode):
            if not _unlink(entry.name, fd):
                stuck.add(_ident(info))
        elif info.st_dev != device:
            stuck.add(_ident(info))  # a mount point: never cross into another file system
        else:
            return entry.name
    return None


def _enter(fd: int, name: str, flags: int) -> int:
    try:
        return os.open(name, flags, dir_fd=fd)
    except PermissionError:
        os.chmod(name, 0o700, dir_fd=fd)  # a directory just listed as such, not a link
        return os.open(name, flags, dir_fd=fd)


def _unlink(name: str | os.PathLike, fd: int | None) -> bool:
    try:
        os.unlink(name, dir_fd=fd)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def _is_dir(mode: int) -> bool:
    return stat.S_ISDIR(mode)


def _ident(info: os.stat_result) -> tuple[int, int]:
    return (info.st_dev, info.st_ino)
