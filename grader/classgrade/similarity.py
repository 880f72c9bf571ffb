"""``dlgrade similarity``: pairs of suspiciously similar submissions, per exercise.

The comparison is copydetect's (winnowing, as in MOSS), with the exercise's stub as
boilerplate so that the lines every learner starts from never count. Submissions are found
and read as class grading reads them (no symlink followed, zips read in memory); each
exercise's files are staged into a private temporary folder for copydetect. It flags pairs
to look at, not proof.
"""

from __future__ import annotations

import csv
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from grader.classgrade.csv_cells import cell
from grader.core.errors import InputError
from grader.course.info import Course, Exercise

if TYPE_CHECKING:
    from grader.classgrade.submissions import StudentFiles

DEFAULT_THRESHOLD = 0.5
CSV_NAME = "similarity.csv"
CSV_FIELDS = ("exercise", "student_a", "student_b", "similarity_a", "similarity_b", "token_overlap")
NO_COPYDETECT = "copydetect is not installed: pip install 'dlgrade[instructor]'"
NOT_A_FOLDER = "{path}: not a folder of submissions"


def read_submissions(
    folder: Path, course: Course, skip: list[Path] | None = None
) -> tuple[list[StudentFiles], list[str]]:
    """Each student's exercise files (class grading's discovery, any LMS layout) and notes."""
    from grader.classgrade.layouts import discover

    if folder.is_symlink() or not folder.is_dir():
        raise InputError(NOT_A_FOLDER.format(path=folder))
    found = discover(folder, [e.file_name for e in course.exercises], skip or ())
    students = [s.files for s in found.students]
    problems = []
    for student in students:
        for name, raw in list(student.files.items()):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                del student.files[name]
                student.notes.append(f"{name} is not UTF-8 text: skipped")
        for note in student.notes:
            named = note.startswith(f"{student.student}:")
            problems.append(note if named else f"{student.student}: {note}")
    return students, problems


@dataclass(frozen=True)
class Pair:
    """Two students' files for one exercise, and how much of each the other one covers."""

    exercise: str
    student_a: str
    student_b: str
    similarity_a: float
    similarity_b: float
    token_overlap: int

    @property
    def similarity(self) -> float:
        return max(self.similarity_a, self.similarity_b)


@dataclass
class Report:
    """Flagged pairs (most similar first), where the files went, and what was refused."""

    pairs: list[Pair]
    compared: dict[str, int]
    html: dict[str, str]
    csv: str
    threshold: float
    problems: list[str]

    def to_dict(self) -> dict:
        return asdict(self)


def _copydetect() -> type:
    """copydetect's CopyDetector, imported only when needed (the `instructor` extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from copydetect import CopyDetector
    except ImportError:
        raise InputError(NO_COPYDETECT) from None
    return CopyDetector


def _notebook_stub(course: Course, exercise: Exercise) -> bytes:
    """The code a generated stub notebook hands in, read the way a submission's is."""
    import nbformat

    from grader.course import notebook_stub
    from grader.grading import notebooks

    raw = nbformat.writes(notebook_stub.build(course, exercise)).encode()
    source, _cells, _refusal = notebooks.submission_source(f"{exercise.id}.ipynb", raw)
    return source


def _slug(name: str, taken: set[str]) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "student"
    while slug in taken:
        slug += "_"
    taken.add(slug)
    return slug


def compare_exercise(
    course: Course,
    exercise: Exercise,
    students: list[StudentFiles],
    *,
    threshold: float,
    stage: Path,
    out_dir: Path,
) -> tuple[list[Pair], Path]:
    """Stage one exercise's files, run copydetect with the stub as boilerplate, save the HTML.

    The HTML is dlgrade's page (grader/classgrade/similarity_html.py), not copydetect's, which
    loads Bootstrap from a CDN.
    """
    detector_class = _copydetect()
    root = stage / exercise.id
    (root / "stub").mkdir(parents=True)
    (root / "stub" / exercise.file_name).write_bytes(course.stub_path(exercise).read_bytes())
    if any(s.cells.get(exercise.file_name) for s in students):  # notebooks: their stub too
        (root / "stub" / f"{exercise.id}_notebook.py").write_bytes(_notebook_stub(course, exercise))
    names: dict[str, str] = {}
    for student in students:
        slug = _slug(student.student, set(names))
        names[slug] = student.student
        (root / "students" / slug).mkdir(parents=True)
        (root / "students" / slug / exercise.file_name).write_bytes(
            student.files[exercise.file_name]
        )
    detector = detector_class(
        test_dirs=[str(root / "students")],
        ref_dirs=[str(root / "students")],
        boilerplate_dirs=[str(root / "stub")],
        extensions=["py"],
        display_t=threshold,
        autoopen=False,
        silent=True,
    )
    detector.test_files, detector.ref_files = (
        sorted(detector.test_files),
        sorted(detector.ref_files),
    )
    detector.run()  # sorted first: copydetect lists files from a set, so runs would differ
    pairs = [
        Pair(
            exercise.id,
            names[Path(a).parent.name],
            names[Path(b).parent.name],
            round(float(sim_a), 4),
            round(float(sim_b), 4),
            int(overlap),
        )
        for sim_a, sim_b, a, b, _, _, overlap in detector.get_copied_code_list()
    ]
    from grader.classgrade.similarity_html import render

    html = render(exercise.id, detector, lambda path: names[Path(path).parent.name], threshold)
    report = out_dir / f"{exercise.id}.html"
    report.write_text(html, encoding="utf-8")
    return pairs, report


def write_csv(path: Path, pairs: list[Pair]) -> None:
    """The flagged pairs as CSV, in the order given."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_FIELDS)
        for p in pairs:
            shares = (f"{p.similarity_a:.3f}", f"{p.similarity_b:.3f}")
            students = (cell(p.student_a), cell(p.student_b))
            writer.writerow([p.exercise, *students, *shares, p.token_overlap])


def similarity(
    course: Course,
    submissions: Path,
    *,
    exercises: list[Exercise] | None = None,
    out_dir: Path = Path("similarity"),
    threshold: float = DEFAULT_THRESHOLD,
) -> Report:
    """Compare every pair of submissions of each exercise; write the CSV and HTML reports."""
    _copydetect()
    students, problems = read_submissions(submissions, course, skip=[out_dir])
    out_dir.mkdir(parents=True, exist_ok=True)
    pairs: list[Pair] = []
    compared: dict[str, int] = {}
    html: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="dlgrade-similarity-") as stage:
        for exercise in exercises or course.exercises:
            have = [s for s in students if exercise.file_name in s.files]
            compared[exercise.id] = len(have)
            if len(have) < 2:
                continue
            found, report = compare_exercise(
                course, exercise, have, threshold=threshold, stage=Path(stage), out_dir=out_dir
            )
            pairs += found
            html[exercise.id] = str(report)
    pairs.sort(key=lambda p: (-p.similarity, -p.token_overlap, p.exercise, p.student_a))
    csv_path = out_dir / CSV_NAME
    write_csv(csv_path, pairs)
    return Report(pairs, compared, html, str(csv_path), threshold, problems)
