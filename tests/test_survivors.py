"""Nothing a learner starts outlives its child, in every mode, as root and as an ordinary user.

Each case grades a learner file that leaves something running (a ``setsid()`` daemon, a
double fork, a fork bomb, a daemon that ignores SIGTERM, one that ``exec``s another
program), ended four ways: the next student is loaded, the call times out (the sandbox
is stopped), the learner kills its worker, or the grader itself is killed mid-call. The
grading runs in a process of its own with a scratch TMPDIR that no other run uses, so
afterwards every process of that run can be found by name
(:func:`test_sandbox.marked_processes`) and none may be left. As root the ordinary-user
cases run as ``nobody`` (``conftest.as_ordinary_user``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from conftest import HAS_BWRAP, REQUIRE_BWRAP, ROOT, as_ordinary_user
from test_sandbox import marked_processes, uid_processes

ATTACKS = ("setsid_daemon", "double_fork", "fork_bomb", "ignores_sigterm", "exec_daemon")
ENDINGS = ("next_student", "timeout", "kills_worker", "grader_killed")
OUTCOMES = {"timeout": "LearnerTimeout", "kills_worker": "LearnerCrashed"}

LEARNER = """
import os, signal, sys, time

def _detach(body):
    if os.fork() == 0:
        try:
            body()
        finally:
            os._exit(0)

def setsid_daemon():
    def run():
        os.setsid()
        time.sleep(300)
    _detach(run)

def double_fork():
    def run():
        if os.fork() == 0:
            time.sleep(300)
    _detach(run)

def fork_bomb():
    def run():
        os.setsid()
        while True:
            try:
                os.fork()
            except OSError:
                time.sleep(0.01)
    _detach(run)

def ignores_sigterm():
    def run():
        os.setsid()
        for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(number, signal.SIG_IGN)
        while True:
            time.sleep(1)
    _detach(run)

def exec_daemon():
    def run():
        os.setsid()
        os.execv("/bin/sleep", ["sleep", "300"])
    _detach(run)

def attack(names, ending):
    for name in names:
        globals()[name]()
    time.sleep(0.3)  # let the detached processes get going
    if ending == "timeout":
        while True:
            pass
    if ending == "kills_worker":
        try:
            os.kill(os.getppid(), signal.SIGKILL)
        except PermissionError:
            return "protected"  # a learner uid may not signal a worker that runs as root
        time.sleep(5)
    return len(names)
