"""`dlgrade grade --dask-scheduler`: the same grades from a real Dask cluster on loopback."""

from __future__ import annotations

import json
import sqlite3

import pytest
from conftest import needs_bwrap
from test_class_grade import buggy, run_grade, solution, without_timing, write

distributed = pytest.importorskip("distributed")
pytestmark = needs_bwrap(reason="class grading is strict: needs bwrap")


@pytest.fixture(scope="module")
def scheduler():
    cluster = distributed.LocalCluster(
        processes=True,
        n_workers=2,
        threads_per_worker=1,
        dashboard_address=None,
        host="127.0.0.1",
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def small_class(root):
    write(
        root / "alice",
        {
            "00_weighted_sum.py": solution("00_weighted_sum"),
            "01_activations.py": solution("01_activations"),
        },
    )
    write(
        root / "bob",
        {
            "00_weighted_sum.py": buggy("00_weighted_sum"),
            "01_activations.py": buggy("01_activations"),
        },
    )
    write(root / "-carol", {"00_weighted_sum.py": "raise SystemExit(0)\n"})
    write(root / "dan", {"01_activations.py": solution("01_activations")})
    return root


def test_a_dask_cluster_grades_like_the_local_pool_and_resumes(scheduler, tmp_path):
    root = small_class(tmp_path / "class")
    common = ("--exercise", "00", "--exercise", "01", "--seed", "11", "--json")
    local = run_grade(
        root, "--out", tmp_path / "local", "--jobs", "2", *common, home=tmp_path / "home"
    )
    assert local.returncode == 0, local.stderr
    remote = run_grade(
        root,
        "--out",
        tmp_path / "dask",
        "--dask-scheduler",
        scheduler,
        *common,
        home=tmp_path / "home",
    )
    assert remote.returncode == 0, remote.stderr
    assert json.loads(remote.stdout)["run"]["backend"] == "dask"
    for name in ("grades.csv", "canvas.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()

    def results(folder):
        return without_timing(json.loads((folder / "results.json").read_text(encoding="utf-8")))

    assert results(tmp_path / "dask") == results(tmp_path / "local")
    with sqlite3.connect(tmp_path / "dask" / "gradebook.sqlite") as conn:
        conn.execute("DELETE FROM results WHERE student IN ('alice', 'bob')")
    resumed = run_grade(
        root,
        "--out",
        tmp_path / "dask",
        "--resume",
        "--dask-scheduler",
        scheduler,
        "--json",
        home=tmp_path / "home",
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["run"]["graded"] == 4
    assert results(tmp_path / "dask") == results(tmp_path / "local")
