"""The sandbox contains hostile learner code: each test is one thing a learner file might do.

Every test runs under bubblewrap (where installed) and under the rlimits-only
fallback, with real subprocesses.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ISOLATIONS, ROOT, needs_bwrap

from grader.sandbox import modes
from grader.sandbox import spawn as spawn_module
from grader.sandbox.errors import (
    LearnerCrashed,
    LearnerRaised,
    LearnerTimeout,
    LoadFailed,
    MissingFunction,
    SandboxError,
)
from grader.sandbox.launch import PRELOAD, STRICT, Limits
from grader.sandbox.runner import Sandbox
from grader.sandbox.wire import Unsupported

GOOD = "import numpy as np\ndef double(x):\n    return np.asarray(x) * 2\n"


@pytest.fixture(params=ISOLATIONS)
def sandbox(request):
    box = Sandbox(
        Limits(call_timeout=2, load_timeout=5),
        strict=request.param,
        hide=[ROOT / "solutions", ROOT / "grader"],
    )
    yield box
    box.close()


def load(box: Sandbox, body: str) -> None:
    box.load(GOOD + body, "learner.py", "learner.py")


def value(box: Sandbox, fn: str, *args):
    return box.call(fn, list(args))[1].value


def uid_processes(uid: int | range, wait: float = 5.0) -> list[int]:
    """Live (non-zombie) processes of ``uid`` (or of any uid in a range), after giving
    SIGKILL a moment to land."""
    uids = uid if isinstance(uid, range) else range(uid, uid + 1)
    deadline = time.monotonic() + wait
    while True:
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if int(fields["Uid"].split()[0]) in uids and not fields["State"].strip().startswith(
                "Z"
            ):
                found.append(int(pid))
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def marked_processes(token: str, wait: float = 5.0) -> list[int]:
    """Live (non-zombie) processes other than this one whose command line, environment or
    mount table names ``token`` (a folder only one run uses: a worker's work directory,
    a scratch TMPDIR), after giving SIGKILL a moment to land.

    A worker's children are forks of it (its command line names the work directory), an
    ``exec`` keeps the environment (``HOME`` is the work directory), and a process inside
    bubblewrap has the work directory's host path in its mount table.
    """
    needle, me = token.encode(), os.getpid()
    deadline = time.monotonic() + wait
    while True:
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            if int(pid) == me:
                continue
            try:
                if Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] == b"Z":
                    continue
            except (OSError, IndexError):
                continue
            for name in ("cmdline", "environ", "mountinfo"):
                try:
                    if needle in Path(f"/proc/{pid}/{name}").read_bytes():
                        found.append(int(pid))
                        break
                except OSError:
                    continue
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def leftovers(box: Sandbox) -> list[int]:
    """What is still running of a closed sandbox, in every mode: processes that name its
    work directory, and as root every process of its learner uid."""
    return marked_processes(str(box.workdir)) + (
        uid_processes(box.uid) if box.uid is not None else []
    )


def test_an_honest_call_returns_plain_data(sandbox):
    load(sandbox, "")
    assert np.array_equal(value(sandbox, "double", [1, 2]), [2, 4])


def test_an_infinite_loop_times_out_and_a_fresh_child_serves_the_next_call(sandbox):
    load(sandbox, "def spin():\n    while True:\n        pass\n")
    started = time.monotonic()
    with pytest.raises(LearnerTimeout, match="did not return within 2 s"):
        value(sandbox, "spin")
    assert time.monotonic() - started < 10
    load(sandbox, "")
    assert np.array_equal(value(sandbox, "double", 3), 6)


def test_a_memory_bomb_fails_the_call_not_the_grader(sandbox):
    load(sandbox, "def bomb():\n    return np.ones(10**10)\n")
    with pytest.raises((LearnerRaised, LearnerCrashed)) as info:
        value(sandbox, "bomb")
    assert "MemoryError" in str(info.value) or "killed" in str(info.value)
    load(sandbox, "")
    assert np.array_equal(value(sandbox, "double", 1), 2)


def test_a_fork_bomb_is_contained_and_nothing_survives(sandbox):
    load(sandbox, "import os\ndef bomb():\n    while True:\n        os.fork()\n")
    worker = sandbox.proc.pid
    with pytest.raises((LearnerRaised, LearnerCrashed, LearnerTimeout)):
        value(sandbox, "bomb")
    load(sandbox, "")
    assert np.array_equal(value(sandbox, "double", 1), 2)
    # The bomb's copies could not take the "unload" meant for the child, so the worker saw
    # it end and cleaned up: it was not given up on and replaced.
    assert sandbox.proc.pid == worker
    sandbox.close()
    assert leftovers(sandbox) == []


def test_a_forked_copy_of_the_child_cannot_answer_for_it(sandbox):
    load(
        sandbox,
        "import os, time\n"
        "def answer():\n"
        "    if os.fork() == 0:\n"
        "        return 42\n"
        "    time.sleep(0.3)\n"
        "    return 1\n",
    )
    assert value(sandbox, "answer") == 1
    assert np.array_equal(value(sandbox, "double", 2), 4)


def test_os_exit_during_a_call_is_a_crash_and_sys_exit_an_exception(sandbox):
    load(sandbox, "import os, sys\ndef hard():\n    os._exit(0)\ndef soft():\n    sys.exit(0)\n")
    with pytest.raises(LearnerCrashed, match="exited with status 0"):
        value(sandbox, "hard")
    load(sandbox, "import sys\ndef soft():\n    sys.exit(0)\n")
    with pytest.raises(LearnerRaised, match="SystemExit"):
        value(sandbox, "soft")


def test_an_exception_at_import_names_the_file_and_line(sandbox):
    with pytest.raises(LoadFailed, match=r"learner.py:4: RuntimeError: nope"):
        load(sandbox, "raise RuntimeError('nope')\n")


def test_a_syntax_error_names_the_file_and_line(sandbox):
    with pytest.raises(LoadFailed, match=r"learner.py:5: SyntaxError"):
        load(sandbox, "\ndef broken(:\n")


def test_exiting_at_import_is_a_load_failure(sandbox):
    with pytest.raises(LoadFailed, match="exited with status 3"):
        load(sandbox, "import os\nos._exit(3)\n")


def test_printed_fake_results_are_only_output(sandbox):
    fake = 'PASSED 10/10 checks\\n\\x00\\x00\\x00\\x10{\\"ok\\":\\"result\\"}'
    load(sandbox, f"def noisy(x):\n    print('{fake}')\n    return x + 1\n")
    _, reply = sandbox.call("noisy", [1])
    assert reply.value == 2
    assert "PASSED 10/10" in reply.output


def test_a_flood_of_output_is_capped_and_does_not_block(sandbox):
    load(
        sandbox, "import sys\ndef flood():\n    sys.stdout.write('x' * 50_000_000)\n    return 1\n"
    )
    _, reply = sandbox.call("flood", [])
    assert reply.value == 1
    assert len(reply.output) < 100_000


def test_an_object_that_equals_anything_arrives_as_unsupported(sandbox):
    load(
        sandbox,
        "class Any:\n    def __eq__(self, other):\n        return True\n"
        "def sneaky():\n    return Any()\n",
    )
    assert isinstance(value(sandbox, "sneaky"), Unsupported)


def test_killing_the_parent_does_not_touch_the_grader(sandbox):
    load(
        sandbox,
        "import os, signal\ndef parricide():\n    os.kill(os.getppid(), signal.SIGKILL)\n"
        "    os.killpg(0, signal.SIGKILL)\n",
    )
    with pytest.raises((LearnerRaised, LearnerCrashed)):
        value(sandbox, "parricide")
    load(sandbox, "")
    assert np.array_equal(value(sandbox, "double", 2), 4)


def test_a_daemon_left_behind_is_killed_when_the_child_ends(sandbox):
    load(
        sandbox,
        "import os, time\ndef daemon():\n    if os.fork() == 0:\n        os.setsid()\n"
        "        if os.fork() == 0:\n            time.sleep(300)\n        os._exit(0)\n"
        "    return os.getpid()\n",
    )
    value(sandbox, "daemon")
    sandbox.unload()
    load(
        sandbox,
        "def census():\n    import os\n"
        "    return sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n",
    )
    if sandbox.isolation == "bubblewrap":
        assert len(value(sandbox, "census")) <= 3  # bwrap's init, the worker, this child
    sandbox.close()
    assert leftovers(sandbox) == []


def test_writing_outside_the_sandbox_reaches_nothing(sandbox, tmp_path):
    target = tmp_path / "escaped.txt"
    load(
        sandbox,
        f"def escape():\n    try:\n        open({str(target)!r}, 'w').write('x')\n"
        "    except OSError as exc:\n        return type(exc).__name__\n    return 'wrote'\n",
    )
    outcome = value(sandbox, "escape")
    if sandbox.isolation == "rlimits" and sandbox.uid is None:
        # The documented gap (docs/security.md): as an ordinary user without bubblewrap,
        # learner code may write wherever that user may.
        assert outcome == "wrote" and target.exists()
    else:
        assert outcome in {"PermissionError", "FileNotFoundError", "OSError"}
        assert not target.exists()


COVERT = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmdt.argtypes = [ctypes.c_void_p]
CREATE = 0o1000 | 0o666  # IPC_CREAT, readable and writable by anyone

def write(key, name, text):
    made = []
    shmid = libc.shmget(key, 4096, CREATE)
    if shmid != -1:
        address = libc.shmat(shmid, None, 0)
        ctypes.memmove(address, text.encode(), len(text))
        libc.shmdt(address)
        made.append("shm")
    if libc.semget(key, 1, CREATE) != -1:
        made.append("sem")
    if libc.msgget(key, CREATE) != -1:
        made.append("msg")
    for folder, kind in (("/dev/shm", "posix"), ("/tmp", "tmp")):
        try:
            with open(os.path.join(folder, name), "w") as handle:
                handle.write(text)
            made.append(kind)
        except OSError:
            pass
    return made

def read(key, name, size):
    found = []
    shmid = libc.shmget(key, 0, 0)
    if shmid != -1:
        address = libc.shmat(shmid, None, 0o10000)  # SHM_RDONLY
        found.append("shm:" + ctypes.string_at(address, size).decode("ascii", "replace"))
    if libc.semget(key, 0, 0) != -1:
        found.append("sem")
    if libc.msgget(key, 0, 0) != -1:
        found.append("msg")
    for folder, kind in (("/dev/shm", "posix"), ("/tmp", "tmp")):
        if os.path.exists(os.path.join(folder, name)):
            found.append(kind)
    return found
"""


