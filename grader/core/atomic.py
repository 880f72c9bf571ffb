"""Files written whole or not at all, and one writer at a time for a class's --out folder.

Every file dlgrade writes for people goes through :func:`write_bytes` or
:func:`write_text`: the data goes to a uniquely named temporary file in the same folder,
is fsynced, and replaces the target by ``os.replace``; the folder is fsynced too. A
reader (or a crash) never sees half a file, and two writers never share a temporary name.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from grader.core.errors import InputError

LOCK_NAME = ".dlgrade.lock"
LOCKED = (
    "{out} is in use by another `dlgrade grade` (pid {pid}): "
    "wait for it to finish, or choose another --out"
)


def write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` atomically and durably."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode & ~_umask())
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_folder(path.parent)


def write_text(path: Path, text: str, *, newline: str | None = None, mode: int = 0o644) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically; ``newline`` as for ``open``."""
    data = text if newline in (None, "", "\n") else text.replace("\n", newline)
    write_bytes(path, data.encode("utf-8"), mode)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def out_lock(out: Path) -> Iterator[None]:
    """Hold ``out``'s lock for the block; a second holder gets InputError (exit 2).

    A folder created here is private (0700): grades are personal data. The lock is an
    ``flock`` on ``out/.dlgrade.lock``, so it goes with the process, however it ends.
    """
    out = Path(out)
    if not out.exists():
        out.mkdir(parents=True, mode=0o700)
        out.chmod(0o700)
    try:
        fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise InputError(
            f"{out}: cannot write there ({exc.strerror}): choose another --out"
        ) from None
    import fcntl  # POSIX only: kept out of the study commands' imports

    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.pread(fd, 20, 0).decode("ascii", "replace").strip() or "?"
            raise InputError(LOCKED.format(out=out, pid=pid)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
