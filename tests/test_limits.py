"""Limits for the whole student, and nothing shared between students, in every mode.

As root (bubblewrap or not), each learner child gets a cgroup of its own (memory and
processes of all its forks together) and private mounts, IPC and network: size-capped tmpfs
over the work directory, ``/tmp``, ``/var/tmp`` and ``/dev/shm``. Where a mode cannot do
that (an ordinary user), the report header says so in one line, and these tests assert that
line instead of the containment. tests/test_unprivileged.py runs this file as ``nobody``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import ISOLATIONS, ROOT, as_ordinary_user, needs_bwrap
from test_class_grade import grade_command, solution, write

from grader.sandbox import cgroups, modes
from grader.sandbox.errors import LearnerCrashed
from grader.sandbox.launch import Limits
from grader.sandbox.runner import Sandbox

IS_ROOT = os.geteuid() == 0
GIB = 1 << 30
WRITER = """
import ctypes, os
import numpy as np

def weighted_sum(x, w, b=0.0):
    return float(np.asarray(x) @ np.asarray(w) + b)

def leave():
    open("/tmp/dlgrade-left", "w").write("secret")
    open("/dev/shm/dlgrade-left", "w").write("secret")
    libc = ctypes.CDLL(None, use_errno=True)
    shm = libc.shmget(0x5EED, 4096, 0o1666)  # IPC_CREAT | 0o666
    libc.mq_open.restype = ctypes.c_int
    queue = libc.mq_open(b"/dlgrade-left", os.O_CREAT | os.O_RDWR, 0o600, None)
    return [shm >= 0, queue >= 0]

def find():
    libc = ctypes.CDLL(None, use_errno=True)
    files = [p for p in ("/tmp/dlgrade-left", "/dev/shm/dlgrade-left") if os.path.exists(p)]
    libc.mq_open.restype = ctypes.c_int
    queue = libc.mq_open(b"/dlgrade-left", os.O_RDONLY) >= 0
    return files + (["sysv"] if libc.shmget(0x5EED, 0, 0) >= 0 else []) + (["mqueue"] * queue)
"""
BOMB = """
import os, time
import numpy as np

def bomb():
    children = []
    for _ in range(6):
        pid = os.fork()
        if pid == 0:
            try:
                block = np.ones(1536 << 17)  # 1.5 GiB, every page touched
                time.sleep(3)
            finally:
                os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    return len(children)
"""
FILLER = """
def fill(folder):
    written = 0
    try:
        for i in range(3 << 6):  # 3 GiB in files of 16 MB (the file size limit)
            with open(f"{folder}/filler-{i}", "wb") as handle:
                for _ in range(16):
                    handle.write(b"x" * (1 << 20))
                    written += 1 << 20
    except OSError as exc:
        return [written, exc.errno]
    return [written, 0]
"""
RAISE_OWN_LIMITS = """
import os

TARGETS = (
    ("memory.limit_in_bytes", "9223372036854771712"),
    ("memory.memsw.limit_in_bytes", "9223372036854771712"),
    ("memory.max", "max"),
    ("pids.max", "max"),
    ("cgroup.procs", str(os.getpid())),  # into its worker's folder: out of its own
)

def raise_limits():
    done, tried, folders = [], [], []
    top = "/run/dlgrade-cgroup"  # under bubblewrap: root's alone
    try:
        for name in os.listdir(top):
            folders += [f"{top}/{name}/{c}" for c in os.listdir(f"{top}/{name}")]
    except OSError:
        tried.append(top)
    for line in open("/proc/self/cgroup"):
        _, controllers, path = line.strip().split(":", 2)
        folders += [f"/sys/fs/cgroup/{name}{path}" for name in controllers.split(",")]
    for folder in folders:
        for target, value in TARGETS:
            for where in (folder, os.path.dirname(folder)):
                file = os.path.join(where, target)
                if not os.path.exists(file):
                    continue
                tried.append(file)
                try:
                    with open(file, "w") as handle:
                        handle.write(value)
                    done.append(file)
                except OSError:
                    pass
    return [tried, done]
"""


def cgroups_writable() -> bool:
    """The test's own look: can this process make a memory cgroup below its own?"""
    if not IS_ROOT:
        return False
    own = next(
        (
            line.split(":", 2)[2]
            for line in Path("/proc/self/cgroup").read_text().splitlines()
            if line.split(":")[1] == "memory"
        ),
        None,
    )
    unified = Path("/sys/fs/cgroup/cgroup.subtree_control")
    if own is None:
        return unified.exists() and {"memory", "pids"} <= set(unified.read_text().split())
    probe = Path("/sys/fs/cgroup/memory") / own.lstrip("/") / f"test-probe-{os.getpid()}"
    try:
        probe.mkdir()
    except OSError:
        return False
    probe.rmdir()
    return True


