"""Fuzzing the boundary (hypothesis): arbitrary bytes into the wire decoder and the frame
reader, arbitrary nested values into the result model and the gradebook writer. Nothing
crashes the grader, and nothing changes another student's row."""

from __future__ import annotations

import csv
import io
import json
import os
import string

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.classgrade import gradebook
from grader.classgrade.exports import class_data, grades_csv
from grader.classgrade.pool import Chunk
from grader.classgrade.run import _attempt
from grader.core.untrusted import plain
from grader.course.info import load_course
from grader.grading.results import CheckResult, ExerciseResult
from grader.sandbox import wire
from grader.sandbox.channel import FrameReader, learner_fields

COURSE = load_course()
EXERCISE = COURSE.get("00_weighted_sum")
FAST = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.binary(max_size=50),
    st.sampled_from([np.float32(1.5), np.int8(-3), np.uint64(2**63), np.float16("nan")]),
    st.builds(lambda n: np.arange(n, dtype=np.float32), st.integers(0, 5)),
    st.builds(lambda v: np.array(v), st.floats()),
)
nested = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers()), inner, max_size=5),
    ),
    max_leaves=30,
)
json_like = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=25,
)


@FAST
@given(st.binary(max_size=400), st.binary(max_size=200))
def test_the_decoder_accepts_or_refuses_any_bytes_with_a_wire_error(payload, blob):
    try:
        message = wire.decode(payload, blob)
    except wire.WireError:
        return
    assert isinstance(message, dict)


@FAST
@given(json_like, st.binary(max_size=64))
def test_the_decoder_refuses_malformed_json_documents_cleanly(doc, blob):
    try:
        payload = json.dumps({"value": doc, "$buffers": [[0, len(blob)]]}).encode()
    except ValueError:
        return
    try:
        message = wire.decode(payload, blob)
    except wire.WireError:
        return
    fields = learner_fields({"error": "raised", **message})
    assert isinstance(fields["message"], str) and isinstance(fields["type_name"], str)


@FAST
@given(st.binary(max_size=2000))
def test_the_frame_reader_survives_any_stream(stream):
    read, write = os.pipe()
    try:
        os.write(write, stream)
        os.close(write)
        write = -1
        reader = FrameReader(read, 1 << 16)
        os.set_blocking(read, False)
        for _ in range(4):
            reader.feed()
        try:
            while reader.next() is not None:
                pass
        except wire.WireError:
            pass
    finally:
        os.close(read)
        if write >= 0:
            os.close(write)


@FAST
@given(nested)
def test_plain_makes_any_value_json(value):
    json.dumps(plain(value), allow_nan=False)


@FAST
@given(nested, nested, st.text())
def test_a_result_holding_anything_is_plain_json(artifact, message, title):
    check = CheckResult("c", title, "failed", 0, 2, message=message, got=artifact)
    result = ExerciseResult(EXERCISE.id, title, "f.py", [check], artifacts={"x": artifact})
    json.dumps(result.to_dict(), allow_nan=False)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.one_of(
        json_like,
        st.fixed_dictionaries(
            {
                "exercise": st.sampled_from([EXERCISE.id, "01_activations", 3]),
                "score": st.integers(-5, 40),
                "max_score": st.integers(0, 40),
                "passed": st.booleans(),
                "checks": st.lists(
                    st.fixed_dictionaries(
                        {
                            "name": st.text(string.ascii_letters, max_size=5),
                            "status": st.sampled_from(["passed", "failed", "timeout", "x"]),
                            "points": st.one_of(st.integers(0, 5), st.text(max_size=2)),
                            "max_points": st.integers(0, 5),
                            "passed": st.booleans(),
                            "title": st.text(max_size=5),
                        }
                    ),
                    max_size=4,
                ),
                "grader_error": st.one_of(st.none(), st.text(max_size=5)),
            }
        ),
    ),
    st.text(min_size=1, max_size=12),
)
def test_the_gradebook_writer_never_lets_one_students_result_touch_another(
    tmp_path_factory, result, hostile_id
):
    out = tmp_path_factory.mktemp("book")
    conn = gradebook.create(out, gradebook.Settings.new(1, (EXERCISE.id,), None, {}))
    honest = ExerciseResult(EXERCISE.id, EXERCISE.title, "f.py")
    honest.checks = [CheckResult("a", "A", "passed", 2, 2)]
    ids = ["honest", hostile_id if hostile_id != "honest" else "other"]
    for student in ids:
        gradebook.record_student(conn, student, [])
    gradebook.commit(conn, "honest", honest.to_dict(), None)
    before = conn.execute("SELECT * FROM results WHERE student = 'honest'").fetchall()
    chunk = Chunk(0, EXERCISE.id, (ids[1],), (b"",))
    errors = _attempt(
        lambda chunks, deliver, failed: deliver(chunk, 0, result),
        [chunk],
        lambda c, i, r: gradebook.commit(conn, c.students[i], r, None),
    )
    for c, i, message in errors:
        gradebook.record_grader_error(conn, c.students[i], c.exercise, message)
    after = conn.execute("SELECT * FROM results WHERE student = 'honest'").fetchall()
    assert [tuple(r) for r in after] == [tuple(r) for r in before]
    data = class_data(conn, COURSE)
    rows = {r["student"]: r for r in data["students"]}
    assert rows["honest"]["total"] == 2
    table = list(csv.reader(io.StringIO(grades_csv(data), newline="")))
    assert ["honest", "2", "2"] in table and len(table) == 3
    conn.close()
