"""How the sandbox worker is started: resource limits and the bubblewrap command line.

With bubblewrap the worker sees read-only views of ``/usr`` and the Python runtime and
nothing else of the machine: the grader's own package, the course (solutions), dlgrade's
data directory and anything the caller names are covered by empty tmpfs mounts; it has no
network, its own PID namespace, size-capped tmpfs mounts on ``/tmp``, ``/dev/shm`` and
``/run/dlgrade-work`` (its work directory: a path no runtime lives under, so a venv in a
checkout such as ``/work/course/.venv`` stays visible) and, as root, its cgroup folders
under ``/run/dlgrade-cgroup``. Without bubblewrap it runs as a plain subprocess in its own
session with rlimits (and, as root, an unprivileged uid) only.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader.sandbox.errors import SandboxError

SANDBOX_CODE = Path(__file__).resolve().parent
INSIDE_CODE = "/run/dlgrade"
INSIDE_WORK = "/run/dlgrade-work"
STRICT = "bubblewrap"
FALLBACK = "rlimits"
BASE_UID = 61000


# Imported by the worker before it forks: the children start warm, and modules that learner
# code commonly imports stay importable after the uid drop even where the interpreter lives in
# a directory only root may enter (rlimits-only mode as root). Under bubblewrap, where the
# runtime stays readable, all but numpy wait until the worker's first child is gone.
PRELOAD = (
    "numpy",
    "numpy.random",
    "numpy.linalg",
    "math",
    "random",
    "statistics",
    "itertools",
    "functools",
    "collections",
    "copy",
    "typing",
    "dataclasses",
    "json",
    "re",
    "time",
    "decimal",
    "fractions",
    "operator",
    "string",
    "textwrap",
    "warnings",
)
# Imported too when the worker runs without bubblewrap: after the uid drop, a child cannot
# read an interpreter under a root-only directory (pyenv under /root), so what learner code may
# import must already be in memory. Under bubblewrap the runtime is readable and these load on
# demand; numpy.testing alone would add about 50 ms to every worker's start.
PRELOAD_WITHOUT_BUBBLEWRAP = ("numpy.testing",)


@dataclass(frozen=True)
class Limits:
    """Resource limits for one learner child (see exercises/info.toml ``[exercise.limits]``)."""

    memory_mb: int = 2048
    cpu_seconds: int = 60
    file_size_mb: int = 16
    open_files: int = 64
    processes: int = 64
    call_timeout: float = 10.0
    load_timeout: float = 15.0
    time_budget: float = 60.0  # wall-clock seconds all of one file's calls may take together
    output_kb: int = 64
    max_frame_mb: int = 64
    tmp_mb: int = 64
    disk_mb: int = 64
    preload: tuple[str, ...] = PRELOAD
    imports: tuple[str, ...] = field(default_factory=tuple)

    def child(self) -> dict[str, int]:
        """The rlimits the child sets on itself before running learner code."""
        keys = ("memory_mb", "cpu_seconds", "file_size_mb", "open_files", "processes")
        return {k: v for k, v in asdict(self).items() if k in keys}


def bubblewrap() -> str | None:
    """Path of the bubblewrap binary, or None when it is not installed."""
    return shutil.which("bwrap")


UID_RANGE = 4000
_held: dict[int, int] = {}  # uid -> descriptor of its lock file, held while the uid is ours


def learner_uid(slot: int | None = None) -> int | None:
    """An unprivileged uid for learner code when we are root (RLIMIT_NPROC spares root).

    Uids are allocated machine-wide: each is an exclusive lock on a file in a directory
    only root may write, held until :func:`release_uid` or the end of this process. So no
    two runs, workers or sandboxes graded at the same time share a uid, and whatever a
    crashed holder left running under it is killed before it is handed out again.
    ``slot`` only spreads where the search starts.
    """
    if os.geteuid() != 0:
        return None
    import fcntl  # POSIX only: kept out of the study commands' imports

    from grader.sandbox import procs

    folder = _uid_lock_dir()
    start = (slot if slot is not None else os.getpid()) % UID_RANGE
    for step in range(UID_RANGE):
        uid = BASE_UID + (start + step) % UID_RANGE
        if uid in _held:
            continue
        fd = os.open(folder / str(uid), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _held[uid] = fd
        procs.kill_uid(uid)
        return uid
    raise SandboxError(f"all {UID_RANGE} learner uids are in use: too many graders at once")


def release_uid(uid: int | None) -> None:
    """Give a uid from :func:`learner_uid` back (its processes are killed on reuse)."""
    fd = _held.pop(uid, None) if uid is not None else None
    if fd is not None:
        os.close(fd)


def _uid_lock_dir() -> Path:
    """Where the uid locks live: root's own, so learner code can neither take nor free one."""
    for base in (Path("/run"), Path(tempfile.gettempdir())):
        folder = base / "dlgrade-uids"
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            info = folder.lstat()
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == 0 and not info.st_mode & 0o022:
            return folder
    raise SandboxError("no root-only folder for learner uid locks (tried /run and the temp dir)")