def unshare_allowed() -> bool:
    """The test's own look: may this process unshare mounts, IPC and network?"""
    unshare = shutil.which("unshare")
    if not IS_ROOT or not unshare:
        return False
    done = subprocess.run([unshare, "--mount", "--ipc", "--net", "true"], capture_output=True)
    return done.returncode == 0


CGROUPS, UNSHARE = cgroups_writable(), unshare_allowed()


def expected(mode: str) -> list[str]:
    """docs/security.md's table, for what this machine allows."""
    bubblewrap, root = mode.startswith("bubblewrap"), mode.endswith("-root")
    fresh = root and UNSHARE
    return [
        *([modes.MEMORY] if not (root and CGROUPS) else []),
        *([modes.DISK] if not (bubblewrap or fresh) else []),
        *([modes.FRESH] if not (bubblewrap or fresh) else []),
        *([modes.NETWORK] if not (bubblewrap or fresh) else []),
        *([modes.WRITES] if not (bubblewrap or fresh) else []),
        *([modes.YOURS] if not (bubblewrap or root) else []),
        *([modes.SHARED, modes.READS] if root and not bubblewrap else []),
    ]


def test_the_machine_this_runs_on_is_known():
    """As root here, cgroups and namespaces are there: the root-mode tests below contain."""
    if IS_ROOT and os.environ.get("DLGRADE_REQUIRE_BWRAP") == "1":
        assert CGROUPS and UNSHARE, "root without writable cgroups or unshare on a CI runner"


@pytest.mark.parametrize("strict", ISOLATIONS)
def test_the_sandbox_names_exactly_what_its_mode_cannot_enforce(strict):
    with Sandbox(strict=strict) as box:
        mode = box.mode
        assert mode == f"{'bubblewrap' if strict else 'rlimits'}-{'root' if IS_ROOT else 'user'}"
        assert box.unenforced == expected(mode)
        tail = ", ".join(expected(mode))
        assert modes.line(mode) == (
            f"sandbox: {modes.label(mode)} — "
            + (f"cannot enforce: {tail}" if tail else "every limit enforced")
        )


def check(mode: str, scratch: Path, *, as_json: bool) -> subprocess.CompletedProcess:
    """``dlgrade check 00 --solution`` in ``mode`` (bubblewrap, rlimits-root, rlimits-user)."""
    python_dir = str(Path(sys.executable).parent)
    home = scratch / f"home-{mode}"
    home.mkdir(mode=0o777, exist_ok=True)
    path = f"{python_dir}:/usr/bin:/bin" if mode == "bubblewrap" else python_dir
    env = {"PYTHONPATH": str(ROOT), "DLGRADE_HOME": str(home), "HOME": str(home)}
    env |= {"TMPDIR": str(scratch), "PATH": path, "COLUMNS": "200"}
    command = [sys.executable, "-m", "grader", "check", "00", "--solution"]
    command += ["--json"] if as_json else []
    if mode == "rlimits-user" and IS_ROOT:
        command = as_ordinary_user(command, path)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("strict", ISOLATIONS)
def test_a_worker_whose_cgroup_cannot_be_made_says_so(strict, monkeypatch):
    monkeypatch.setattr(cgroups, "for_worker", lambda name: None)
    with Sandbox(strict=strict) as box:
        box.load(WRITER, "honest.py", "honest.py")
        assert box.call("weighted_sum", [[1.0], [2.0]])[1].value == 2.0
        assert box.unenforced[0] == modes.MEMORY
        assert box.unenforced.count(modes.MEMORY) == 1


CHECK_MODES = [
    pytest.param("bubblewrap", marks=needs_bwrap(reason="bubblewrap is not installed")),
    pytest.param("rlimits-root"),
    pytest.param("rlimits-user"),
]


