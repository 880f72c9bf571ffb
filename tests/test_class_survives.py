"""Issue 12's "done means": the worst file in the folder changes nothing but its own score.

Each hostile file below is followed, in the same worker (``--jobs 1``), by an honest
classmate who must score full marks; the run exits as documented (0: everything graded)
and leaves no work directory behind. The same holds for two class runs at once, and the
class that zeroed honest students (a deep tree first, six honest students after it)
gives every honest student full marks with ``--jobs 1`` and ``--jobs 2``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from test_boundary_sandbox import NUMPY_RETURNS
from test_class_grade import grade_command, solution, write

from grader.sandbox.spawn import WORKDIR_PREFIX

DEEP_TREE = """

def _deep_tree():
    import os

    start = os.getcwd()
    for _ in range(3000):
        os.mkdir("d")
        os.chdir("d")
    os.chdir(start)


_deep_tree()
"""
FIFOS = """

def _fifos():
    import os

    names = [
        "00_weighted_sum.py", "01_activations.py", "02_perceptron.py", "03_backprop.py",
        "04_mnist_mlp.py", "train.npz", "model.keras", "history.json", "result.json",
    ]
    for folder in (os.getcwd(), "/tmp"):
        for name in names:
            try:
                os.mkfifo(os.path.join(folder, name))
            except OSError:
                pass


_fifos()
"""
HUGE_MESSAGE = """

def weighted_sum(x, w, b=0.0):
    raise type("E" * (150 << 20), (ValueError,), {})("m" * (150 << 20))
"""
EXIT_LOOP = """

def weighted_sum(x, w, b=0.0):
    import os
    import time

    started = time.monotonic()
    while True:
        if time.monotonic() - started > 0.3:
            os._exit(3)
"""
DAEMON = """

def _daemon():
    import os
    import time

    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            while True:
                time.sleep(0.05)
                with open("/tmp/daemon-was-here", "a") as handle:
                    handle.write("x")
        os._exit(0)


_daemon()
"""
MEMORY_ACROSS_FORKS = """

def weighted_sum(x, w, b=0.0):
    import os

    children = []
    for _ in range(6):
        pid = os.fork()
        if pid == 0:
            try:
                block = np.ones(80_000_000)  # 640 MB each, 3.8 GB together
                block[::512] = 2.0
                import time

                time.sleep(5)
            finally:
                os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    return float(np.dot(x, w) + b)
"""
DISK_FILLER = """

def _fill():
    chunk = b"x" * (1 << 20)
    for folder in (".", "/tmp"):
        try:
            with open(folder + "/filler.bin", "wb") as handle:
                for _ in range(3 << 10):
                    handle.write(chunk)
        except OSError:
            pass


_fill()
"""
HOSTILE = {
    "deep_tree": DEEP_TREE,
    "fifos": FIFOS,
    "huge_message": HUGE_MESSAGE,
    "numpy_scalars": None,
    "exit_loop": EXIT_LOOP,
    "setsid_daemon": DAEMON,
    "memory_across_forks": MEMORY_ACROSS_FORKS,
    "disk_filler": DISK_FILLER,
}


@pytest.fixture(autouse=True)
def private_tmp(tmp_path, monkeypatch):
    """Each run's work directories go to a TMPDIR of its own (other runs share /tmp); after
    the assertions it is removed with rm, which a 3000-deep tree cannot stop."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    yield folder
    subprocess.run(["rm", "-rf", str(folder)], check=False)


def workdirs() -> set[str]:
    return {p.name for p in Path(os.environ["TMPDIR"]).glob(f"{WORKDIR_PREFIX}*")}


def hostile_class(root: Path) -> list[str]:
    honest = solution("00_weighted_sum")
    students = []
    for name, tail in HOSTILE.items():
        text = NUMPY_RETURNS if tail is None else honest + tail
        write(root / f"{len(students):02d}_{name}", {"00_weighted_sum.py": text})
        write(root / f"{len(students) + 1:02d}_{name}_next", {"00_weighted_sum.py": honest})
        students += [name, f"{name}_next"]
    return students


def start(root: Path, out: Path, home: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*grade_command(), str(root), "--out", str(out), "--json", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DLGRADE_HOME": str(home)},
    )


def finish(proc: subprocess.Popen) -> tuple[int, dict, str]:
    stdout, stderr = proc.communicate(timeout=600)
    return proc.returncode, json.loads(stdout or "{}"), stderr


def scores(out: Path) -> dict[str, dict]:
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return {row["student"]: row["exercises"] for row in data["students"]}


def assert_honest_full(out: Path) -> None:
    for student, exercises in scores(out).items():
        if "honest" in student or student.endswith("_next"):
            for exercise, result in exercises.items():
                assert result["score"] == result["max_score"] > 0, (student, exercise, result)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_deep_tree_first_leaves_six_honest_classmates_full_marks(tmp_path, jobs):
    """The reproduction from issue 12.1 (honest students got 0/32 with an empty check list)."""
    root, out, before = tmp_path / "class", tmp_path / "grades", workdirs()
    files = {f"{e}.py": solution(e) for e in ("00_weighted_sum", "01_activations")}
    write(root / "a_deep", {name: text + DEEP_TREE for name, text in files.items()})
    for i in range(6):
        write(root / f"honest_{i}", files)
    code, summary, stderr = finish(
        start(
            root,
            out,
            tmp_path / "home",
            "-e",
            "00_weighted_sum",
            "-e",
            "01_activations",
            "--jobs",
            jobs,
            "--seed",
            "3",
        )
    )
    assert code == 0, stderr
    assert summary["grader_errors"] == [] and summary["attention"] == 0
    assert_honest_full(out)
    assert workdirs() <= before


def test_every_hostile_file_leaves_the_next_student_in_its_worker_full_marks(tmp_path):
    root, out, before = tmp_path / "class", tmp_path / "grades", workdirs()
    hostile_class(root)
    code, summary, stderr = finish(
        start(root, out, tmp_path / "home", "-e", "00", "--jobs", "1", "--timeout", "3")
    )
    assert code == 0, stderr
    assert summary["grader_errors"] == []
    assert_honest_full(out)
    results = scores(out)
    message = json.dumps(results)
    assert len(message) < 8 << 20  # no 150 MB message copied into checks or the gradebook
    assert len((out / "gradebook.sqlite").read_bytes()) < 8 << 20
    assert workdirs() <= before


def test_two_class_runs_at_once_on_one_machine(tmp_path):
    before = workdirs()
    runs = []
    for n in (1, 2):
        root = tmp_path / f"class{n}"
        hostile_class(root)
        runs.append(
            (
                tmp_path / f"grades{n}",
                start(
                    root,
                    tmp_path / f"grades{n}",
                    tmp_path / f"home{n}",
                    "-e",
                    "00",
                    "--jobs",
                    "1",
                    "--timeout",
                    "3",
                ),
            )
        )
    for out, proc in runs:
        code, summary, stderr = finish(proc)
        assert code == 0, stderr
        assert summary["grader_errors"] == []
        assert_honest_full(out)
    assert workdirs() <= before
