"""`dlgrade grade` on downloads as Canvas, Moodle and Gradescope hand them over.

The folders are built from the names these LMSs give their bulk downloads (Canvas:
``{name}_{LATE_}{user id}_{submission id}_{file}``; Moodle:
``{Full Name}_{participant id}_assignsubmission_file_/``; Gradescope: ``submission_{id}/``
beside ``submission_metadata.yml``), with resubmissions, misnamed and unknown files, and
are graded by real `dlgrade grade` subprocesses in real sandboxes.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from conftest import needs_bwrap
from test_class_grade import buggy, run_grade, solution, write

from grader.classgrade import layouts
from grader.classgrade.matching import Matcher
from grader.classgrade.names import digest
from grader.course.info import load_course

pytestmark = needs_bwrap(reason="class grading is strict: needs bwrap")

FILES = [e.file_name for e in load_course().exercises]
ONE = ("-e", "00_weighted_sum", "-e", "01_activations", "-e", "03_backprop")


def rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def graded(tmp_path: Path, root: Path, *extra: str) -> tuple[dict, Path]:
    out = tmp_path / "grades"
    done = run_grade(
        root, "--out", out, "-j", "2", "--seed", "3", "--json", *ONE, *extra, home=tmp_path / "h"
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), out


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("03_backprop.py", "03_backprop.py"),
        ("03-backprop.py", "03_backprop.py"),
        ("backprop (1).py", "03_backprop.py"),
        ("01_activations-1.py", "01_activations.py"),  # a Canvas resubmission
        ("01_activation.py", "01_activations.py"),  # a close misspelling
        ("01_activations.txt", "01_activations.py"),  # the wrong extension
        ("00_weighted_sum.py.txt", "00_weighted_sum.py"),
        ("Weighted Sum.PY", "00_weighted_sum.py"),
        ("02_backprop.py", None),  # the number says another exercise
        ("notes.py", None),
        ("activation_backprop.py", None),
    ],
)
def test_a_submitted_name_is_matched_to_its_exercise_or_to_none(name, target):
    found = Matcher(FILES)(name)
    assert (found.target if found else None) == target


def canvas_class(root: Path) -> Path:
    """A flat Canvas download: every student's files side by side in one folder."""
    write(
        root,
        {
            "leeann_123_456_00_weighted_sum.py": solution("00_weighted_sum"),
            "leeann_123_456_01_activations-1.py": solution("01_activations"),
            "smithbob_LATE_124_457_weighted sum.py": buggy("00_weighted_sum"),
            "smithbob_LATE_124_457_notes.py": "print('not an exercise')\n",
        },
    )
    with zipfile.ZipFile(root / "kimcarol_125_458_submission.zip", "w") as archive:
        archive.writestr("submission/03-backprop.py", solution("03_backprop"))
    return root


def test_a_flat_canvas_download_grades_every_student_under_the_right_exercise(tmp_path):
    summary, out = graded(tmp_path, canvas_class(tmp_path / "canvas"))
    assert summary["run"]["layout"] == "Canvas (flat download)"
    table = {r[0]: r for r in rows(out / "grades.csv")}
    assert table["student"] == [
        "student",
        "00_weighted_sum",
        "01_activations",
        "03_backprop",
        "total",
        "submitted_as",
    ]
    # the -1 resubmission is graded, and the CSV names the file as it was handed in
    assert table["leeann"][1:] == ["26", "32", "0", "58", "01_activations-1.py -> 01_activations"]
    assert table["kimcarol"][1:] == [  # from inside the Canvas zip
        "0",
        "0",
        "30",
        "30",
        "submission/03-backprop.py -> 03_backprop",
    ]
    assert 0 < int(table["smithbob"][1]) < 26
    canvas = {r[0]: r for r in rows(out / "canvas.csv")}
    assert canvas["leeann"][1] == "123" and canvas["smithbob"][1] == "124"  # Canvas user ids
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    students = {r["student"]: r for r in data["students"]}
    assert students["leeann"]["exercises"]["01_activations"]["submitted_as"] == (
        "01_activations-1.py"
    )
    assert students["smithbob"]["lms"]["marked_late"] is True
    bob = (out / students["smithbob"]["feedback"]).read_text(encoding="utf-8")
    assert "weighted sum.py was graded as 00_weighted_sum.py" in bob
    assert "not graded: unknown name: notes.py" in bob
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "01_activations-1.py → 01_activations" in report and "Canvas (flat download)" in report


