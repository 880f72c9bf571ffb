"""Errors a user sees: one line naming the path and the fix, exit 2, never a traceback."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HAS_BWRAP, ROOT
from test_class_grade import run_grade, solution, write

from grader.course import store

NO_SANDBOX = () if HAS_BWRAP else ("--no-sandbox",)  # its warning would be a second line


def dlgrade(*args: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def one_line(done: subprocess.CompletedProcess, *fragments: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dlgrade: "), done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    done = dlgrade("init", "course", cwd=tmp_path, env={"DLGRADE_HOME": str(tmp_path / "h")})
    assert done.returncode == 0, done.stderr
    return tmp_path / "course"


@contextlib.contextmanager
def read_only(*paths: Path):
    """Paths nobody may write, root included (chattr +i), undone afterwards."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", *map(str, paths)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", *map(str, paths)], check=True)
    else:
        modes = {p: p.stat().st_mode for p in paths}
        for p in paths:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)


def test_an_unusable_dlgrade_home_is_one_line(workspace, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    done = dlgrade(
        "check", "00_weighted_sum", cwd=workspace, env={"DLGRADE_HOME": str(blocker / "x")}
    )
    one_line(done, str(blocker / "x"), "set DLGRADE_HOME")


def test_a_corrupt_progress_store_is_one_line(workspace, tmp_path):
    home = tmp_path / "corrupt"
    home.mkdir()
    (home / store.DB_NAME).write_bytes(b"this is not SQLite\n" * 100)
    for args in (("check", "00_weighted_sum"), ("hint", "00_weighted_sum"), ("list",)):
        done = dlgrade(*args, cwd=workspace, env={"DLGRADE_HOME": str(home)})
        one_line(done, str(home / store.DB_NAME), "move it aside")


def test_a_read_only_progress_store_is_one_line(workspace, tmp_path):
    home = tmp_path / "ro"
    assert dlgrade("list", cwd=workspace, env={"DLGRADE_HOME": str(home)}).returncode == 0
    for extra in home.glob(f"{store.DB_NAME}-*"):
        extra.unlink()
    with read_only(home / store.DB_NAME):
        done = dlgrade("hint", "00_weighted_sum", cwd=workspace, env={"DLGRADE_HOME": str(home)})
    one_line(done, str(home / store.DB_NAME), "writable")
    with read_only(home / store.DB_NAME, home):
        done = dlgrade("check", "00_weighted_sum", cwd=workspace, env={"DLGRADE_HOME": str(home)})
    one_line(done, str(home), "set DLGRADE_HOME")


def test_release_with_a_work_folder_learner_code_cannot_enter_is_one_line(tmp_path):
    """The cause of release's "status 70": learner uids could not enter $TMPDIR's parents."""
    closed = tmp_path / "closed"
    (closed / "tmp").mkdir(parents=True)
    closed.chmod(0o700)
    no_bwrap = tmp_path / "bin"
    no_bwrap.mkdir()
    env = {"TMPDIR": str(closed / "tmp"), "PATH": str(no_bwrap), "DLGRADE_HOME": str(tmp_path)}
    done = dlgrade("release", str(tmp_path / "kit"), "--skip-slow", cwd=ROOT, env=env)
    if os.geteuid() == 0:
        one_line(done, str(closed), "set TMPDIR")
        assert not (tmp_path / "kit").exists()
    else:  # no uid is dropped: the folder is ours, and the release goes through
        assert done.returncode == 0, done.stderr


def test_a_second_grade_into_the_same_out_is_refused(tmp_path):
    root, out = tmp_path / "class", tmp_path / "grades"
    write(root / "ann", {"00_weighted_sum.py": solution("00_weighted_sum")})
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from grader.core.atomic import out_lock\n"
            "with out_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)",
            str(out),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        done = run_grade(root, "--out", out, "-e", "00", *NO_SANDBOX, home=tmp_path / "h")
    finally:
        holder.kill()
        holder.wait()
    one_line(done, str(out), "another `dlgrade grade`")
    assert not (out / "gradebook.sqlite").exists()
    done = run_grade(root, "--out", out, "-e", "00", *NO_SANDBOX, "--json", home=tmp_path / "h")
    assert done.returncode == 0, done.stderr


@pytest.fixture(autouse=True)
def _no_leftover_kit(tmp_path):
    yield
    shutil.rmtree(tmp_path / "kit", ignore_errors=True)


def test_student_ids_with_markup_and_escapes_print_literally(tmp_path):
    """An id printed as Rich markup once ended `dlgrade similarity` in "internal error"
    (``eve[/b]``, which only a zip entry can spell; its markup is tested in test_boundary)."""
    root = tmp_path / "class"
    text = solution("00_weighted_sum")
    for name in ("eve[b]", "mallory\x1b[2J\x1b]0;owned\x07", "[bold]bob"):
        write(root / name, {"00_weighted_sum.py": text})
    done = dlgrade(
        "similarity", str(root), "--out", str(tmp_path / "sim"), cwd=tmp_path,
        env={"DLGRADE_HOME": str(tmp_path / "h"), "COLUMNS": "200"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "eve[b]" in done.stdout and "[bold]bob" in done.stdout and "mallory[2J" in done.stdout
    assert "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout
