"""Shared fixtures: every test gets its own dlgrade home (a real SQLite file in tmp_path)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
HAS_BWRAP = shutil.which("bwrap") is not None
# CI sets this where it installed bubblewrap: a test that needs it then fails, never skips.
REQUIRE_BWRAP = os.environ.get("DLGRADE_REQUIRE_BWRAP") == "1"
NO_BWRAP = "bubblewrap is not installed"
# Every test that cannot run without bubblewrap carries this mark (reason optional).
needs_bwrap = pytest.mark.needs_bwrap
ISOLATIONS = [
    pytest.param(True, id="bubblewrap", marks=needs_bwrap),
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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "needs_bwrap(reason): skip without bubblewrap; fail instead under DLGRADE_REQUIRE_BWRAP=1",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    mark = item.get_closest_marker("needs_bwrap")
    if mark is None or HAS_BWRAP:
        return
    reason = mark.kwargs.get("reason") or (mark.args[0] if mark.args else NO_BWRAP)
    if REQUIRE_BWRAP:
        pytest.fail(f"DLGRADE_REQUIRE_BWRAP=1, but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Under DLGRADE_REQUIRE_BWRAP=1, any skip that names bubblewrap is a failure too (a
    skip written without the mark, or raised inside a test, cannot hide a mode)."""
    outcome = yield
    report = outcome.get_result()
    if not (REQUIRE_BWRAP and not HAS_BWRAP and report.skipped):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if "bwrap" in reason or "bubblewrap" in reason:
        report.outcome = "failed"
        report.longrepr = f"DLGRADE_REQUIRE_BWRAP=1, but skipped: {reason}"


@pytest.fixture(autouse=True)
def dlgrade_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dlgrade-home"
    monkeypatch.setenv("DLGRADE_HOME", str(home))
    monkeypatch.delenv("DLGRADE_WORKSPACE", raising=False)
    return home


# As root, an ordinary user is made with setpriv, in a private mount namespace where the
# directories above the Python runtime can be entered (pyenv under /root, say): the host's
# permissions stay as they are.
AS_USER = r"""
set -e
prefix="$1"; path="$2"; shift 2
export PATH=/usr/bin:/bin:/usr/sbin:/sbin
blocked=""; p="$prefix"
while [ "$p" != "/" ]; do
  parent=$(dirname "$p")
  if [ "$parent" != "/" ] && [ "$(stat -c %A "$parent" | cut -c10)" != "x" ]; then
    blocked="$parent"; child="$p"
  fi
  p="$parent"
done
if [ -n "$blocked" ]; then
  keep=$(mktemp -d); mount --bind "$child" "$keep"
  mount -t tmpfs -o mode=0755 tmpfs "$blocked"; mkdir -p "$child"; mount --bind "$keep" "$child"
fi
exec setpriv --reuid=nobody --regid=nogroup --clear-groups env PATH="$path" "$@"
"""


def as_ordinary_user(command: list[str], path: str) -> list[str]:
    """``command`` run as ``nobody`` (from root), with ``path`` as its PATH."""
    prefix = os.path.realpath(sys.base_prefix)
    unshare = [shutil.which("unshare"), "--mount", "--propagation", "private"]
    return [*unshare, "/bin/sh", "-c", AS_USER, "sh", prefix, path, *command]
