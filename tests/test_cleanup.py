"""What a learner leaves in its work directory cannot break cleanup, and uids are never shared."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from grader.sandbox import launch
from grader.sandbox.procs import remove_tree


def deep_tree(top: Path, depth: int) -> None:
    """A chain of ``depth`` nested folders, built by descriptor (its path exceeds PATH_MAX)."""
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=fd)
        child = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.close(fd)


def test_a_tree_3000_levels_deep_with_links_fifos_and_locked_folders_goes(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("mine")
    work = tmp_path / "work"
    deep_tree(work, 3000)
    (work / "out").symlink_to(outside)
    (work / "loop").symlink_to(".")
    os.mkfifo(work / "fifo")
    locked = work / "locked"
    (locked / "inner").mkdir(parents=True)
    (locked / "inner" / "file").write_text("x")
    locked.chmod(0)
    assert remove_tree(work) is True
    assert not work.exists()
    assert (outside / "keep").read_text() == "mine"


def test_a_symlink_given_as_the_tree_is_removed_not_followed(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "keep").write_text("mine")
    link = tmp_path / "link"
    link.symlink_to(target)
    assert remove_tree(link) is True
    assert not link.is_symlink() and (target / "keep").exists()


def test_what_cannot_be_removed_is_reported_not_raised(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root may remove anything; the ordinary-user run of this suite covers it")
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    (work / "sub" / "f").write_text("x")
    (work / "sub").chmod(0o500)  # listable, but nothing in it can be unlinked
    try:
        assert remove_tree(work) is False
    finally:
        (work / "sub").chmod(0o700)


@pytest.mark.skipif(os.geteuid() != 0, reason="learner uids are allocated only by root")
def test_concurrent_graders_never_share_a_learner_uid():
    code = (
        "from grader.sandbox import launch; import sys; print(launch.learner_uid(0)); "
        "sys.stdout.flush(); sys.stdin.read()"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(3)
    ]
    try:
        uids = [int(p.stdout.readline()) for p in procs]
        mine = launch.learner_uid(0)
        assert len({*uids, mine}) == 4
    finally:
        for p in procs:
            p.stdin.close()
            p.wait()
        launch.release_uid(mine)
    again = launch.learner_uid(0)
    launch.release_uid(again)
    assert again in uids or again == mine  # released uids are handed out again
