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


@pytest.fixture(autouse=True)
def dlgrade_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dlgrade-home"
    monkeypatch.setenv("DLGRADE_HOME", str(home))
    monkeypatch.delenv("DLGRADE_WORKSPACE", raising=False)
    return home