def test_moodle_folders_and_flat_files_are_read_and_online_text_is_not(tmp_path):
    root = tmp_path / "moodle"
    write(
        root / "Ann Lee_1001_assignsubmission_file_",
        {"00_weighted_sum.py": solution("00_weighted_sum")},
    )
    write(
        root / "Bob Smith_1002_assignsubmission_file_", {"backprop (1).py": solution("03_backprop")}
    )
    write(root / "Bob Smith_1002_assignsubmission_onlinetext_", {"onlinetext.html": "<p>hi</p>"})
    write(
        root, {"Cleo Park_1003_assignsubmission_file_01_activations.py": solution("01_activations")}
    )
    summary, out = graded(tmp_path, root)
    assert summary["run"]["layout"] == "Moodle"
    table = {r[0]: r[1:] for r in rows(out / "grades.csv")}
    assert table["Ann Lee"] == ["26", "0", "0", "26", ""]
    assert table["Bob Smith"] == ["0", "0", "30", "30", "backprop (1).py -> 03_backprop"]
    assert table["Cleo Park"] == ["0", "32", "0", "32", ""]
    assert len(table) == 4  # the header and three students: no online-text "student"
    canvas = {r[0]: r for r in rows(out / "canvas.csv")}
    assert canvas["Bob Smith"][1] == "1002"


GRADESCOPE_METADATA = """\
submission_1001:
  :submitters:
  - :name: Ann Lee
    :sid: '4242'
    :email: ann@example.edu
  :created_at: 2026-03-01 10:00:00.123456789 -08:00
  :score: 0.0
submission_1002:
  :submitters:
  - :name: <script>alert(1)</script>
    :sid: '4343'
    :email: '"><img src=x onerror=alert(2)>@example.edu'
  :created_at: 2026-03-04 10:00:00.000000000 +00:00
"""


def gradescope_export(root: Path) -> Path:
    write(root / "submission_1001", {"00_weighted_sum.py": solution("00_weighted_sum")})
    write(root / "submission_1002", {"01_activations-2.py": solution("01_activations")})
    (root / "submission_metadata.yml").write_text(GRADESCOPE_METADATA, encoding="utf-8")
    return root


def test_a_gradescope_export_reads_the_submitters_from_its_metadata(tmp_path):
    summary, out = graded(tmp_path, gradescope_export(tmp_path / "export"))
    assert summary["run"]["layout"] == "Gradescope export"
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    students = {r["student"]: r for r in data["students"]}
    ann = students["ann@example.edu"]
    assert ann["total"] == 26 and ann["lms"]["sis_id"] == "4242" and ann["lms"]["name"] == "Ann Lee"
    assert ann["lms"]["submitted_at"] == "2026-03-01T10:00:00.123456-08:00"
    hostile = students['"><img src=x onerror=alert(2)>@example.edu']
    assert hostile["total"] == 32 and hostile["lms"]["name"] == "<script>alert(1)</script>"
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in report and "<script>alert" not in report
    canvas = rows(out / "canvas.csv")
    assert ["Ann Lee", "", "4242", "", "", "26"] in canvas


def test_metadata_that_would_build_objects_is_refused_in_one_line(tmp_path):
    root = gradescope_export(tmp_path / "export")
    marker = tmp_path / "ran"
    (root / "submission_metadata.yml").write_text(
        f'submission_1001: !!python/object/apply:os.system ["touch {marker}"]\n', encoding="utf-8"
    )
    out = tmp_path / "grades"
    done = run_grade(root, "--out", out, *ONE, home=tmp_path / "h")
    assert done.returncode == 2, done.stderr
    assert "submission_metadata.yml" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert not marker.exists() and not out.exists()


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, "no submissions in this folder"),
        ({"login_123_456_readme.md": "hello"}, "nothing to grade"),
        ({"ann/notes.txt": "hello"}, "unknown file name"),
    ],
)
def test_a_download_with_nothing_gradable_is_an_error_and_writes_nothing(tmp_path, files, expected):
    root = tmp_path / "subs"
    root.mkdir()
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    out = tmp_path / "grades"
    done = run_grade(root, "--out", out, home=tmp_path / "h")
    assert done.returncode == 2, done.stdout
    assert expected in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()


