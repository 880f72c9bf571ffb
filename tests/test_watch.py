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


def test_polling_is_chosen_where_a_file_system_delivers_no_events(tmp_path, monkeypatch):
    from pathlib import Path

    from grader.cli import watching

    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/sda1 / ext4 rw 0 0\n"
        "server:/home /srv/course nfs4 rw 0 0\n"
        "C:\\134 /mnt/c 9p rw 0 0\n"
        "/dev/sdb1 /srv/course/local ext4 rw 0 0\n"
    )
    monkeypatch.setattr(watching, "MOUNTS", str(mounts))
    monkeypatch.delenv("WATCHFILES_FORCE_POLLING", raising=False)
    assert watching.file_system(Path("/srv/course/exercises")) == "nfs4"
    assert watching.file_system(Path("/srv/course/local/exercises")) == "ext4"
    assert watching.file_system(Path("/mnt/c/Users/me/course")) == "9p"
    assert watching.force_polling(Path("/srv/course/exercises"), None) is True
    assert watching.force_polling(Path("/srv/course/local"), None) is False
    assert watching.force_polling(Path("/srv/course/local"), True) is True
