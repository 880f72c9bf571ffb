"""`dlgrade release`: a kit of stubs and glossary, written only once the course is proven."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT
from solution_traces import leaks

from grader.classgrade import release as kit
from grader.cli import kit as cli_kit
from grader.cli.kit import release
from grader.course.info import Course, load_course


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def bodies(path: Path) -> set[str]:
    """Every function body of a file, docstring left out, whitespace squashed."""
    source = path.read_text(encoding="utf-8")
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef):
            body = node.body[1:] if ast.get_docstring(node) else node.body
            found.add(squash("\n".join(ast.get_source_segment(source, s) for s in body)))
    return found


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The real course released once, through the command, with --json."""
    out = tmp_path_factory.mktemp("release") / "kit"
    done = CliRunner().invoke(release, [str(out), "--skip-slow", "--json"])
    assert done.exit_code == 0, done.output
    return out, json.loads(done.stdout)


@pytest.fixture
def course_copy(tmp_path: Path) -> Course:
    """A private copy of the course (exercises, solutions, glossary) to break at will."""
    root = tmp_path / "course"
    for folder in ("exercises", "solutions", "glossary"):
        shutil.copytree(ROOT / folder, root / folder)
    return load_course(root)


def test_kit_holds_stubs_glossary_readme_and_workspace_config(released):
    out, summary = released
    course = load_course()
    for exercise in course.exercises:
        kit_stub = out / "exercises" / exercise.file_name
        assert kit_stub.read_bytes() == course.stub_path(exercise).read_bytes()
    assert (out / "exercises" / "info.toml").is_file()
    assert (out / "glossary" / "topics.toml").is_file()
    assert sorted((out / "glossary" / "terms").glob("*.toml"))
    readme = (out / "README.md").read_text(encoding="utf-8")
    for command in ("dlgrade check", "dlgrade hint", "dlgrade watch", "dlgrade quiz", "cards"):
        assert command in readme
    assert (out / "dlgrade.toml").is_file()
    assert summary["released"] is True and not summary["problems"]
    assert {v["exercise"] for v in summary["verified"]} == {e.id for e in course.exercises}
    assert sorted(summary["written"]) == sorted(
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()
    )


def question_texts() -> set[str]:
    """The texts of the question bank that give an answer away (answers, feedback, why)."""
    import tomllib

    found = set()
    for path in (ROOT / "glossary" / "questions").glob("*.toml"):
        for question in tomllib.loads(path.read_text(encoding="utf-8")).get("question", []):
            found |= {question.get("explanation", ""), str(question.get("answer", ""))}
            for key in ("wrong_values", "wrong_answers", "choices"):
                for item in question.get(key, []):
                    found.add(item.get("feedback", "") if isinstance(item, dict) else "")
    return {squash(t) for t in found if len(t) >= 40}


def test_kit_holds_no_answer_key_nor_the_answers_in_any_form(released):
    out, _summary = released
    assert not (out / "glossary" / "questions").exists()
    texts = question_texts()
    assert len(texts) > 50  # the bank really was read
    for path in out.rglob("*"):
        if path.is_file():
            text = squash(path.read_text(encoding="utf-8", errors="replace"))
            assert not [t for t in texts if t in text], path
            assert not path.stem.endswith("-key"), path  # no exported answer sheet key


def test_slow_exercise_is_marked_not_verified_with_skip_slow(released):
    _, summary = released
    slow = [e.id for e in load_course().exercises if e.id in kit.SLOW]
    assert summary["skipped"] == slow
    assert all(v["stub"] and v["solution"] for v in summary["verified"] if not v["skipped"])


def test_kit_has_no_solution_code(released):
    out, _ = released
    course = load_course()
    assert not (out / "solutions").exists() and not list(out.rglob("check_*.py"))
    given_by_stubs = set().union(*(bodies(course.stub_path(e)) for e in course.exercises))
    secret = set()
    for exercise in course.exercises:
        secret |= bodies(course.solution_path(exercise)) - given_by_stubs
    assert secret
    kit_texts = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    solutions = {course.solution_path(e).read_bytes() for e in course.exercises}
    for path, raw in kit_texts.items():
        assert raw not in solutions, path
        text = squash(raw.decode("utf-8"))
        leaked = [body for body in secret if body in text]
        assert not leaked, f"{path} contains solution code: {leaked[0][:80]}"
    assert leaks(course, out) == []  # no source, bytecode or pickle of a solution either


def test_kit_readme_says_checks_run_on_practice_cases(released):
    out, _ = released
    readme = squash((out / "README.md").read_text(encoding="utf-8"))
    assert "practice cases" in readme and "fresh cases" in readme


def test_check_inside_the_kit_reports_not_implemented(released, dlgrade_home):
    out, _ = released
    env = {**os.environ, "DLGRADE_HOME": str(dlgrade_home), "NO_COLOR": "1"}
    env.pop("DLGRADE_WORKSPACE", None)
    done = subprocess.run(
        [sys.executable, "-m", "grader", "check", "00_weighted_sum", "--json"],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["score"] == 0
    assert {c["status"] for c in result["checks"]} == {"not_implemented"}


def test_release_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    done = CliRunner().invoke(release, [str(tmp_path), "--skip-slow"])
    assert done.exit_code == 2
    assert "not empty" in done.output
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_release_refuses_a_broken_solution_and_a_solved_stub(course_copy, tmp_path, monkeypatch):
    broken = course_copy.solution_path(course_copy.get("00_weighted_sum"))
    broken.write_text(broken.read_text() + "\n\ndef weighted_sum(x, w, b=0.0):\n    return 0.0\n")
    solved = course_copy.get("01_activations")
    shutil.copyfile(course_copy.solution_path(solved), course_copy.stub_path(solved))
    monkeypatch.setattr(cli_kit, "load_course", lambda: course_copy)
    out = tmp_path / "kit"
    done = CliRunner().invoke(release, [str(out), "--skip-slow"])
    assert done.exit_code == 1
    reasons = [line for line in done.output.splitlines() if line.startswith("✗")]
    assert len(reasons) == 2
    assert "00_weighted_sum: the solution scores" in reasons[0]
    assert "01_activations: the stub scores" in reasons[1]
    assert "nothing was written" in done.output
    assert not out.exists()


def test_leak_check_finds_a_solution_body_outside_the_stubs():
    course = load_course()
    solution = course.solution_path(course.exercises[0]).read_bytes()
    assert kit.leaks(course, kit.kit_files(course)) == []
    found = kit.leaks(course, {"README.md": b"Spoiler:\n" + solution})
    assert found and all("README.md" in line for line in found)


def test_mnist_exercise_is_verified_in_quick_mode():
    """The one slow test: 04's stub fails and its solution passes with options={"quick": True}."""
    course = load_course()
    if "04_mnist_mlp" not in {e.id for e in course.exercises}:
        pytest.skip("04_mnist_mlp is not in exercises/info.toml yet")
    verdict = kit.verify_exercise(course, course.get("04_mnist_mlp"))
    assert verdict.problems == []
