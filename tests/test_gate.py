"""The concept gate (``concept_gate = true`` in info.toml): ``check`` grades an exercise's code
only once its concept questions were each answered, right or wrong, and asks them first at a
terminal. The course's own info.toml leaves it off."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from conftest import ROOT
from test_cli import dlgrade

from grader.cli.gate import GATED
from grader.core.errors import InputError
from grader.course.info import load_course
from grader.study.content import load_content

# dlgrade with the course's gate turned on (the bundled info.toml has it off)
GATED_DLGRADE = """
import dataclasses, sys
import grader.cli.main as cli
from grader.course.info import load_course
course = dataclasses.replace(load_course(), concept_gate=True)
cli.load_course = lambda root=None: course
sys.argv = ["dlgrade", *sys.argv[1:]]
cli.main()
"""
QUESTIONS = [q for q in load_content().questions.values() if "00_weighted_sum" in q.exercises]
ANSWERS = {  # what the prompt's hint asks for -> an answer of that kind (right or wrong)
    "(one letter)": "A",
    "(all correct letters, e.g. A,C)": "A",
    "(true or false)": "true",
    "(a number)": "1",
    "(a word or phrase)": "neuron",
}


@pytest.fixture
def ws(tmp_path: Path, dlgrade_home: Path) -> Path:
    assert dlgrade("init", "course", cwd=tmp_path, home=dlgrade_home).returncode == 0
    return tmp_path / "course"


def env(home: Path, columns: int = 100) -> dict[str, str]:
    return {**os.environ, "DLGRADE_HOME": str(home), "NO_COLOR": "1", "COLUMNS": str(columns)}


def gated(*args: str, cwd: Path, home: Path, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", GATED_DLGRADE, *args],
        cwd=cwd,
        env=env(home),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def course_with(tmp_path: Path, setting: str) -> Path:
    root = tmp_path / f"course-{len(list(tmp_path.iterdir()))}"
    (root / "exercises").mkdir(parents=True)
    text = (ROOT / "exercises" / "info.toml").read_text()
    assert "concept_gate = false" in text
    (root / "exercises" / "info.toml").write_text(text.replace("concept_gate = false", setting))
    return root


def test_the_setting_is_read_from_info_toml_and_off_by_default(tmp_path):
    assert load_course().concept_gate is False
    assert load_course(course_with(tmp_path, "concept_gate = true")).concept_gate is True
    with pytest.raises(InputError, match="concept_gate must be true or false"):
        load_course(course_with(tmp_path, 'concept_gate = "yes"'))


def test_the_gate_blocks_check_until_the_questions_were_answered_once(ws, dlgrade_home):
    assert len(QUESTIONS) > 1
    blocked = gated("check", "00_weighted_sum", "--json", cwd=ws, home=dlgrade_home)
    assert blocked.returncode == 2 and blocked.stdout == ""
    message = GATED.format(id="00_weighted_sum", n=len(QUESTIONS))
    assert blocked.stderr == f"dlgrade: {message}\n"

    # answering all but one keeps it closed; wrong answers count as answered
    first = ",".join(q.id for q in QUESTIONS[:-1])
    answers = "nonsense\n" * (len(QUESTIONS) - 1)
    dlgrade("quiz", "--ids", first, "--json", cwd=ws, home=dlgrade_home, stdin=answers)
    still = gated("check", "00_weighted_sum", cwd=ws, home=dlgrade_home)
    assert still.returncode == 2 and "answer its 1 concept question(s)" in still.stderr

    dlgrade("quiz", "--ids", QUESTIONS[-1].id, cwd=ws, home=dlgrade_home, stdin="nonsense\n")
    through = gated("check", "00_weighted_sum", "--json", cwd=ws, home=dlgrade_home)
    assert through.returncode == 1, through.stderr
    assert json.loads(through.stdout)["exercise"] == "00_weighted_sum"
    # without the gate, check grades at once
    assert dlgrade("check", "00_weighted_sum", cwd=ws, home=dlgrade_home).returncode == 1


def test_at_a_terminal_check_asks_the_questions_first_then_grades(ws, dlgrade_home):
    child = pexpect.spawn(
        sys.executable,
        ["-c", GATED_DLGRADE, "check", "00_weighted_sum"],
        cwd=str(ws),
        env=env(dlgrade_home, columns=400),  # each question's prompt on one line
        encoding="utf-8",
        timeout=120,
        dimensions=(60, 400),
    )
    kinds = [re.escape(hint) for hint in ANSWERS]
    try:
        child.expect(f"{len(QUESTIONS)} concept question")
        for _ in QUESTIONS:
            answer = list(ANSWERS.values())[child.expect(kinds)]
            child.expect("Your answer")
            child.sendline(answer)
        child.expect("00_weighted_sum: 0/26 points")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 1


def test_quitting_the_questions_at_a_terminal_leaves_the_gate_closed(ws, dlgrade_home):
    child = pexpect.spawn(
        sys.executable,
        ["-c", GATED_DLGRADE, "check", "00_weighted_sum"],
        cwd=str(ws),
        env=env(dlgrade_home, columns=400),  # each question's prompt on one line
        encoding="utf-8",
        timeout=120,
        dimensions=(60, 400),
    )
    try:
        child.expect("Your answer")
        child.sendline("q")
        child.expect("answer its")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 2