"""

GRADING = textwrap.dedent(
    """
    import json, os, signal, sys, threading
    from grader.sandbox.errors import LearnerError
    from grader.sandbox.launch import Limits
    from grader.sandbox.runner import Sandbox

    def below(top):
        parents = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != b"Z":
                parents[int(pid)] = int(fields[1])
        tree = {top}
        while True:
            more = {p for p, parent in parents.items() if parent in tree} - tree
            if not more:
                return len(tree) - 1
            tree |= more

    # The next student forks too: what the last one left must not use up its process limit.
    NEXT = (
        "import os\\ndef double(x):\\n    pid = os.fork()\\n"
        "    if pid == 0:\\n        os._exit(0)\\n    os.waitpid(pid, 0)\\n    return 2 * x\\n"
    )
    learner, names, ending, strict = sys.argv[1], sys.argv[2].split(","), sys.argv[3], sys.argv[4]
    box = Sandbox(Limits(call_timeout=2, load_timeout=10), strict=strict == "bubblewrap")
    box.load(learner, "learner.py", "learner.py")
    if ending == "grader_killed":  # while the child spins, without closing anything
        threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGKILL)).start()
        ending = "timeout"
    why = ""
    try:
        outcome = box.call("attack", [names, ending])[1].value
    except LearnerError as exc:
        outcome, why = type(exc).__name__, str(exc)[:300]
    box.load(NEXT, "next.py", "next.py")
    left = below(box.proc.pid)  # the worker, the next child (and bwrap's init)
    following = box.call("double", [21])[1].value
    box.close()
    report = {"outcome": outcome, "why": why, "below": left, "next": following}
    print(json.dumps({**report, "uid": box.uid, "isolation": box.isolation}))
    """
)


def stop_all(token: str) -> None:
    """Stop, then kill, every process that names ``token`` (this run's own processes)."""
    for _ in range(50):
        found = marked_processes(token, wait=0)
        if not found:
            return
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in found:
                with contextlib.suppress(OSError):
                    os.kill(pid, sig)


def grade_in_a_run(names: list[str], ending: str, strict: str, ordinary: bool) -> dict:
    """Run the grading above in a process of its own; fail if any of its processes is left."""
    if strict == "bubblewrap" and not HAS_BWRAP:
        if REQUIRE_BWRAP:
            pytest.fail("DLGRADE_REQUIRE_BWRAP=1, but bubblewrap is not installed")
        pytest.skip("bubblewrap is not installed")
    scratch = Path(tempfile.mkdtemp(prefix="dlgrade-survivors-"))
    scratch.chmod(0o777)
    path = f"{Path(sys.executable).parent}:/usr/bin:/bin"
    env = {"PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1", "PATH": path}
    env |= {"HOME": str(scratch), "TMPDIR": str(scratch)}
    command = [sys.executable, "-c", GRADING, LEARNER, ",".join(names), ending, strict]
    if ordinary and os.geteuid() == 0:
        command = as_ordinary_user(command, path)
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        left = marked_processes(scratch.name)
    finally:
        stop_all(scratch.name)  # a failing case must not leave its processes to the next
        shutil.rmtree(scratch, ignore_errors=True)
    if ending == "grader_killed":
        assert done.returncode == -signal.SIGKILL, done.stdout[-3000:] + done.stderr[-3000:]
        assert left == [], f"{len(left)} processes of the run outlived its grader"
        return {}
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert left == [], f"{len(left)} processes of the run outlived it"
    if report["uid"] is not None:
        assert uid_processes(report["uid"]) == []
    # The attack got as far as its ending (a fork refused for want of processes would raise).
    expected = OUTCOMES.get(ending, len(names))
    if ending == "kills_worker" and report["uid"] is not None:
        expected = "protected"
    assert report["outcome"] == expected, report
    assert report["next"] == 42  # the next student is graded as usual
    assert report["isolation"] == strict
    limit = 3 if strict == "bubblewrap" else 2
    assert report["below"] <= limit, "something the first child left was still running"
    return report


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("attack", [*ATTACKS, "all"])
def test_nothing_survives_as_an_ordinary_user_without_bubblewrap(attack, ending):
    names = list(ATTACKS) if attack == "all" else [attack]
    grade_in_a_run(names, ending, "rlimits", ordinary=True)


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize(
    ("strict", "ordinary"),
    [
        pytest.param("rlimits", False, id="rlimits-as-this-user"),
        pytest.param("bubblewrap", False, id="bubblewrap-as-this-user"),
        pytest.param("bubblewrap", True, id="bubblewrap-as-an-ordinary-user"),
    ],
)
def test_nothing_survives_in_the_other_modes(strict, ordinary, ending):
    if ordinary and os.geteuid() != 0:
        pytest.skip("this user is already an ordinary user: the case above covers it")
    grade_in_a_run(list(ATTACKS), ending, strict, ordinary)


def test_the_two_ways_of_finding_descendants_agree_on_a_detached_tree():
    """The kernel's children lists and the whole /proc table find the same processes below a
    subreaper: a ``setsid()`` child, and a grandchild orphaned when its parent exited."""
    from grader.sandbox import procs

    script = (
        "import ctypes, os, sys, time\n"
        "ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)\n"  # a child subreaper, as the keeper is
        "if os.fork() == 0:\n    os.setsid()\n"
        "    if os.fork() == 0:\n        if os.fork() == 0:\n            time.sleep(60)\n"
        "        os._exit(0)\n    time.sleep(60)\n"
        "print('ready', flush=True)\ntime.sleep(60)\n"
    )
    top = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert top.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 5
        while len(procs._descendants_by_table(top.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(procs.descendants(top.pid)) == sorted(procs._descendants_by_table(top.pid))
        assert len(procs.descendants(top.pid)) >= 2
    finally:
        procs.kill_descendants(top.pid)
        top.kill()
        top.wait()