def test_a_student_finds_nothing_the_previous_one_left_in_shared_memory(sandbox):
    """A writer and then a reader graded by one worker: System V segments, semaphores and
    message queues and POSIX shared memory do not carry anything from one to the other."""
    key, name, text = 0x5E000000 + os.getpid() % 0xFFFFFF, f"dlgrade-covert-{os.getpid()}", "hi"
    try:
        sandbox.load(COVERT, "writer.py", "writer.py")
        made = value(sandbox, "write", key, name, text)
        assert {"shm", "sem", "msg"} <= set(made)  # the writer could make them
        sandbox.load(COVERT, "reader.py", "reader.py")
        found = set(value(sandbox, "read", key, name, len(text)))
    finally:
        sandbox.close()
        with contextlib.suppress(OSError):
            os.unlink(Path("/tmp") / name)
    assert not found & {"shm:" + text, "sem", "msg", "posix"}, found
    if sandbox.isolation == "rlimits" and sandbox.uid is None:
        # The documented gap (docs/security.md): as an ordinary user without bubblewrap,
        # learner code shares the user's /tmp, so a file left there reaches the next student.
        assert "tmp" in made and "tmp" in found


def test_a_missing_function_is_reported_by_name(sandbox):
    load(sandbox, "")
    with pytest.raises(MissingFunction, match="no function named weighted_sum"):
        value(sandbox, "weighted_sum")


