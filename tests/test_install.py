"""dlgrade from a built wheel, outside the clone: no solutions inside, practice cases only."""

from __future__ import annotations

import json
import os
import py_compile
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from solution_traces import leaks

from grader.course.info import load_course
from grader.grading.practice import PRACTICE, load_pool


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "-w", str(dist), str(ROOT)], check=True)
    return next(dist.glob("dlgrade-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed into its own folder (no dependencies: the test venv has them)."""
    target = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target)]
    subprocess.run([*pip, str(wheel)], check=True)
    return target


def run(installed: Path, *args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(installed), "DLGRADE_HOME": str(home)}
    env.pop("DLGRADE_SOLUTIONS", None)
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_wheel_carries_the_course_and_its_practice_pools(installed):
    course = installed / "grader" / "_course"
    for folder in ("exercises", "glossary", "practice"):
        assert (course / folder).is_dir()
    assert (course / "exercises" / "info.toml").is_file()
    assert (course / "practice" / "00_weighted_sum.json").is_file()
    assert (installed / "grader" / "checks" / "check_00_weighted_sum.py").is_file()
    assert not (course / "solutions").exists()


def test_no_trace_of_a_solution_in_the_wheel_or_the_installed_tree(wheel, installed):
    course = load_course()
    assert leaks(course, wheel) == []
    assert leaks(course, installed) == []


def test_the_scanner_finds_a_solution_as_source_bytecode_or_inside_a_zip(tmp_path, wheel):
    """The scan above can fail: each way of smuggling a solution in is caught."""
    course = load_course()
    solution = ROOT / "solutions" / "02_perceptron.py"
    (tmp_path / "notes.txt").write_text("see:\n" + solution.read_text())
    py_compile.compile(str(solution), cfile=str(tmp_path / "helpers.bin"))
    found = leaks(course, tmp_path)
    assert any(line.startswith("notes.txt") for line in found)
    assert any(line.startswith("helpers.bin") for line in found)


def test_check_from_the_wheel_grades_practice_cases(installed, tmp_path, dlgrade_home):
    """A correct file scores full on the pool's cases; the stub scores zero; both say so."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    done = run(installed, "init", "ws", cwd=outside, home=dlgrade_home)
    assert done.returncode == 0, done.stderr
    ws = outside / "ws"
    stub = run(installed, "check", "00_weighted_sum", "--json", cwd=ws, home=dlgrade_home)
    assert stub.returncode == 1 and json.loads(stub.stdout)["score"] == 0
    (ws / "exercises" / "00_weighted_sum.py").write_text(
        (ROOT / "solutions" / "00_weighted_sum.py").read_text()
    )
    seeds = set(load_pool(load_course(), load_course().get("00_weighted_sum")).seeds)
    for _ in range(2):
        solved = run(installed, "check", "00_weighted_sum", "--json", cwd=ws, home=dlgrade_home)
        assert solved.returncode == 0, solved.stdout + solved.stderr
        result = json.loads(solved.stdout)
        assert result["passed"] is True and result["score"] == result["max_score"]
        assert result["cases"] == PRACTICE and result["seed"] in seeds
    shown = run(installed, "check", "00_weighted_sum", cwd=ws, home=dlgrade_home)
    assert "practice cases" in shown.stdout


def test_a_seed_outside_the_pool_is_refused_in_one_line(installed, tmp_path, dlgrade_home):
    learner = tmp_path / "00_weighted_sum.py"
    learner.write_text((ROOT / "solutions" / "00_weighted_sum.py").read_text())
    done = run(
        installed, "check", "--path", str(learner), "--seed", "5", cwd=tmp_path, home=dlgrade_home
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "not a practice seed" in done.stderr


def test_solution_without_solutions_says_where_they_live(installed, tmp_path, dlgrade_home):
    done = run(installed, "check", "00_weighted_sum", "--solution", cwd=tmp_path, home=dlgrade_home)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1
    assert "no reference solutions" in done.stderr and "solutions/" in done.stderr


def test_class_grading_refuses_an_install_without_solutions(installed, tmp_path, dlgrade_home):
    (tmp_path / "subs" / "ada").mkdir(parents=True)
    out = tmp_path / "grades"
    done = run(installed, "grade", "subs", "--out", str(out), cwd=tmp_path, home=dlgrade_home)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no reference solutions" in done.stderr and not out.exists()
