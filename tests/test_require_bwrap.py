"""DLGRADE_REQUIRE_BWRAP=1 turns every bubblewrap skip into a failure (CI sets it).

Each test runs pytest in a subprocess whose PATH has no ``bwrap``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

SAMPLE = """
import pytest
from conftest import ISOLATIONS, needs_bwrap


@needs_bwrap
def test_marked():
    pass


@pytest.mark.parametrize("strict", ISOLATIONS)
def test_each_mode(strict):
    pass


def test_skips_inside():
    pytest.skip("bubblewrap cannot create its namespaces here")


def test_skips_for_another_reason():
    pytest.skip("no GPU")
"""


def pytest_in(folder: Path, *args: str, require: bool) -> subprocess.CompletedProcess:
    """pytest run in ``folder`` with bubblewrap hidden from PATH."""
    hidden = folder / "bin"
    hidden.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLGRADE_REQUIRE")}
    env |= {"PATH": str(hidden), "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    if require:
        env["DLGRADE_REQUIRE_BWRAP"] = "1"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", "-q", *args]
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    return tmp_path


def test_without_the_variable_bubblewrap_tests_skip_with_their_reason(sample):
    done = pytest_in(sample, "test_sample.py", require=False)
    assert done.returncode == 0, done.stdout
    assert "1 passed, 4 skipped" in done.stdout, done.stdout
    assert "bubblewrap is not installed" in done.stdout


def test_with_the_variable_every_bubblewrap_skip_fails_and_others_still_skip(sample):
    done = pytest_in(sample, "test_sample.py", require=True)
    assert done.returncode == 1, done.stdout
    # A marked test fails at setup (pytest counts it as an error), a skip inside a test fails.
    assert "1 failed, 1 passed, 1 skipped, 2 errors" in done.stdout, done.stdout
    for name in ("test_marked", "test_each_mode[bubblewrap]"):
        assert f"ERROR at setup of {name}" in done.stdout, done.stdout
    assert "DLGRADE_REQUIRE_BWRAP=1, but skipped: Skipped: bubblewrap cannot" in done.stdout
    assert "SKIPPED" in done.stdout and "no GPU" in done.stdout


def test_the_real_sandbox_suite_fails_for_a_missing_bubblewrap(tmp_path):
    test = f"{ROOT}/tests/test_sandbox.py::test_an_honest_call_returns_plain_data"
    done = pytest_in(tmp_path, "--rootdir", str(ROOT), test, require=True)
    assert done.returncode == 1, done.stdout
    assert "1 passed, 1 error" in done.stdout, done.stdout
    assert "DLGRADE_REQUIRE_BWRAP=1, but bubblewrap is not installed" in done.stdout
