"""The framed, pickle-free message format spoken across the sandbox boundary.

A frame is an 8-byte header (JSON length, binary length, big-endian) followed by
a UTF-8 JSON document and the raw little-endian bytes of any arrays it carries.
Plain JSON covers None, bool, int, finite float, str and list; everything else
is a one-key marker object: ``$float`` (NaN and infinities, spelt out so they
are never accepted silently), ``$floats`` (a long list of finite floats, as
float64 bytes: a list of 5000 losses costs ~1 ms instead of ~9 ms in JSON),
``$tuple``, ``$dict``, ``$nd`` (ndarray), ``$np`` (numpy scalar),
``$unsupported`` (a value the sender could not encode), and, trusted side to
child only, ``$fn`` and ``$ref``.

This module runs on both sides of the boundary, so it imports only the
standard library and numpy, and numpy only once an array is decoded.
:func:`decode` is strict: it is what stands between a hostile child and the
grader.
"""

from __future__ import annotations

import array
import json
import math
import struct
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

HEADER = struct.Struct(">II")
MIN_FLOATS = 64  # a shorter list of floats stays plain JSON
MAX_JSON = 16 << 20
MAX_DEPTH = 64
MAX_DIMS = 32
DTYPES = frozenset(
    [
        "|b1",
        "|i1",
        "<i2",
        "<i4",
        "<i8",
        "|u1",
        "<u2",
        "<u4",
        "<u8",
        "<f2",
        "<f4",
        "<f8",
        "<c8",
        "<c16",
    ]
)


class WireError(ValueError):
    """A frame or value that does not follow the format."""


class Unsupported:
    """Stands in for a value the learner returned that cannot cross the wire."""

    def __init__(self, description: str) -> None:
        self.description = description

    def __repr__(self) -> str:
        return f"<{self.description}>"


