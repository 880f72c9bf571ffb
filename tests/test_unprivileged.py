"""The sandbox and hostile suites, run a second time as an ordinary user.

A learner's laptop, a CI runner that is not root and many hosted notebooks grade as an
ordinary user: no uid drop, no mount tricks of root's. As root, this test re-runs those
suites as ``nobody`` (through setpriv, in a private mount namespace that makes the Python
runtime reachable), so every run of the suite covers that mode too, and then checks that
no process of that run is left.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT, as_ordinary_user
from test_sandbox import marked_processes

SUITES = [
    "tests/test_sandbox.py",
    "tests/test_hostile.py",
    "tests/test_cleanup.py",
    "tests/test_limits.py",
]


@pytest.mark.skipif(os.geteuid() != 0, reason="already running as an ordinary user")
def test_the_sandbox_and_hostile_suites_pass_as_an_ordinary_user():
    if not (shutil.which("unshare") and shutil.which("setpriv")):
        pytest.fail("unshare and setpriv (util-linux) are needed to test as an ordinary user")
    scratch = Path(tempfile.mkdtemp(prefix="dlgrade-unprivileged-"))
    scratch.chmod(0o777)
    try:
        env = {
            "PYTHONPATH": str(ROOT),
            "PYTHONDONTWRITEBYTECODE": "1",
            "HOME": str(scratch),
            "TMPDIR": str(scratch),
            **{k: v for k, v in os.environ.items() if k.startswith("DLGRADE_REQUIRE")},
        }
        path = f"{Path(sys.executable).parent}:/usr/bin:/bin"
        pytest_cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITES]
        done = subprocess.run(
            as_ordinary_user(pytest_cmd, path),
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        # Every work directory, worker and learner process of the run names the scratch
        # folder (its TMPDIR): none may outlive the suite.
        left = marked_processes(scratch.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    tail = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, tail
    assert " passed" in done.stdout and " failed" not in done.stdout, tail
    assert left == [], f"{len(left)} processes of the ordinary user's run outlived it"
