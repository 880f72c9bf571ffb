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