class FunctionRef:
    """Names one of the learner module's own functions, to pass as an argument."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True)
class PlainArray:
    """An array as plain data, for a sender that has not imported numpy.

    It crosses the wire exactly as the ndarray of that dtype, shape and little-endian
    bytes would, and arrives as that ndarray.
    """

    dtype: str
    shape: tuple[int, ...]
    data: bytes

    @classmethod
    def float64(cls, nested: Any) -> PlainArray:
        """From nested lists of numbers, as ``np.array(nested, dtype=float)`` would be."""
        shape, flat = [], [nested]
        while flat and all(type(v) is list for v in flat):
            lengths = {len(v) for v in flat}
            if len(lengths) != 1:
                raise ValueError("ragged nested lists")
            shape.append(lengths.pop())
            flat = [x for v in flat for x in v]
        if not all(type(x) in (int, float) for x in flat):
            raise ValueError("not an array of numbers")
        return cls("<f8", tuple(shape), struct.pack(f"<{len(flat)}d", *flat))


class Ref:
    """Points at a value kept in the child (result of call ``call_id``, then ``path``)."""

    def __init__(self, call_id: int, path: tuple[Any, ...] = ()) -> None:
        self.call_id = call_id
        self.path = path

    def __getitem__(self, key: Any) -> Ref:
        return Ref(self.call_id, (*self.path, key))

    def __repr__(self) -> str:
        return "<your earlier result" + "".join(f"[{p!r}]" for p in self.path) + ">"


# -- encoding -------------------------------------------------------------------------------


def _finite_floats(items: list) -> bool:
    return all(type(v) is float for v in items) and all(map(math.isfinite, items))


def _little_endian(floats: array.array) -> array.array:
    if sys.byteorder == "big":
        floats.byteswap()
    return floats


def _array(np: Any, arr: np.ndarray, buffers: list[bytes]) -> dict[str, Any] | None:
    dtype = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
    if dtype.str not in DTYPES:
        return None
    buffers.append(np.ascontiguousarray(arr, dtype=dtype).tobytes())
    return {"dtype": dtype.str, "shape": list(arr.shape), "buf": len(buffers) - 1}


def _encode(value: Any, buffers: list[bytes], depth: int) -> Any:
    if depth > MAX_DEPTH:
        return {"$unsupported": "a value nested too deeply"}
    kind = type(value)
    if value is None or kind in (bool, str):
        return value
    if kind is int:
        return value if abs(value) < 1 << 63 else {"$unsupported": "an integer too large"}
    if kind is float:
        if math.isfinite(value):
            return value
        return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if kind is list:
        if len(value) >= MIN_FLOATS and _finite_floats(value):
            buffers.append(_little_endian(array.array("d", value)).tobytes())
            return {"$floats": len(buffers) - 1}
        return [_encode(v, buffers, depth + 1) for v in value]
    if kind is tuple:
        return {"$tuple": [_encode(v, buffers, depth + 1) for v in value]}
    if kind is dict:
        if not all(type(k) is str for k in value):
            return {"$unsupported": "a dict with non-string keys"}
        return {"$dict": [[k, _encode(v, buffers, depth + 1)] for k, v in value.items()]}
    np = sys.modules.get("numpy")  # not imported yet: then nothing here is a numpy value
    if np is not None and isinstance(value, np.ndarray):
        spec = _array(np, np.asarray(value), buffers)
        return {"$nd": spec} if spec else {"$unsupported": f"an array of dtype {value.dtype}"}
    if np is not None and isinstance(value, np.generic):
        spec = _array(np, np.asarray(value), buffers)
        return {"$np": spec} if spec else {"$unsupported": f"a numpy {kind.__name__}"}
    if kind is PlainArray and value.dtype in DTYPES:
        buffers.append(value.data)
        return {"$nd": {"dtype": value.dtype, "shape": list(value.shape), "buf": len(buffers) - 1}}
    if kind is FunctionRef:
        return {"$fn": value.name}
    if kind is Ref:
        return {"$ref": [value.call_id, [_encode(p, buffers, depth + 1) for p in value.path]]}
    return {"$unsupported": f"a {kind.__module__}.{kind.__qualname__} object"}


def encode(message: dict[str, Any]) -> bytes:
    """One frame holding ``message`` (a dict whose values may be any encodable data)."""
    buffers: list[bytes] = []
    body = {key: _encode(val, buffers, 0) for key, val in message.items()}
    payload = json.dumps(body, allow_nan=False, separators=(",", ":")).encode()
    offsets, blob = [], bytearray()
    for buf in buffers:
        offsets.append([len(blob), len(buf)])
        blob += buf
    if offsets:
        payload = payload[:-1] + b',"$buffers":' + json.dumps(offsets).encode() + b"}"
    return HEADER.pack(len(payload), len(blob)) + payload + bytes(blob)


# -- decoding (strict) ----------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise WireError(f"non-standard JSON constant {name}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise WireError("duplicate key in JSON object")
    return result


def _to_array(spec: Any, blobs: list[bytes]) -> np.ndarray:
    import numpy as np

    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "buf"}:
        raise WireError("malformed array")
    dtype, shape, index = spec["dtype"], spec["shape"], spec["buf"]
    if dtype not in DTYPES:
        raise WireError(f"dtype {dtype!r} not allowed")
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_DIMS
        or not all(type(n) is int and n >= 0 for n in shape)
    ):
        raise WireError("malformed array shape")
    if type(index) is not int or not 0 <= index < len(blobs):
        raise WireError("array buffer index out of range")
    data = blobs[index]
    if math.prod(shape) * np.dtype(dtype).itemsize != len(data):
        raise WireError("array shape does not match its bytes")
    return np.frombuffer(data, dtype=np.dtype(dtype)).reshape(shape).astype(dtype[1:], copy=True)


def _decode(value: Any, blobs: list[bytes], depth: int, trusted: bool) -> Any:
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    kind = type(value)
    if value is None or kind in (bool, str, int):
        return value
    if kind is float:
        if not math.isfinite(value):
            raise WireError("non-finite float outside a $float marker")
        return value
    if kind is list:
        return [_decode(v, blobs, depth + 1, trusted) for v in value]
    if kind is not dict or len(value) != 1:
        raise WireError("unexpected JSON object")
    ((tag, body),) = value.items()
    if tag == "$float" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "$tuple" and type(body) is list:
        return tuple(_decode(v, blobs, depth + 1, trusted) for v in body)
    if tag == "$dict" and type(body) is list:
        out: dict[str, Any] = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise WireError("malformed dict entry")
            out[pair[0]] = _decode(pair[1], blobs, depth + 1, trusted)
        return out
    if tag == "$floats" and type(body) is int and 0 <= body < len(blobs):
        if len(blobs[body]) % 8:
            raise WireError("a list of floats whose bytes are not whole float64s")
        floats = _little_endian(array.array("d", blobs[body])).tolist()
        if not all(map(math.isfinite, floats)):
            raise WireError("non-finite float in a list of floats")
        return floats
    if tag == "$nd":
        return _to_array(body, blobs)
    if tag == "$np":
        arr = _to_array(body, blobs)
        if arr.shape != ():
            raise WireError("numpy scalar with a shape")
        return arr[()]
    if tag == "$unsupported" and type(body) is str:
        return Unsupported(body[:200])
    if trusted and tag == "$fn" and type(body) is str:
        return FunctionRef(body)
    if trusted and tag == "$ref" and type(body) is list and len(body) == 2:
        path = tuple(_decode(p, blobs, depth + 1, trusted) for p in body[1])
        return Ref(body[0], path)
    raise WireError(f"unknown or malformed marker {tag!r}")


def split_header(header: bytes, max_frame: int) -> tuple[int, int]:
    """The JSON and binary lengths announced by a frame header, checked against the caps."""
    json_len, bin_len = HEADER.unpack(header)
    if json_len > MAX_JSON or json_len + bin_len > max_frame:
        raise WireError(f"frame of {json_len + bin_len} bytes exceeds the {max_frame}-byte cap")
    return json_len, bin_len


def decode(payload: bytes, blob: bytes, *, from_trusted: bool = False) -> dict[str, Any]:
    """The message in one frame's body. Raises WireError on anything malformed."""
    try:
        raw = json.loads(
            payload.decode("utf-8"),
            parse_constant=_reject_constant,
            object_pairs_hook=_no_duplicates,
        )
    except (ValueError, RecursionError) as exc:
        raise WireError(f"invalid JSON frame: {exc}") from None
    if type(raw) is not dict:
        raise WireError("a frame must hold a JSON object")
    offsets = raw.pop("$buffers", [])
    if type(offsets) is not list:
        raise WireError("malformed buffer table")
    blobs = []
    for item in offsets:
        if (
            type(item) is not list
            or len(item) != 2
            or not all(type(n) is int and n >= 0 for n in item)
            or item[0] + item[1] > len(blob)
        ):
            raise WireError("malformed buffer table")
        blobs.append(blob[item[0] : item[0] + item[1]])
    try:
        return {key: _decode(val, blobs, 0, from_trusted) for key, val in raw.items()}
    except RecursionError:
        raise WireError("value nested too deeply") from None