ROSTER = """\
Student,ID,SIS User ID,SIS Login ID,Section
Points Possible,,,,
"Lee, Ann",123,S-001,alee,Lab A
"Smith, Bob",124,S-002,bsmith,Lab B
"Park, Dana",126,S-004,dpark,Lab A
"""


def test_a_roster_fills_the_ids_lists_who_is_missing_and_flags_strangers(tmp_path):
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    summary, out = graded(
        tmp_path, canvas_class(tmp_path / "canvas"), "--roster", tmp_path / "roster.csv"
    )
    assert summary["run"]["not_on_roster"] == ["kimcarol"]
    canvas = {r[0]: r for r in rows(out / "canvas.csv")}
    assert canvas["Lee, Ann"] == ["Lee, Ann", "123", "S-001", "alee", "Lab A", "58"]
    assert canvas["Park, Dana"][1:5] == ["126", "S-004", "dpark", "Lab A"]
    assert (
        canvas["Park, Dana"][5] == "0"
    )  # on the roster, nothing submitted: every exercise missing
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    students = {r["student"]: r for r in data["students"]}
    assert students["dpark"]["lms"]["roster"] == "missing"
    assert students["kimcarol"]["lms"]["roster"] == "unknown"
    assert "not on the roster" in students["kimcarol"]["notes"]
    assert data["ids_missing"] == []


def test_without_a_roster_folder_names_never_pose_as_sis_logins(tmp_path):
    root = tmp_path / "subs"
    write(root / "ann", {"00_weighted_sum.py": solution("00_weighted_sum")})
    summary, out = graded(tmp_path, root)
    assert summary["run"]["ids_missing"] == 1
    canvas = rows(out / "canvas.csv")
    assert canvas[2] == ["ann", "", "", "", "", "26"]