def test_patching_numpy_in_the_child_leaves_the_grader_alone(sandbox):
    load(
        sandbox,
        "np.allclose = lambda *a, **k: True\ndef patched():\n    return bool(np.allclose(1, 2))\n",
    )
    assert value(sandbox, "patched") is True
    assert not np.allclose(1, 2)


def test_every_preloaded_module_is_importable_in_the_first_child_and_warm_after(sandbox):
    """Under bubblewrap the first child imports what it needs itself (the worker answers its
    load as soon as numpy and numpy.random are in); every later child starts with the
    preloads in memory."""
    names = [m for m in PRELOAD if m != "numpy"]
    body = (
        "import sys\n"
        f"WARM = [m for m in {names!r} if m in sys.modules]\n"
        "import importlib\n"
        f"LOADED = [importlib.import_module(m).__name__ for m in {names!r}]\n"
        "def warm():\n    return WARM\n"
        "def loaded():\n    return LOADED\n"
    )
    load(sandbox, body)
    assert value(sandbox, "loaded") == names
    cold = set(names) - set(value(sandbox, "warm"))
    if sandbox.isolation == STRICT:
        assert "numpy.random" not in cold  # learner CPU time does not pay for it
        assert {"statistics", "decimal"} <= cold
    else:
        assert not cold  # without bubblewrap a child may be unable to read the runtime
    sandbox.unload()
    load(sandbox, body)
    assert value(sandbox, "warm") == names


