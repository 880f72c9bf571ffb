"""The course loop, driven as a learner drives it: a real pseudo-terminal, real saves, real keys.

Saves are atomic renames, as editors make them, after the loop has printed its footer (its
watcher is running by then). Polling compares modification times to the second, so each
save carries its own distinct one. Every wait is pexpect's expect() with a generous timeout.
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path

import pexpect
import pytest
from conftest import FIXTURES, ROOT, patched_solution
from pexpect.popen_spawn import PopenSpawn
from test_cli import dlgrade

WAIT = int(os.environ.get("LOOP_WAIT", "120"))
VARIANTS = tomllib.loads((FIXTURES / "mistakes.toml").read_text())
BIAS_FORGOTTEN = patched_solution(
    "00_weighted_sum", VARIANTS["00_weighted_sum"]["bias_forgotten"]["patch"]
)


@pytest.fixture
def ws(tmp_path: Path, dlgrade_home: Path) -> Path:
    done = dlgrade("init", "course", cwd=tmp_path, home=dlgrade_home)
    assert done.returncode == 0, done.stderr
    return tmp_path / "course"


def save(ws: Path, exercise: str, text: str) -> None:
    """Write the learner file the way editors do: a new file renamed over the old one."""
    target = ws / "exercises" / f"{exercise}.py"
    staged = ws.parent / f"{exercise}.saving"
    staged.write_text(text)
    later = target.stat().st_mtime + 7  # a whole-second step the poller cannot miss
    os.utime(staged, (later, later))
    os.replace(staged, target)


def reference(exercise: str) -> str:
    return (ROOT / "solutions" / f"{exercise}.py").read_text()


def env(home: Path) -> dict[str, str]:
    return {**os.environ, "DLGRADE_HOME": str(home), "NO_COLOR": "1", "TERM": "xterm"}


def test_the_loop_at_a_terminal_fail_fix_pass_solution_next_hint_reset_quit(ws, dlgrade_home):
    child = pexpect.spawn(
        sys.executable,
        ["-m", "grader", "--poll"],
        cwd=str(ws),
        env=env(dlgrade_home),
        encoding="utf-8",
        timeout=WAIT,
        dimensions=(60, 100),
    )
    try:
        child.expect("exercise 1/")
        child.expect("Not started yet")
        child.expect("watching by polling")

        save(ws, "00_weighted_sum", BIAS_FORGOTTEN)
        child.expect("added 'bias' to your flashcards")
        child.expect("q quit")
        child.send("s")
        child.expect("the solution opens once your file passes")

        mine = "# my own version\n" + reference("00_weighted_sum")
        save(ws, "00_weighted_sum", mine)
        child.expect("00_weighted_sum passed")
        child.expect("your file → the reference")
        child.expect("-# my own version")
        child.expect("Press n for the next exercise: 01_activations")
        child.expect("q quit")

        child.send("n")
        child.expect("exercise 2/")
        child.expect("01_activations")
        child.expect("q quit")
        child.send("h")
        child.expect("hint 1/")
        child.expect("q quit")

        save(ws, "01_activations", "def step(z):\n    return 1\n")
        child.expect("01_activations: 0/")
        child.expect("q quit")
        child.send("r")
        child.expect("Reset 01_activations to its stub")
        child.send("y")
        child.expect("01_activations restored to its stub")
        child.expect("Not started yet")
        child.expect("q quit")
        child.send("q")
        child.expect("Stopped")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    backups = list((ws / ".dlgrade" / "backups").glob("01_activations-*.py"))
    assert [b.read_text() for b in backups] == ["def step(z):\n    return 1\n"]
    assert (ws / "exercises" / "01_activations.py").read_text() == (
        ROOT / "exercises" / "01_activations.py"
    ).read_text()
    listed = dlgrade("list", "--json", cwd=ws, home=dlgrade_home)
    rows = {r["exercise"]: r for r in json.loads(listed.stdout)["exercises"]}
    assert rows["00_weighted_sum"]["passed"] and rows["00_weighted_sum"]["solution"] == "seen"
    assert rows["01_activations"]["hints_seen"] == 1 and rows["01_activations"]["current"]


def test_next_before_a_pass_asks_first(ws, dlgrade_home):
    child = pexpect.spawn(
        sys.executable,
        ["-m", "grader", "--poll"],
        cwd=str(ws),
        env=env(dlgrade_home),
        encoding="utf-8",
        timeout=WAIT,
        dimensions=(60, 100),
    )
    try:
        child.expect("q quit")
        child.send("n")
        child.expect("00_weighted_sum has not passed yet. Move on anyway")
        child.send("x")  # anything but y stays
        child.expect("q quit")
        child.send("l")
        child.expect("Press 1-5 to open an exercise")
        child.send("3")
        child.expect("exercise 3/")
        child.expect("02_perceptron")
        child.expect("q quit")
        child.send("p")
        child.expect("exercise 2/")
        child.expect("q quit")
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


@pytest.mark.parametrize("command", [[], ["watch"]], ids=["dlgrade", "dlgrade-watch"])
def test_without_a_terminal_saves_are_rechecked_plainly(ws, dlgrade_home, command):
    child = PopenSpawn(
        [sys.executable, "-m", "grader", *command],
        cwd=str(ws),
        env=env(dlgrade_home),
        encoding="utf-8",
        timeout=WAIT,
    )
    try:
        child.expect("save a file to re-check it")
        child.expect("00_weighted_sum: 0/26 points")
        seen = child.before + child.after
        save(ws, "00_weighted_sum", reference("00_weighted_sum"))
        child.expect("00_weighted_sum passed: dlgrade solution 00_weighted_sum")
        seen += child.before + child.after
    finally:
        child.kill(2)  # Ctrl-C
        child.wait()
    assert "\x1b" not in seen and "q quit" not in seen


def test_without_a_workspace_plain_dlgrade_prints_the_help(tmp_path, dlgrade_home):
    done = dlgrade(cwd=tmp_path, home=dlgrade_home)
    words = " ".join(done.stdout.split())
    assert done.returncode == 0 and "Usage:" in words and "the course loop" in words
