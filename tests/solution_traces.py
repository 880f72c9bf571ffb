"""Every form in which a reference solution could leak into a shipped file, and a scanner.

A trace is the solution file itself, any function body that is not in its stub (whitespace
squashed, docstring left out), or the bytecode of any of its functions (what a .pyc, a
marshalled or a pickled function would carry).
"""

from __future__ import annotations

import io
import re
import types
import zipfile
from pathlib import Path

from grader.classgrade.release import function_bodies
from grader.course.info import Course

MIN_BYTECODE = 48  # shorter instruction runs occur in unrelated functions too


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _code_objects(code: types.CodeType) -> list[types.CodeType]:
    found = [code]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found += _code_objects(const)
    return found


def traces(course: Course) -> dict[str, list[bytes | str]]:
    """Per exercise: the solution's bytes, its own function bodies and its functions' bytecode."""
    given = set()
    for exercise in course.exercises:
        given |= set(function_bodies(course.stub_path(exercise).read_text("utf-8")).values())
    found = {}
    for exercise in course.exercises:
        path = course.solution_path(exercise)
        source = path.read_text("utf-8")
        own = {name: b for name, b in function_bodies(source).items() if b not in given}
        bodies = [b for b in own.values() if len(b) > 20]
        code = compile(source, str(path), "exec")
        bytecode = [
            c.co_code
            for c in _code_objects(code)[1:]
            if c.co_name in own and len(c.co_code) >= MIN_BYTECODE
        ]
        found[exercise.id] = [path.read_bytes(), *bodies, *bytecode]
    return found


def _members(path: Path) -> dict[str, bytes]:
    if path.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(path) as archive:
            return {name: archive.read(name) for name in archive.namelist()}
    return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def leaks(course: Course, shipped: Path) -> list[str]:
    """Where a trace of a solution appears in ``shipped`` (a wheel, a zip or a folder)."""
    found, known = [], traces(course)
    members = _members(shipped)
    for name, raw in list(members.items()):
        if name.endswith((".whl", ".zip")):
            members |= {f"{name}!{k}": v for k, v in _members_bytes(raw).items()}
    for name, raw in members.items():
        if "solutions/" in f"/{name}" or name.endswith((".pickle", ".pkl")):
            found.append(f"{name}: a solution file, or pickled data")
        text = _squash(raw.decode("utf-8", "replace"))
        for exercise, items in known.items():
            for item in items:
                hit = _squash(item) in text if isinstance(item, str) else item in raw
                if hit:
                    found.append(f"{name}: holds part of {exercise}'s solution")
                    break
    return found


def _members_bytes(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
