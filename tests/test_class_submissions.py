"""Discovery of an LMS download: every student found, nothing unsafe followed or extracted."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

from conftest import ROOT

from grader.classgrade.submissions import (
    FILE_LIMIT,
    ZIP_MAX_ENTRIES,
    discover,
    read_folder,
    read_zip,
    student_id,
)

WANTED = ["00_weighted_sum.py", "01_activations.py", "02_perceptron.py"]
SOLUTION = (ROOT / "solutions" / "00_weighted_sum.py").read_bytes()


def make_zip(path: Path, entries: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    path.write_bytes(buffer.getvalue())
    return path


def files_under(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")}


def test_files_are_found_directly_or_under_exercises(tmp_path):
    (tmp_path / "exercises").mkdir()
    (tmp_path / "00_weighted_sum.py").write_bytes(b"a = 1\n")
    (tmp_path / "exercises" / "01_activations.py").write_bytes(b"b = 2\n")
    (tmp_path / "notes.txt").write_text("not taken")
    found = read_folder(tmp_path, WANTED)
    assert found.files == {"00_weighted_sum.py": b"a = 1\n", "01_activations.py": b"b = 2\n"}
    assert not found.notes


def test_a_zip_is_read_in_memory_with_or_without_a_top_folder(tmp_path):
    make_zip(
        tmp_path / "ann.zip",
        {
            "ann/exercises/00_weighted_sum.py": SOLUTION,
            "ann/02_perceptron.py": b"p = 1\n",
            "ann/other/deep/01_activations.py": b"too deep\n",
        },
    )
    before = files_under(tmp_path)
    found = read_zip(tmp_path / "ann.zip", WANTED)
    assert found.student == "ann"
    assert found.files == {"00_weighted_sum.py": SOLUTION, "02_perceptron.py": b"p = 1\n"}
    assert files_under(tmp_path) == before


def test_zip_slip_and_absolute_entries_are_refused_and_the_rest_is_taken(tmp_path):
    make_zip(
        tmp_path / "mal.zip",
        {
            "../00_weighted_sum.py": b"evil",
            "/etc/01_activations.py": b"evil",
            "C:/x/../02_perceptron.py": b"evil",
            "02_perceptron.py": b"good\n",
        },
    )
    found = read_zip(tmp_path / "mal.zip", WANTED)
    assert found.files == {"02_perceptron.py": b"good\n"}
    assert {"00_weighted_sum.py", "01_activations.py"} <= set(found.refused)
    assert len(found.notes) == 3
    assert all("outside its folder" in note for note in found.notes)
    assert not (tmp_path.parent / "00_weighted_sum.py").exists()


def test_a_symlink_in_a_folder_is_refused_and_never_followed(tmp_path):
    secret = tmp_path / "secret.py"
    secret.write_bytes(b"SECRET = 1\n")
    student = tmp_path / "sam"
    (student / "exercises").mkdir(parents=True)
    (student / "00_weighted_sum.py").symlink_to(secret)
    (student / "exercises" / "01_activations.py").symlink_to(secret)
    (student / "02_perceptron.py").write_bytes(b"ok\n")
    found = read_folder(student, WANTED)
    assert found.files == {"02_perceptron.py": b"ok\n"}
    assert set(found.refused) == {"00_weighted_sum.py", "01_activations.py"}
    assert all("symbolic link" in why for why in found.refused.values())


def test_a_symlinked_exercises_folder_is_not_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "00_weighted_sum.py").write_bytes(SOLUTION)
    student = tmp_path / "sam"
    student.mkdir()
    (student / "exercises").symlink_to(elsewhere)
    found = read_folder(student, WANTED)
    assert found.files == {}
    assert any("not followed" in note for note in found.notes)


def test_a_symlink_inside_a_zip_is_refused(tmp_path):
    make_zip(
        tmp_path / "z.zip",
        {"02_perceptron.py": b"ok\n"},
        links={"00_weighted_sum.py": "/work/main/solutions/00_weighted_sum.py"},
    )
    found = read_zip(tmp_path / "z.zip", WANTED)
    assert found.files == {"02_perceptron.py": b"ok\n"}
    assert "symbolic link" in found.refused["00_weighted_sum.py"]


def test_a_fifo_a_device_and_a_symlinked_student_entry_are_refused(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    os.mkfifo(root / "fifo-student")
    (root / "linked").symlink_to(tmp_path)
    student = root / "pat"
    student.mkdir()
    os.mkfifo(student / "00_weighted_sum.py")
    (student / "01_activations.py").symlink_to("/dev/zero")
    found = {s.student: s for s in discover(root, WANTED)}
    assert set(found) == {"fifo-student", "linked", "pat"}
    assert found["fifo-student"].notes and found["linked"].notes
    assert "not a regular file" in found["pat"].refused["00_weighted_sum.py"]
    assert "symbolic link" in found["pat"].refused["01_activations.py"]


def test_files_over_the_size_limit_are_refused(tmp_path):
    big = b"#" * (FILE_LIMIT + 1)
    (tmp_path / "00_weighted_sum.py").write_bytes(big)
    assert "larger than" in read_folder(tmp_path, WANTED).refused["00_weighted_sum.py"]
    make_zip(tmp_path / "big.zip", {"00_weighted_sum.py": big})
    assert "larger than" in read_zip(tmp_path / "big.zip", WANTED).refused["00_weighted_sum.py"]


def test_zip_bombs_are_refused_whole(tmp_path):
    make_zip(tmp_path / "bomb.zip", {"00_weighted_sum.py": b"\0" * (70 << 20)})
    bomb = read_zip(tmp_path / "bomb.zip", WANTED)
    assert bomb.files == {} and "zip bomb" in bomb.notes[0]
    make_zip(tmp_path / "many.zip", {f"f{i}.txt": b"" for i in range(ZIP_MAX_ENTRIES + 1)})
    assert "zip bomb" in read_zip(tmp_path / "many.zip", WANTED).notes[0]
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    assert "not a readable zip" in read_zip(tmp_path / "broken.zip", WANTED).notes[0]


def test_student_ids_come_from_entry_names(tmp_path):
    root = tmp_path / "class"
    for name in ("ann lee", "-dash", "Zoë", ".hidden", "__MACOSX", "out"):
        (root / name).mkdir(parents=True)
    make_zip(root / "bob, jr.zip", {"00_weighted_sum.py": SOLUTION})
    (root / "readme.txt").write_text("not a student")
    found = discover(root, WANTED, skip=[root / "out"])
    assert [s.student for s in found] == sorted(["ann lee", "-dash", "Zoë", "bob, jr"])
    assert student_id("x.ZIP") == "x"
    assert student_id(os.fsdecode(b"caf\xe9")) == "caf\\xe9"