@pytest.mark.parametrize("mode", CHECK_MODES)
def test_dlgrade_check_prints_the_one_line_and_its_json_has_the_field(mode, tmp_path):
    if mode == "rlimits-root" and not IS_ROOT:
        mode = "rlimits-user"  # as an ordinary user, "root without bubblewrap" is this mode
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    scratch.chmod(0o777)
    tmp_path.chmod(0o755)
    done = check(mode, scratch, as_json=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stderr[-2000:]
    result = json.loads(lines[-1])
    who = "root" if IS_ROOT and mode != "rlimits-user" else "user"
    full = f"{mode.split('-')[0]}-{who}"
    assert result["mode"] == full, done.stderr
    assert result["unenforced"] == expected(full)
    text = check(mode, scratch, as_json=False)
    assert modes.line(full, expected(full)) in text.stdout, text.stdout + text.stderr


def _remove_what_the_writer_left() -> None:
    """Where the mode shares them (the documented gap), the test cleans up after itself."""
    import ctypes

    for path in ("/tmp/dlgrade-left", "/dev/shm/dlgrade-left"):
        with contextlib.suppress(OSError):
            os.unlink(path)
    libc = ctypes.CDLL(None, use_errno=True)
    shm = libc.shmget(0x5EED, 0, 0)
    if shm >= 0:
        libc.shmctl(shm, 0, None)  # IPC_RMID
    libc.mq_unlink(b"/dlgrade-left")


@pytest.mark.parametrize("strict", ISOLATIONS)
def test_a_writer_leaves_nothing_for_the_reader_graded_next_in_its_worker(strict):
    try:
        with Sandbox(strict=strict) as box:
            box.load(WRITER, "writer.py", "writer.py")
            assert box.call("leave", [])[1].value == [True, True]
            box.load(WRITER, "reader.py", "reader.py")
            found = box.call("find", [])[1].value
            shared = modes.FRESH in box.unenforced
        if not shared:
            assert found == []
            assert not Path("/tmp/dlgrade-left").exists()  # nor did it reach the machine
    finally:
        _remove_what_the_writer_left()


@pytest.mark.parametrize("strict", ISOLATIONS)
def test_six_forks_of_1_5_gib_under_a_2_gib_limit_stop_the_student_not_the_next(strict):
    limits = Limits(memory_mb=2048, call_timeout=60)
    with Sandbox(limits, strict=strict) as box:
        if modes.MEMORY in box.unenforced:
            # The documented gap: the address-space limit is per process. Six forks would
            # hold 9 GiB on a machine shared with other work, so the bomb is not set off.
            assert not box.mode.endswith("-root") or not CGROUPS
            return
        box.load(BOMB, "bomb.py", "bomb.py")
        with pytest.raises(LearnerCrashed, match=r"resource limit: .* memory limit of 2048 MB"):
            box.call("bomb", [])
        box.load(WRITER, "honest.py", "honest.py")
        assert box.call("weighted_sum", [[1.0, 2.0], [3.0, 4.0]])[1].value == 11.0


@pytest.mark.parametrize("strict", ISOLATIONS)
def test_a_3_gib_disk_filler_stops_at_the_cap_and_leaves_nothing_on_disk(strict):
    limits = Limits(disk_mb=64, tmp_mb=32, call_timeout=60)
    with Sandbox(limits, strict=strict) as box:
        if modes.DISK in box.unenforced:
            return  # the documented gap: no quota (the header says so); 3 GiB is not written
        for folder, cap in ((".", 64), ("/tmp", 32), ("/dev/shm", 32)):
            box.load(FILLER, "filler.py", "filler.py")
            written, errno = box.call("fill", [folder])[1].value
            assert errno == 28 and written <= cap << 20, (folder, written)  # ENOSPC at the cap
        assert list(box.workdir.iterdir()) == []
        assert not list(Path("/tmp").glob("filler-*"))
        box.load(WRITER, "honest.py", "honest.py")
        assert box.call("weighted_sum", [[1.0], [2.0]])[1].value == 2.0


@pytest.mark.parametrize("strict", ISOLATIONS)
def test_a_learner_cannot_raise_its_own_limits_or_leave_its_cgroup(strict):
    with Sandbox(strict=strict) as box:
        box.load(RAISE_OWN_LIMITS, "raise.py", "raise.py")
        tried, done = box.call("raise_limits", [])[1].value
        assert done == []
        if modes.MEMORY in box.unenforced:
            return
        if box.bwrap:  # the worker's cgroup folders are bound where the learner cannot look
            assert tried == ["/run/dlgrade-cgroup"]
        else:  # its own cgroup was found, and stayed shut
            assert any(t.endswith("memory.limit_in_bytes") for t in tried), tried
            assert any(t.endswith("cgroup.procs") for t in tried), tried


def test_without_bubblewrap_root_has_no_network_but_an_ordinary_user_has():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    body = (
        "import socket\ndef dial(port):\n    s = socket.socket()\n    s.settimeout(2)\n"
        "    try:\n        s.connect(('127.0.0.1', port))\n    except OSError as exc:\n"
        "        return type(exc).__name__\n    finally:\n        s.close()\n"
        "    return 'connected'\n"
    )
    try:
        with Sandbox(strict=False) as box:
            box.load(body, "dial.py", "dial.py")
            outcome = box.call("dial", [port])[1].value
            missing = box.unenforced
    finally:
        listener.close()
    assert (outcome == "connected") == (modes.NETWORK in missing), outcome


def test_exercise_limits_come_from_info_toml():
    from grader.course.info import load_course

    limits = {e.id: e.sandbox_limits() for e in load_course(ROOT).exercises}
    assert limits["00_weighted_sum"].disk_mb == 64 and limits["00_weighted_sum"].tmp_mb == 64
    assert limits["04_mnist_mlp"].disk_mb == 256 and limits["04_mnist_mlp"].tmp_mb == 256
    assert limits["04_mnist_mlp"].memory_mb == 8192


def _class(root: Path, mode: str) -> None:
    """Honest students, each after a hostile one the mode contains (none where it cannot)."""
    honest = solution("00_weighted_sum")
    hostile = {
        # Every call forks six 1.5 GiB blocks, then answers honestly.
        "a_bomb": honest + BOMB + "\n_honest = weighted_sum\n\n"
        "def weighted_sum(x, w, b=0.0):\n    bomb()\n    return _honest(x, w, b)\n",
        # 3 GiB into the work directory at import, in files under the file size limit.
        "c_filler": honest + "\nfor _i in range(3 << 6):\n"
        "    with open(f'filler-{_i}', 'wb') as _h:\n"
        "        for _ in range(16):\n            _h.write(b'x' * (1 << 20))\n",
    }
    if modes.MEMORY in expected(mode):
        del hostile["a_bomb"]  # not set off where it is not contained (documented gap)
    if modes.DISK in expected(mode):
        del hostile["c_filler"]
    write(root / "e_honest", {"00_weighted_sum.py": honest})
    for name, text in hostile.items():
        write(root / name, {"00_weighted_sum.py": text})
        write(root / f"{name[0]}_{name[2:]}_next", {"00_weighted_sum.py": honest})


@pytest.mark.parametrize(
    "sandbox",
    [pytest.param([], marks=needs_bwrap(reason="bubblewrap is not installed")), ["--no-sandbox"]],
    ids=["bubblewrap", "rlimits"],
)
def test_a_class_run_with_a_memory_bomb_and_a_disk_filler_scores_the_next_students_full(
    tmp_path, sandbox
):
    mode = f"{'rlimits' if sandbox else 'bubblewrap'}-{'root' if IS_ROOT else 'user'}"
    root, out = tmp_path / "class", tmp_path / "grades"
    _class(root, mode)
    work = Path(tempfile.mkdtemp(prefix="dlgrade-limits-", dir="/tmp"))
    work.chmod(0o755)  # the learner uid enters work directories below it (rlimits as root)
    env = {**os.environ, "DLGRADE_HOME": str(tmp_path / "home"), "TMPDIR": str(work)}
    command = [*grade_command(), str(root), "--out", str(out), "--json", "-e", "00"]
    command += ["--jobs", "1", "--timeout", "30", *sandbox]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["unenforced"] == {mode: expected(mode)}
    assert summary["sandbox"] == [modes.line(mode, expected(mode))]
    rows = {
        r["student"]: r["exercises"]["00_weighted_sum"]
        for r in json.loads((out / "results.json").read_text())["students"]
    }
    for student, result in rows.items():
        if student.endswith(("_next", "_honest")):
            assert result["score"] == result["max_score"] > 0, (student, result)
    if "a_bomb" in rows:
        # Each check that calls the bomb is stopped at the limit (or, on a busy machine,
        # runs out of the exercise's time budget); the file's other functions still score.
        bombed = [c for c in rows["a_bomb"]["checks"] if "weighted_sum" in c["name"]]
        stopped = [c for c in bombed if c["message"].startswith("resource limit:")]
        assert stopped, bombed
        assert all(c in stopped or c["status"] == "timeout" for c in bombed), bombed
    if "c_filler" in rows:
        assert rows["c_filler"]["score"] == 0  # ENOSPC at import: its own checks fail
    report = (out / "report.html").read_text()
    assert modes.line(mode, expected(mode)) in report
    assert not list(work.glob("dlgrade-work-*"))
    shutil.rmtree(work)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
