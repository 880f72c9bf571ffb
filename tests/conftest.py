"""Shared fixtures: every test gets its own dlgrade home (a real SQLite file in tmp_path)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
HAS_BWRAP = shutil.which("bwrap") is not None
ISOLATIONS = [
    pytest.param(
        True,
        id="bubblewrap",
        marks=pytest.mark.skipif(not HAS_BWRAP, reason="bubblewrap is not installed"),
    ),
    pytest.param(False, id="rlimits"),
]


def patched_solution(exercise_id: str, patch: list[dict[str, str]]) -> str:
    """The reference solution with each edit's ``old`` text (standing exactly once) replaced
    by its ``new`` text: how the buggy and hostile variants in fixtures/*.toml are written."""
    source = (ROOT / "solutions" / f"{exercise_id}.py").read_text()
    assert patch, f"{exercise_id}: a variant without edits is the solution itself"
    for edit in patch:
        count = source.count(edit["old"])
        assert count == 1, f"{exercise_id}: an edit's old text stands {count} times, not once"
        source = source.replace(edit["old"], edit["new"])
    return source


@pytest.fixture(autouse=True)
def dlgrade_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dlgrade-home"
    monkeypatch.setenv("DLGRADE_HOME", str(home))
    monkeypatch.delenv("DLGRADE_WORKSPACE", raising=False)
    return home
