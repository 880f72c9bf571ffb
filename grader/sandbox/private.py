"""Per-child private mounts, IPC and network, entered by the worker's child while still root.

Students graded one after another by one worker would otherwise share ``/tmp``,
``/dev/shm`` and System V IPC (one can leave a file or a segment for the next), and the work
directory would have no size limit. :func:`enter` gives the child its own mount and IPC
namespaces (and, without bubblewrap, its own empty network namespace), makes every mount
private and puts a size-capped tmpfs over ``/tmp``, ``/var/tmp``, ``/dev/shm`` and the work
directory. All of it goes away with the child's last process; tmpfs pages also count
against the child's memory cgroup.

It needs ``CAP_SYS_ADMIN``: root, or bubblewrap as real root. :func:`possible` says whether
this process could (checked once in a throwaway child). Standard library only: the worker
imports this as a sibling module.
"""

from __future__ import annotations

import ctypes
import os
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 0x40000
TMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")  # the world-writable folders of Debian

_libc = None


def _call(name: str, *args: object) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    func = getattr(_libc, name)
    if func(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{name}: {os.strerror(err)}")


def _unshare(flags: int) -> None:
    native = getattr(os, "unshare", None)  # Python 3.12
    if native is not None:
        native(flags)
    else:
        _call("unshare", flags)


def _tmpfs(path: str, size_mb: int, mode: int) -> None:
    options = f"size={size_mb}m,mode={mode:o},nr_inodes={max(size_mb, 1) * 256}".encode()
    _call("mount", b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options)


def _runtime_under(folder: str) -> list[tuple[str, int]]:
    """The Python runtime's folders under ``folder``, each with a descriptor to bind it back."""
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    inside = sorted(r for r in roots if r.startswith(folder.rstrip("/") + "/"))
    return [(r, os.open(r, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)) for r in inside]


def enter(spec: dict | None, workdir: str) -> None:
    """Private namespaces and capped tmpfs mounts for this process (see module docstring).

    ``spec``: ``{"disk_mb": …, "tmp_mb": …, "network": bool}`` (network: unshare it too);
    None leaves everything shared (modes that cannot do this say so in their header).
    """
    if not spec:
        return
    flags = CLONE_NEWNS | CLONE_NEWIPC | (CLONE_NEWNET if spec.get("network") else 0)
    _unshare(flags)
    _call("mount", None, b"/", None, MS_REC | MS_PRIVATE, None)
    for folder in TMP_DIRS:
        if os.path.isdir(folder) and not os.path.islink(folder):
            kept = _runtime_under(folder)
            _tmpfs(folder, int(spec["tmp_mb"]), 0o1777)
            for path, fd in kept:  # a runtime under /tmp (a venv there) stays where it was
                os.makedirs(path, mode=0o755, exist_ok=True)
                _call("mount", f"/proc/self/fd/{fd}".encode(), path.encode(), None, MS_BIND, None)
                os.close(fd)
    os.makedirs(workdir, mode=0o755, exist_ok=True)  # it may lie under the fresh /tmp
    _tmpfs(workdir, int(spec["disk_mb"]), 0o700)


_possible: dict[bool, bool] = {}


def possible(network: bool = True) -> bool:
    """Whether :func:`enter` works here (tried once, in a child that exits at once)."""
    if network in _possible:
        return _possible[network]
    ok = False
    if os.geteuid() == 0:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                flags = CLONE_NEWNS | CLONE_NEWIPC | (CLONE_NEWNET if network else 0)
                _unshare(flags)
                _call("mount", None, b"/", None, MS_REC | MS_PRIVATE, None)
                _call("mount", b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, b"size=1m")
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        ok = os.waitstatus_to_exitcode(status) == 0
    _possible[network] = ok
    return ok