@pytest.mark.parametrize("strict", ISOLATIONS[:1])
def test_strict_sandbox_sees_no_solutions_and_a_private_tmp(strict, tmp_path):
    marker = Path("/tmp") / f"dlgrade-host-marker-{os.getpid()}"
    marker.write_text("host")
    body = (
        "import os\ndef probe(paths):\n    seen = [p for p in paths if os.path.exists(p)]\n"
        "    return seen, os.getuid()\n"
    )
    try:
        with Sandbox(
            Limits(call_timeout=5), strict=True, hide=[ROOT / "solutions", ROOT / "grader"]
        ) as box:
            box.load(GOOD + body, "learner.py", "learner.py")
            paths = [
                str(ROOT / "solutions"),
                str(ROOT / "grader"),
                str(marker),
                str(ROOT / "README.md"),
                "/etc/passwd",
            ]
            seen, uid = box.call("probe", [paths])[1].value
    finally:
        marker.unlink()
    assert seen == []
    assert uid != 0


def host_addresses() -> list[str]:
    """127.0.0.1 and, if the host has one, the address it would reach the outside from."""
    addresses = ["127.0.0.1"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe, contextlib.suppress(OSError):
        probe.connect(("198.51.100.1", 9))  # a route lookup only: UDP sends nothing here
        address = probe.getsockname()[0]
        if not address.startswith("127.") and address != "0.0.0.0":
            addresses.append(address)
    return addresses


def claims_no_network(box: Sandbox) -> bool:
    """What the report header says of the network for this sandbox's mode (docs/security.md
    has the same table, and tests/test_limits.py checks the header's phrases per mode)."""
    return modes.NETWORK not in modes.unenforced(box.mode)


def test_the_child_reaches_the_network_only_where_the_mode_says_it_may(sandbox):
    """A listener of this test's own, on loopback and on the host's outward address: a
    mode that claims no network must not reach it; one that does not claim it does."""
    listeners = []
    try:
        for address in host_addresses():
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listeners.append(server)
            server.bind((address, 0))
            server.listen(8)
            with socket.create_connection(server.getsockname(), timeout=2):
                pass  # the listener answers this process: the learner's failure means something
        targets = [list(server.getsockname()) for server in listeners]
        load(
            sandbox,
            "import socket\ndef reach(targets):\n    seen = []\n"
            "    for host, port in targets:\n"
            "        with socket.socket() as client:\n"  # numeric: no resolver, no codec
            "            client.settimeout(2)\n            try:\n"
            "                client.connect((host, port))\n                seen.append('open')\n"
            "            except OSError as exc:\n"
            "                seen.append(type(exc).__name__)\n    return seen\n",
        )
        seen = value(sandbox, "reach", targets)
    finally:
        for server in listeners:
            server.close()
    assert len(seen) == len(targets)
    if claims_no_network(sandbox):
        assert "open" not in seen, (targets, seen)
    else:
        assert seen == ["open"] * len(targets), (targets, seen)


def test_a_sandbox_that_cannot_start_is_a_grader_error(monkeypatch):
    from grader.sandbox import spawn

    monkeypatch.setattr(spawn, "worker_argv", lambda *a, **k: ["/nonexistent/python"])
    with pytest.raises(SandboxError):
        Sandbox(strict=False).start()


def test_a_project_folder_on_sys_path_is_never_bound(tmp_path, monkeypatch):
    """An editable install puts the clone (solutions and all) on sys.path: not in the sandbox."""
    from grader.sandbox import launch

    project = tmp_path / "clone"
    (project / "grader").mkdir(parents=True)
    monkeypatch.setattr("sys.path", [*__import__("sys").path, str(project)])
    command = launch.bwrap_command("bwrap", tmp_path / "work", Limits(), [project / "grader"])
    binds = [command[i + 1] for i, arg in enumerate(command) if arg == "--ro-bind"]
    assert str(project) not in binds
    assert not any(b.startswith(str(project)) for b in binds)


def test_the_private_tmp_is_mounted_before_runtime_binds():
    """A virtualenv under /tmp must stay visible on top of the sandbox's own /tmp."""
    from grader.sandbox import launch

    command = launch.bwrap_command("bwrap", Path("/tmp/work"), Limits(), [])
    tmpfs_at = next(
        i for i, arg in enumerate(command) if arg == "--tmpfs" and command[i + 1] == "/tmp"
    )
    first_runtime_bind = next(
        i for i, arg in enumerate(command) if arg == "--ro-bind" and command[i + 1] != "/usr"
    )
    assert tmpfs_at < first_runtime_bind


def test_an_unusable_bubblewrap_falls_back_in_auto_mode_and_says_why(monkeypatch):
    from grader.sandbox import launch

    monkeypatch.setattr(launch, "bubblewrap", lambda: "/bin/false")
    with Sandbox(Limits(call_timeout=5)) as box:
        load(box, "")
        assert np.array_equal(value(box, "double", 2), 4)
        assert box.isolation == "rlimits"
        assert "bubblewrap is installed but failed" in box.fallback_reason


def test_an_unusable_bubblewrap_is_a_grader_error_in_strict_mode(monkeypatch):
    from grader.sandbox import launch

    monkeypatch.setattr(launch, "bubblewrap", lambda: "/bin/false")
    with pytest.raises(SandboxError, match="did not start"):
        Sandbox(strict=True).start()


def test_work_directories_of_gone_graders_are_removed_and_live_ones_kept():
    """Stale means the owner's lock is free, whatever the pid in the name says."""
    import fcntl
    import tempfile

    from grader.sandbox import spawn

    base = Path(tempfile.gettempdir())
    gone = base / f"{spawn.WORKDIR_PREFIX}{os.getpid()}-gone"
    alive = base / f"{spawn.WORKDIR_PREFIX}999999999-alive"
    unlocked = base / f"{spawn.WORKDIR_PREFIX}999999998-nolock"
    held = None
    try:
        for folder in (gone, alive, unlocked):
            folder.mkdir(exist_ok=True)
            (folder / "leftover.txt").write_text("x")
        for folder in (gone, alive):
            folder.with_name(folder.name + spawn.LOCK_SUFFIX).touch()
        held = os.open(alive.with_name(alive.name + spawn.LOCK_SUFFIX), os.O_RDWR)
        fcntl.flock(held, fcntl.LOCK_EX)  # another grader, still running
        with Sandbox(strict=False) as box:
            load(box, "")
        assert not gone.exists()
        assert not gone.with_name(gone.name + spawn.LOCK_SUFFIX).exists()
        assert alive.exists() and unlocked.exists()  # never delete what might be live
    finally:
        if held is not None:
            os.close(held)
        for folder in (gone, alive, unlocked):
            shutil.rmtree(folder, ignore_errors=True)
            folder.with_name(folder.name + spawn.LOCK_SUFFIX).unlink(missing_ok=True)


@pytest.mark.parametrize("inside", ["INSIDE_WORK", "INSIDE_CODE"])
def test_a_runtime_under_the_sandboxs_own_paths_is_refused_not_shadowed(inside, monkeypatch):
    """The work dir is mounted after the runtime: a venv beneath it would vanish inside."""
    from grader.sandbox import launch

    venv = Path(getattr(launch, inside)) / "course" / ".venv"
    monkeypatch.setattr(launch, "_runtime_roots", lambda hide: [venv])
    with pytest.raises(SandboxError, match="overlaps"):
        launch.bwrap_command("bwrap", Path("/tmp/work"), Limits(), [])


@needs_bwrap(reason="bubblewrap is not installed")
def test_an_overlapping_runtime_falls_back_in_auto_mode_and_leaves_no_workdir(monkeypatch):
    import glob
    import tempfile

    from grader.sandbox import launch

    pattern = f"{tempfile.gettempdir()}/{spawn_module.WORKDIR_PREFIX}{os.getpid()}-*"
    before = set(glob.glob(pattern))
    monkeypatch.setattr(launch, "_runtime_roots", lambda hide: [Path(launch.INSIDE_WORK)])
    with Sandbox(Limits(call_timeout=5)) as box:
        load(box, "")
        assert np.array_equal(value(box, "double", 2), 4)
        assert box.isolation == "rlimits"
        assert "overlaps" in box.fallback_reason
        made = set(glob.glob(pattern)) - before
        assert made == {str(box.workdir), str(box.workdir) + spawn_module.LOCK_SUFFIX}
