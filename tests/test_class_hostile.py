"""Hostile submissions in class mode: each is contained, honest classmates keep full marks.

Every hostile file implements exercise 00 with an honest dense_forward and count_parameters
and a hostile weighted_sum (tests/fixtures/hostile, plus a few generated here that aim at
this run's real paths). Each honest classmate sorts right after a hostile file, so it is
graded next in the same warm sandbox. touches_others reads and writes the exact paths of this
run (gradebook, a classmate's file, the solution, the checks), a stronger form of
reads_solution's file-system walk.
"""

from __future__ import annotations

import hashlib
import json
import socket
import sqlite3
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, needs_bwrap
from test_class_grade import run_grade, solution, write
from test_sandbox import uid_processes

from grader.course.paths import CHECKS_DIR
from grader.sandbox.launch import BASE_UID, UID_RANGE

HOSTILE = FIXTURES / "hostile"
LEARNER_UIDS = range(BASE_UID, BASE_UID + UID_RANGE)
HONEST_TAIL = """

def dense_forward(X, W, b):
    return np.asarray(X, dtype=float) @ np.asarray(W, dtype=float) + np.asarray(b, dtype=float)

def count_parameters(layer_sizes, include_biases=True):
    pairs = zip(layer_sizes[:-1], layer_sizes[1:])
    return sum(a * c + (c if include_biases else 0) for a, c in pairs)
"""
TOUCHES = """import os

import numpy as np

TARGETS = {targets!r}


def weighted_sum(x, w, b=0.0):
    hits = []
    for path in TARGETS:
        for mode in ("rb", "ab"):
            try:
                with open(path, mode) as handle:
                    if mode == "ab":
                        handle.write(b"# changed by a classmate")
                hits.append(mode + " " + path)
            except OSError:
                pass
    for folder in {folders!r}:
        try:
            with open(os.path.join(folder, "planted.py"), "w") as handle:
                handle.write("planted")
            hits.append("planted in " + folder)
        except OSError:
            pass
    if hits:
        raise RuntimeError("REACHED: " + ", ".join(hits))
    return float(np.dot(x, w) + b)
"""
IMPORTS = """import importlib.util
import sys

import numpy as np

REPO = {repo!r}


def weighted_sum(x, w, b=0.0):
    found = []
    sys.path.insert(0, REPO)
    for name in ("grader.grading.engine", "grader.checks.check_00_weighted_sum", "solutions"):
        try:
            __import__(name)
            found.append(name)
        except Exception:
            pass
    try:
        spec = importlib.util.spec_from_file_location("ref", REPO + "/solutions/00_weighted_sum.py")
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        found.append("the solution file")
    except Exception:
        pass
    if found:
        raise RuntimeError("IMPORTED: " + ", ".join(found))
    return float(np.dot(x, w) + b)
"""
NETWORK = """import socket

import numpy as np


def weighted_sum(x, w, b=0.0):
    for host, port in (("127.0.0.1", {port}), ("1.1.1.1", 53)):
        try:
            connection = socket.create_connection((host, port), timeout=0.5)
        except OSError:
            continue
        connection.sendall(b"from a submission")
        raise RuntimeError("CONNECTED to " + host)
    return float(np.dot(x, w) + b)
"""
CONTAINED = ("daemon", "writes_files", "touches_others", "imports_solution", "network")
BEATEN = {
    "infinite_loop": {"timeout"},
    "memory_bomb": {"error", "crashed", "timeout", "failed"},
    "fork_bomb": {"error", "crashed", "timeout", "failed"},
    "exits": {"crashed"},
    "sys_exit": {"error", "failed"},
    "kills_parent": {"error", "crashed", "failed"},
    "patches": {"failed"},
    "equals_anything": {"failed"},
    "fake_output": {"failed"},
    "import_error": {"error"},
}


def tree_digest(*folders: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in folders
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink() and "__pycache__" not in p.parts
    }


