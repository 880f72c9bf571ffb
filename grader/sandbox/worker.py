"""Runs inside the sandbox: a warm worker that forks one child per learner file.

The worker pays the interpreter and numpy start-up once. For each ``load`` it
forks a child that joins its cgroup and private mounts (as root), imports what
the exercise needs, sets its resource limits, drops to an unprivileged uid,
executes the learner's source and then answers calls until ``unload``. When the
child is gone the worker kills everything the child left behind, removes the
shared memory and IPC objects it created, empties the work directory and reports
the exit on a control channel the child has no handle to.

File descriptors: 0 requests, 1 replies (shared with the child), 2 learner
output, and the control channel named on the command line (worker only).
Only the standard library, numpy and the sibling ``wire``, ``procs``, ``ipc``,
``cgroups`` and ``private`` modules are imported here; nothing of the grader is visible.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import resource
import signal
import sys
import time
import traceback
import types
import warnings

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
import cgroups  # noqa: E402
import ipc  # noqa: E402
import private  # noqa: E402
import procs  # noqa: E402
import wire  # noqa: E402

sys.path.remove(_HERE)

LIMITS = {
    "memory_mb": (resource.RLIMIT_AS, 1 << 20),
    "cpu_seconds": (resource.RLIMIT_CPU, 1),
    "file_size_mb": (resource.RLIMIT_FSIZE, 1 << 20),
    "open_files": (resource.RLIMIT_NOFILE, 1),
    "processes": (resource.RLIMIT_NPROC, 1),
}


class Channel:
    """Blocking frame I/O over a pair of file descriptors.

    Once :meth:`own` is called, only that process uses it: a process the learner's code
    forked (a fork bomb's thousand copies) that reaches the channel exits instead, so it
    can neither answer for the child nor take the grader's next request from it.
    """

    def __init__(self, rfd: int, wfd: int, max_frame: int) -> None:
        self.rfd, self.wfd, self.max_frame = rfd, wfd, max_frame
        self.owner: int | None = None

    def own(self) -> None:
        self.owner = os.getpid()

    def _mine(self) -> None:
        if self.owner is not None and os.getpid() != self.owner:
            os._exit(0)

    def _exactly(self, n: int) -> bytes | None:
        chunks, left = [], n
        while left:
            chunk = os.read(self.rfd, min(left, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def read(self) -> dict | None:
        self._mine()
        header = self._exactly(wire.HEADER.size)
        if header is None:
            return None
        json_len, bin_len = wire.split_header(header, self.max_frame)
        body = self._exactly(json_len + bin_len)
        if body is None:
            return None
        return wire.decode(body[:json_len], body[json_len:], from_trusted=True)

    def write(self, message: dict) -> None:
        self._mine()
        data = memoryview(wire.encode(message))
        while data:
            data = data[os.write(self.wfd, data) :]


def _where(exc: BaseException, filename: str) -> tuple[int | None, list[str]]:
    """The learner-file line an exception came from, and the learner frames of its trace."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    lines = [f"line {f.lineno}, in {f.name}: {(f.line or '').strip()}" for f in frames[-5:]]
    return (frames[-1].lineno if frames else None), lines


def _describe(exc: BaseException, filename: str) -> dict:
    try:
        text = str(exc)[:500]
    except Exception:
        text = "<unprintable message>"
    line, trace = _where(exc, filename)
    bases = [c.__name__ for c in type(exc).__mro__ if c.__module__ == "builtins"]
    return {
        "type": type(exc).__name__,
        "bases": bases,
        "message": text,
        "line": line,
        "trace": trace,
    }


def _resolve(value, module, kept):
    if isinstance(value, wire.FunctionRef):
        return getattr(module, value.name)
    if isinstance(value, wire.Ref):
        target = kept[value.call_id]
        for key in value.path:
            target = target[key]
        return target
    if isinstance(value, list):
        return [_resolve(v, module, kept) for v in value]
    if isinstance(value, tuple):
        return tuple(_resolve(v, module, kept) for v in value)
    if isinstance(value, dict):
        return {k: _resolve(v, module, kept) for k, v in value.items()}
    return value


def _load(source: str, filename: str, path: str) -> types.ModuleType:
    module = types.ModuleType(os.path.splitext(os.path.basename(path))[0].lstrip("0123456789_"))
    module.__file__ = path
    sys.modules[module.__name__] = module
    exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)
    return module


def _call(chan: Channel, request: dict, module, driver, kept: dict, filename: str) -> None:
    call_id, name = request["id"], request["fn"]
    scope = driver if name.startswith("driver.") else module
    func = getattr(scope, name.removeprefix("driver."), None) if scope else None
    if not callable(func):
        chan.write({"error": "missing", "id": call_id, "fn": name})
        return
    args = _resolve(request.get("args", []), module, kept)
    kwargs = _resolve(request.get("kwargs", {}), module, kept)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:  # the learner's SystemExit is a result like any other
            with contextlib.suppress(Exception):
                sys.stdout.flush()
            chan.write({"error": "raised", "id": call_id, **_describe(exc, filename)})
            return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    if request.get("keep"):
        kept[call_id] = result
    reply = {
        "ok": "result",
        "id": call_id,
        "value": result,
        "warnings": [f"{w.category.__name__}: {w.message}" for w in caught[:20]],
    }
    if request.get("return_args"):
        reply["args"] = list(args)
    chan.write(reply)


