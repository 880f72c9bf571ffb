"""`dlgrade watch` re-checks an exercise when its file is saved."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from conftest import ROOT


def read_json_line(proc: subprocess.Popen, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.strip().startswith("{"):
            return json.loads(line)
    raise AssertionError("no result from watch in time")


def test_watch_checks_at_start_and_again_after_a_save(tmp_path, dlgrade_home):
    env = {**os.environ, "DLGRADE_HOME": str(dlgrade_home)}
    subprocess.run(
        [sys.executable, "-m", "grader", "init", "ws"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    ws = tmp_path / "ws"
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader", "watch", "00_weighted_sum", "--json"],
        cwd=ws,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = read_json_line(proc, 60)
        assert first["exercise"] == "00_weighted_sum" and first["score"] == 0
        time.sleep(0.5)
        (ws / "exercises" / "00_weighted_sum.py").write_text(
            (ROOT / "solutions" / "00_weighted_sum.py").read_text()
        )
        second = read_json_line(proc, 60)
        assert second["passed"] is True
    finally:
        proc.terminate()
        proc.wait(timeout=10)