def test_a_roster_without_an_id_column_is_refused_in_one_line(tmp_path):
    (tmp_path / "roster.csv").write_text("colour,size\nred,3\n", encoding="utf-8")
    out = tmp_path / "grades"
    done = run_grade(
        canvas_class(tmp_path / "canvas"),
        "--out",
        out,
        "--roster",
        tmp_path / "roster.csv",
        home=tmp_path / "h",
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "no login, ID, SIS User ID or email column" in done.stderr
    assert not out.exists()


def test_same_named_moodle_students_and_colliding_feedback_names_stay_apart(tmp_path):
    root = tmp_path / "moodle"
    write(
        root / "Zoë Ng_2001_assignsubmission_file_",
        {"00_weighted_sum.py": solution("00_weighted_sum")},
    )
    write(
        root / "Zoë Ng_2002_assignsubmission_file_",
        {"00_weighted_sum.py": buggy("00_weighted_sum")},
    )
    write(
        root / "zoe ng_2003_assignsubmission_file_",
        {"01_activations.py": solution("01_activations")},
    )
    write(
        root / "Zoe. Ng_2004_assignsubmission_file_", {"01_activations.py": buggy("01_activations")}
    )
    write(root / "Ann_2005_assignsubmission_file_", {"01_activations.py": buggy("01_activations")})
    _summary, out = graded(tmp_path, root)
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    students = {r["student"]: r for r in data["students"]}
    assert set(students) == {"Zoë Ng_2001", "Zoë Ng_2002", "zoe ng", "Zoe. Ng", "Ann"}
    assert students["Zoë Ng_2001"]["total"] == 26 and students["Zoë Ng_2002"]["total"] < 26
    files = [r["feedback"] for r in students.values()]
    assert len({f.lower() for f in files}) == 5
    assert students["Ann"]["feedback"] == "feedback/Ann.md"
    # "zoe ng" and "Zoe. Ng" both give zoe-ng.md (ignoring case): each gets its hash
    assert students["zoe ng"]["feedback"] == f"feedback/zoe-ng-{digest('zoe ng')}.md"
    assert students["Zoe. Ng"]["feedback"] == f"feedback/Zoe-Ng-{digest('Zoe. Ng')}.md"
    assert sorted(p.name for p in (out / "feedback").iterdir()) == sorted(
        f.split("/")[1] for f in files
    )


def test_discovery_reports_each_layout_it_recognises(tmp_path):
    canvas = canvas_class(tmp_path / "canvas")
    found = layouts.discover(canvas, FILES)
    assert [s.student for s in found.students] == ["kimcarol", "leeann", "smithbob"]
    assert found.layout == "Canvas (flat download)"
    bob = next(s for s in found.students if s.student == "smithbob")
    assert bob.files.renamed == {"00_weighted_sum.py": "weighted sum.py"}
    assert bob.files.unknown == ["notes.py"] and bob.marked_late
    assert layouts.discover(gradescope_export(tmp_path / "gs"), FILES).layout == "Gradescope export"


def test_hostile_download_names_are_shown_as_text_everywhere(tmp_path):
    import os

    root = tmp_path / "canvas"
    root.mkdir()
    evil = "evil_1_2_\x1b[2J<img src=x onerror=alert(1)>=HYPERLINK(1).py"
    (root / evil).write_text("x = 1\n")
    (root / "evil_1_2_00_weighted_sum.py").write_text(solution("00_weighted_sum"))
    odd = os.fsencode(str(root)) + b"/Ren\xe9 Roy_7_assignsubmission_file_"
    os.mkdir(odd)
    (Path(os.fsdecode(odd)) / "01_activations-3.py").write_text(solution("01_activations"))
    out = tmp_path / "grades"
    done = run_grade(root, "--out", out, *ONE, home=tmp_path / "h")
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout + done.stderr
    assert "Canvas (flat download) + Moodle" in done.stdout
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    students = {r["student"]: r for r in data["students"]}
    assert set(students) == {"evil", "Ren\\xe9 Roy"}
    assert students["Ren\\xe9 Roy"]["total"] == 32
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in report
    feedback = (out / students["evil"]["feedback"]).read_text(encoding="utf-8")
    assert "\\<img src=x onerror=alert(1)\\>" in feedback and "\x1b" not in feedback


def test_the_roster_matches_by_id_login_email_or_name_and_once_per_row(tmp_path):
    from grader.classgrade import roster
    from grader.classgrade.layouts import Submitter
    from grader.classgrade.submissions import StudentFiles

    (tmp_path / "r.csv").write_text(
        "\ufeffName,Email,Login,SIS id\n"
        '"Lee, Ann",ann@x.edu,alee,1\n'
        "Bob Smith,bob@x.edu,bsmith,2\n"
        "Cleo Park,cleo@x.edu,cpark,3\n"
        "Dee Roe,dee@x.edu,droe,4\n",
        encoding="utf-8",
    )
    members = roster.load(tmp_path / "r.csv")
    found = [
        Submitter(StudentFiles("Ann LEE"), "moodle", "1001", name="Ann LEE"),  # by name
        Submitter(StudentFiles("bob@x.edu"), "gradescope", email="bob@x.edu"),  # by e-mail
        Submitter(StudentFiles("cpark"), "folders"),  # by login (the folder name)
        Submitter(StudentFiles("cpark_2"), "folders", name="Cleo Park"),  # the row is taken
    ]
    everyone, unknown = roster.apply(members, found)
    by_id = {s.student: s for s in everyone}
    assert by_id["Ann LEE"].login == "alee" and by_id["Ann LEE"].sis_id == "1"
    assert by_id["bob@x.edu"].login == "bsmith" and by_id["cpark"].roster == "on roster"
    assert unknown == ["cpark_2"] and by_id["cpark_2"].roster == "unknown"
    assert by_id["droe"].roster == "missing" and not by_id["droe"].files.files


def test_a_group_submission_counts_for_each_submitter_and_big_metadata_is_refused(tmp_path):
    from grader.core.errors import InputError

    root = tmp_path / "export"
    write(root / "submission_9", {"00_weighted_sum.py": solution("00_weighted_sum")})
    (root / "submission_metadata.yml").write_text(  # a big class: larger than a source file
        "#"
        + "x" * (600 << 10)
        + "\n"
        + "submission_9:\n  :submitters:\n  - :name: A\n    :email: a@x.edu\n"
        "  - :name: B\n    :email: b@x.edu\n  :created_at: 2026-03-01 10:00:00 +00:00\n"
    )
    found = layouts.discover(root, FILES)
    assert [s.student for s in found.students] == ["a@x.edu", "b@x.edu"]
    assert all(s.files.files.keys() == {"00_weighted_sum.py"} for s in found.students)
    assert found.students[1].submitted_at.isoformat() == "2026-03-01T10:00:00+00:00"
    (root / "submission_metadata.yml").write_bytes(b"# " + b"x" * (layouts.METADATA_LIMIT + 1))
    with pytest.raises(InputError, match="larger than"):
        layouts.discover(root, FILES)