def _drop_privileges(uid: int | None, workdir: str) -> None:
    if uid is None:
        return
    for root, dirs, files in os.walk(workdir):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.lchown(name, uid, uid)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def _prepare(request: dict, workdir: str, path: str) -> None:
    """Join the child's cgroup, enter its private mounts (both as root, where the mode has
    them), write the learner's file, drop privileges, set the limits: no learner code yet."""
    cgroups.join(request.get("cgroup"))
    private.enter(request.get("private"), workdir)
    procs.import_quietly(request.get("imports", []))
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(request["source"])
    _drop_privileges(request.get("uid"), workdir)
    for key, (which, unit) in LIMITS.items():
        if key in request["limits"]:
            value = int(request["limits"][key] * unit)
            hard = value + unit if which == resource.RLIMIT_CPU else value
            resource.setrlimit(which, (value, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.chdir(workdir)


def _child(chan: Channel, request: dict, workdir: str) -> None:
    os.setsid()
    chan.own()
    filename, path = request["filename"], os.path.join(workdir, request["name"])
    try:
        _prepare(request, workdir, path)
    except BaseException as exc:  # the grader's failure, before any learner code ran
        chan.write({"error": "setup", "message": f"{type(exc).__name__}: {exc}"[:500]})
        raise
    try:
        module = _load(request["source"], filename, path)
        driver = None
        if request.get("driver"):
            driver = types.ModuleType("dlgrade_driver")
            driver.learner = module
            driver.emit = lambda event: chan.write({"event": event})
            exec(compile(request["driver"], "<dlgrade driver>", "exec"), driver.__dict__)
    except BaseException as exc:
        chan.write(
            {
                "error": "load",
                **_describe(exc, filename),
                "line": getattr(exc, "lineno", None)
                if isinstance(exc, SyntaxError)
                else _where(exc, filename)[0],
            }
        )
        return
    for stream in (sys.stdout, sys.stderr):  # what loading printed is out before "loaded"
        with contextlib.suppress(Exception):
            stream.flush()
    chan.write({"ok": "loaded"})
    kept: dict = {}
    while True:
        request = chan.read()
        if request is None or request.get("op") != "call":
            return
        _call(chan, request, module, driver, kept, filename)


def _sweep(uid: int | None, pgid: int, own_pid_namespace: bool) -> None:
    """Kill every process the child left behind: everything below this worker (a child
    subreaper) outside a PID namespace, every process of the learner uid as root, and in a
    PID namespace without a learner uid everything but us and pid 1."""
    if not own_pid_namespace:
        procs.kill_descendants(os.getpid())
    if uid is not None:
        procs.kill_uid(uid)
    if uid is not None or not own_pid_namespace:
        return
    quiet = 0
    for _ in range(200):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) > 2]
        if not others:
            quiet += 1
            if quiet >= 3:  # orphans of a process just killed are adopted a moment later
                return
            time.sleep(0.002)
            continue
        quiet = 0
        for pid in others:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass


SHARED_IN_SANDBOX = ("/tmp", "/dev/shm", "/dev/mqueue")  # bubblewrap's, the worker's own


def _wipe_shared() -> None:
    """Under bubblewrap, empty the sandbox's own /tmp, /dev/shm and message queues, which
    every child shares unless it has mounts of its own; what is mounted there stays."""
    for folder in SHARED_IN_SANDBOX:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            if not os.path.ismount(path):
                procs.remove_tree(path)


def _wipe(workdir: str) -> None:
    for name in os.listdir(workdir):
        path = os.path.join(workdir, name)
        procs.remove_tree(path)


def _reap_orphans(patience: float = 1.0) -> None:
    """Reap whatever the learner left to us (zombies count against its uid's process limit)."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not pid:
            time.sleep(0.01)


def main() -> None:
    workdir, max_frame = sys.argv[1], int(sys.argv[2])
    preload = [m for m in sys.argv[3].split(",") if m]
    own_pid_namespace = sys.argv[4] == "pidns"
    if not own_pid_namespace:
        procs.keep()  # from here on this is the worker; its keeper outlives it
    requests, replies = os.dup(0), os.dup(1)
    control = int(sys.argv[5])
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    procs.become_subreaper()
    # Under bubblewrap the runtime stays readable after the uid drop, so the first child can
    # import what it needs itself: the worker answers its first load as soon as numpy and
    # numpy.random are in (the learner's CPU time must not pay for them) and preloads the
    # rest after that child, for every child from then on.
    later = preload[2:] if own_pid_namespace else []
    for name in preload[: len(preload) - len(later)]:
        importlib.import_module(name)
    chan, ctl = Channel(requests, replies, max_frame), Channel(-1, control, max_frame)
    ctl.write({"ok": "ready", "pid": os.getpid(), "uid": os.getuid()})
    while True:
        request = chan.read()
        if request is None or request.get("op") == "quit":
            _reap_orphans()
            return
        if request.get("op") != "load":
            continue
        shared = ipc.snapshot()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.close(control)
                _child(chan, request, workdir)
            except BaseException:
                code = 70
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        _sweep(request.get("uid"), pid, own_pid_namespace)
        _reap_orphans(patience=0.5)
        ipc.remove_left(shared, request.get("uid"))
        if own_pid_namespace:
            _wipe_shared()
        _wipe(workdir)
        code = os.waitstatus_to_exitcode(status)
        ctl.write({"exited": {"code": code}})
        for name in later:
            importlib.import_module(name)
        later = []


if __name__ == "__main__":
    main()
