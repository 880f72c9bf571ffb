"""The wire format: round trips, and strict rejection of anything malformed."""

from __future__ import annotations

import json
import math
import struct

import numpy as np
import pytest

from grader.sandbox import wire


def roundtrip(value, *, from_trusted=False):
    frame = wire.encode({"value": value})
    json_len, _bin_len = wire.split_header(frame[: wire.HEADER.size], 1 << 20)
    body = frame[wire.HEADER.size :]
    return wire.decode(body[:json_len], body[json_len:], from_trusted=from_trusted)["value"]


def raw_frame(doc: str, blob: bytes = b"") -> dict:
    return wire.decode(doc.encode(), blob)


@pytest.mark.parametrize(
    "value",
    [None, True, 3, -2.5, "text", [1, [2, 3]], (1, 2.0), {"a": [1, 2], "b": (3,)}, 2**62],
)
def test_plain_values_round_trip(value):
    assert roundtrip(value) == value
    assert type(roundtrip(value)) is type(value)


def test_arrays_keep_dtype_shape_and_values():
    for arr in [
        np.arange(6, dtype=np.int32).reshape(2, 3),
        np.linspace(0, 1, 5, dtype=np.float32),
        np.array([True, False]),
        np.zeros((0, 4)),
        np.array(3.5),
    ]:
        back = roundtrip(arr)
        assert isinstance(back, np.ndarray)
        assert back.dtype == arr.dtype and back.shape == arr.shape
        assert np.array_equal(back, arr)


@pytest.mark.parametrize(
    "nested",
    [[[0.0, 1.0], [2.5, -3.0]], [1, 2, 3], 4.0, [], [[]], [[[1.0], [2.0]], [[3.0], [4.0]]]],
)
def test_plain_arrays_cross_exactly_as_the_ndarray_would(nested):
    """What a sender without numpy sends is byte for byte numpy's frame."""
    plain = wire.PlainArray.float64(nested)
    assert wire.encode({"a": [plain]}) == wire.encode({"a": [np.array(nested, dtype=float)]})
    back = roundtrip(plain)
    assert back.dtype == np.float64 and np.array_equal(back, np.array(nested, dtype=float))


@pytest.mark.parametrize("nested", [[[1.0, 2.0], [3.0]], [1.0, "2"], [True, False], [None]])
def test_plain_arrays_refuse_what_is_not_a_grid_of_numbers(nested):
    with pytest.raises(ValueError):
        wire.PlainArray.float64(nested)


def test_numpy_scalars_come_back_as_numpy_scalars():
    back = roundtrip(np.float32(1.5))
    assert isinstance(back, np.float32) and back == 1.5


def test_big_endian_arrays_arrive_in_native_order():
    arr = np.arange(4, dtype=">f8")
    assert np.array_equal(roundtrip(arr), np.arange(4.0))


def test_non_finite_floats_are_spelt_out_not_accepted_silently():
    assert math.isnan(roundtrip(float("nan")))
    assert roundtrip(float("-inf")) == float("-inf")
    with pytest.raises(wire.WireError):
        raw_frame('{"value": NaN}')
    with pytest.raises(wire.WireError):
        raw_frame('{"value": Infinity}')


def test_long_lists_of_floats_cross_as_bytes_and_stay_lists_of_floats():
    losses = [1.0 / (k + 1) for k in range(5000)]
    frame = wire.encode({"value": losses})
    assert len(frame) < 5000 * 8 + 200  # bytes, not JSON text
    back = roundtrip(losses)
    assert type(back) is list and all(type(v) is float for v in back) and back == losses
    short = [0.5, 0.25]
    assert roundtrip(short) == short and b"0.25" in wire.encode({"value": short})


def test_a_list_of_floats_with_nan_is_spelt_out_and_bad_float_bytes_are_refused():
    values = [0.5] * 100 + [float("nan"), float("-inf")]
    back = roundtrip(values)
    assert back[:100] == [0.5] * 100 and math.isnan(back[100]) and back[101] == float("-inf")
    nan = struct.pack("<d", float("nan"))
    with pytest.raises(wire.WireError, match="non-finite"):
        raw_frame('{"value": {"$floats": 0}, "$buffers": [[0, 16]]}', nan + nan)
    with pytest.raises(wire.WireError, match="whole float64s"):
        raw_frame('{"value": {"$floats": 0}, "$buffers": [[0, 12]]}', bytes(12))
    with pytest.raises(wire.WireError):
        raw_frame('{"value": {"$floats": 1}, "$buffers": [[0, 8]]}', bytes(8))
    with pytest.raises(wire.WireError):
        raw_frame('{"value": [1.0, 1e999]}')  # JSON's overflow parses as inf


def test_unencodable_values_become_unsupported_markers():
    class Sneaky:
        def __eq__(self, other):
            return True

    back = roundtrip(Sneaky())
    assert isinstance(back, wire.Unsupported)
    assert "Sneaky" in back.description
    assert isinstance(roundtrip(np.array([object()])), wire.Unsupported)
    assert isinstance(roundtrip({1: 2}), wire.Unsupported)


def test_ndarray_subclass_arrives_as_a_plain_array():
    class Liar(np.ndarray):
        def __array_ufunc__(self, *args, **kwargs):
            return True

    back = roundtrip(np.zeros(3).view(Liar))
    assert type(back) is np.ndarray
    assert not np.allclose(back, np.ones(3))


@pytest.mark.parametrize(
    "doc",
    [
        '{"value": {"a": 1}}',  # a plain object is never valid data
        '{"value": {"$nd": {"dtype": "|O", "shape": [1], "buf": 0}}}',
        '{"value": {"$nd": {"dtype": "<f8", "shape": [3], "buf": 0}}}',  # no such buffer
        '{"value": {"$fn": "relu"}}',  # only the trusted side may send function refs
        '{"value": {"$tuple": [1], "$dict": []}}',
        '{"value": 1, "value": 2}',
        "[1, 2]",
        '{"value": {"$dict": [[1, 2]]}}',
    ],
)
def test_malformed_frames_are_rejected(doc):
    with pytest.raises(wire.WireError):
        raw_frame(doc)


def test_array_bytes_must_match_the_shape():
    doc = json.dumps(
        {"value": {"$nd": {"dtype": "<f8", "shape": [4], "buf": 0}}, "$buffers": [[0, 16]]}
    )
    with pytest.raises(wire.WireError):
        raw_frame(doc, bytes(16))


def test_deep_nesting_is_rejected_not_a_crash():
    with pytest.raises(wire.WireError):
        raw_frame('{"value": ' + "[" * 100_000 + "]" * 100_000 + "}")


def test_frames_over_the_cap_are_refused_before_reading():
    with pytest.raises(wire.WireError):
        wire.split_header(wire.HEADER.pack(10, 5 << 20), 1 << 20)