def clean_env(home: str) -> dict[str, str]:
    """The whole environment of the worker: nothing inherited from the grader."""
    one = "1"
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        "OPENBLAS_NUM_THREADS": one,
        "OMP_NUM_THREADS": one,
        "MKL_NUM_THREADS": one,
        "NUMEXPR_NUM_THREADS": one,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "KERAS_HOME": f"{home}/.keras",
        "MPLCONFIGDIR": "/tmp",
        "KERAS_BACKEND": "tensorflow",
    }


def _runtime_roots(hide: list[Path]) -> list[Path]:
    """The directories the interpreter and its packages live in (outside /usr).

    The prefixes are always bound (anything hidden inside them is masked later); a further
    ``sys.path`` entry that contains something hidden is not bound at all (an editable
    install puts the project folder itself, solutions and all, on ``sys.path``).
    """
    prefixes = {
        sys.base_prefix,
        sys.prefix,
        sys.exec_prefix,
        Path(os.path.realpath(sys.executable)).parent.parent,
    }
    usable = {Path(os.path.realpath(p)) for p in prefixes}
    for entry in sys.path:
        path = Path(os.path.realpath(entry)) if entry else None
        if path and path.is_dir() and not any(s.is_relative_to(path) for s in hide):
            usable.add(path)
    roots: list[Path] = []
    for path in sorted(usable, key=lambda p: len(p.parts)):
        if path.parts[:2] == ("/", "usr") or any(path.is_relative_to(r) for r in roots):
            continue
        roots.append(path)
    return roots


def _parents(path: Path, made: set[Path]) -> list[str]:
    args = []
    for parent in reversed(path.parents):
        if parent != Path("/") and parent not in made:
            made.add(parent)
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def bwrap_command(
    bwrap: str, workdir: Path, limits: Limits, hide: Iterable[Path], binds: Iterable[str] = ()
) -> list[str]:
    """The bubblewrap invocation that starts the worker (see module docstring).

    ``workdir`` is the host folder whose lock marks the worker as live; the worker's own work
    directory is a tmpfs. ``binds`` are further arguments (the worker's cgroup folders).
    """
    cmd = [
        bwrap,
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
    ]
    if os.geteuid() != 0:
        cmd.append("--unshare-user")
    for key, value in clean_env(INSIDE_WORK).items():
        cmd += ["--setenv", key, value]
    cmd += ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            cmd += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            cmd += ["--ro-bind", top, top]
    # The private /tmp first: a runtime that lives under /tmp (a venv there) is bound on top.
    cmd += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(limits.tmp_mb << 20),
        "--perms",
        "1777",
        "--tmpfs",
        "/tmp",
        "--size",
        str(limits.tmp_mb << 20),
        "--perms",
        "1777",
        "--tmpfs",
        "/dev/shm",
        "--mqueue",  # the sandbox's own message queues, which the worker can list and empty
        "/dev/mqueue",
    ]
    made: set[Path] = {Path("/tmp")}
    secrets = {Path(os.path.realpath(p)) for p in hide}
    roots = _runtime_roots(list(secrets))
    for root in roots:
        for inside in (Path(INSIDE_CODE), Path(INSIDE_WORK)):
            if root.is_relative_to(inside) or inside.is_relative_to(root):
                raise SandboxError(
                    f"the Python runtime in {root} overlaps the sandbox's own {inside}; "
                    "install dlgrade into a virtualenv elsewhere"
                )
        cmd += [*_parents(root, made), "--ro-bind", str(root), str(root)]
    for secret in secrets:
        if any(secret.is_relative_to(r) for r in [*roots, Path("/usr")]) and secret.is_dir():
            cmd += ["--tmpfs", str(secret)]
    cmd += [
        *_parents(Path(INSIDE_CODE), made),
        *_parents(Path(INSIDE_WORK), made),
        "--ro-bind",
        str(SANDBOX_CODE),
        INSIDE_CODE,
        "--size",
        str(limits.disk_mb << 20),
        "--tmpfs",
        INSIDE_WORK,
        *binds,
        "--chdir",
        INSIDE_WORK,
    ]
    return cmd


def worker_argv(
    code_dir: str, workdir: str, limits: Limits, fds: tuple[int, ...], pidns: bool
) -> list:
    """The Python command line of the worker itself; ``fds`` are its control pipe."""
    return [
        sys.executable,
        "-I",
        "-B",
        f"{code_dir}/worker.py",
        workdir,
        str(limits.max_frame_mb << 20),
        ",".join(limits.preload if pidns else limits.preload + PRELOAD_WITHOUT_BUBBLEWRAP),
        "pidns" if pidns else "-",
        *(str(fd) for fd in fds),
    ]