def build_hostile_class(root: Path, out: Path, port: int) -> None:
    honest = solution("00_weighted_sum")
    write(root / "a_honest", {"00_weighted_sum.py": honest})
    write(root / "z_honest", {"00_weighted_sum.py": honest})
    for name in [*BEATEN, "daemon", "writes_files"]:
        write(root / name, {"00_weighted_sum.py": (HOSTILE / f"{name}.py").read_text()})
    targets = [
        str(out / "gradebook.sqlite"),
        str(root / "z_honest" / "00_weighted_sum.py"),
        str(ROOT / "solutions" / "00_weighted_sum.py"),
        str(CHECKS_DIR / "check_00_weighted_sum.py"),
        str(ROOT / "exercises" / "info.toml"),
    ]
    folders = [str(root / "z_honest"), str(out), str(CHECKS_DIR), str(ROOT)]
    generated = {
        "touches_others": TOUCHES.format(targets=targets, folders=folders),
        "imports_solution": IMPORTS.format(repo=str(ROOT)),
        "network": NETWORK.format(port=port),
    }
    for name, text in generated.items():
        write(root / name, {"00_weighted_sum.py": text + HONEST_TAIL})
    for name in [*BEATEN, *CONTAINED]:
        write(root / f"{name}_next", {"00_weighted_sum.py": honest})


def scores(out: Path) -> dict[str, dict]:
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return {row["student"]: row["exercises"]["00_weighted_sum"] for row in data["students"]}


@needs_bwrap(reason="bubblewrap is not installed")
def test_hostile_submissions_are_contained_and_classmates_keep_full_marks(tmp_path):
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    root, out = tmp_path / "class", tmp_path / "grades"
    build_hostile_class(root, out, listener.getsockname()[1])
    guarded = (root, ROOT / "solutions", ROOT / "exercises", CHECKS_DIR)
    before = tree_digest(*guarded)
    done = run_grade(
        root,
        "--out",
        out,
        "--exercise",
        "00",
        "--jobs",
        "2",
        "--timeout",
        "2",
        "--seed",
        "3",
        "--json",
        home=tmp_path / "home",
    )
    assert done.returncode == 0, done.stderr
    results = scores(out)
    honest = [s for s in results if s.endswith(("_next", "_honest"))]
    assert len(honest) == len(BEATEN) + len(CONTAINED) + 2
    assert {s: results[s]["score"] for s in honest} == {s: 26 for s in honest}
    for name in CONTAINED:
        failed = [c["message"] for c in results[name]["checks"] if not c["passed"]]
        assert results[name]["score"] == 26, (name, failed)
    for name, statuses in BEATEN.items():
        hostile = [c for c in results[name]["checks"] if c["name"].startswith("weighted_sum")]
        assert not any(c["passed"] for c in hostile), name
        assert {c["status"] for c in hostile} <= statuses, name
    assert tree_digest(*guarded) == before
    assert not Path("/tmp/dlgrade-planted").exists()
    with pytest.raises(BlockingIOError):
        listener.accept()
    with sqlite3.connect(out / "gradebook.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM results").fetchone()[0] == len(results)
    assert uid_processes(LEARNER_UIDS) == []


def test_without_bubblewrap_honest_classmates_still_keep_full_marks(tmp_path):
    root, out = tmp_path / "class", tmp_path / "grades"
    honest = solution("00_weighted_sum")
    for name in ("daemon", "fork_bomb", "kills_parent", "infinite_loop"):
        write(root / name, {"00_weighted_sum.py": (HOSTILE / f"{name}.py").read_text()})
        write(root / f"{name}_next", {"00_weighted_sum.py": honest})
    done = run_grade(
        root,
        "--out",
        out,
        "--exercise",
        "00",
        "--jobs",
        "2",
        "--timeout",
        "2",
        "--no-sandbox",
        "--json",
        home=tmp_path / "home",
    )
    assert done.returncode == 0, done.stderr
    results = scores(out)
    assert [
        results[f"{n}_next"]["score"]
        for n in ("daemon", "fork_bomb", "kills_parent", "infinite_loop")
    ] == [26, 26, 26, 26]
    assert results["daemon"]["score"] == 26
    assert results["infinite_loop"]["status"] == "timeout"
    assert uid_processes(LEARNER_UIDS) == []
