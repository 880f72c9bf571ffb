"""Assertions for checks, safe against whatever a learner's code sends back.

Values from the sandbox are already plain data (the wire decoder builds them),
but plain data can still mislead: a complex number passes ``np.allclose``, NaN
slips through ``not any(abs(a - b) > tol)``, a scalar broadcasts against an
array. So every comparison checks, in order: type, exact shape, numeric dtype,
finiteness, then closeness. A failure raises :class:`CheckFailed` carrying what
was expected, what came back and, when the value matches a known mistake, that
mistake's id (its hint text lives in ``exercises/info.toml``). For a random case the
expected value is described (kind, shape, which entries are off and by how much), never
printed; fixed inputs such as the articles' worked examples pass ``reveal=True``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

MISSING: Any = object()
Mistakes = Mapping[str, Any]


class CheckFailed(AssertionError):
    """A check's verdict: the learner's value is not the expected one."""

    def __init__(
        self,
        message: str,
        *,
        expected: Any = MISSING,
        got: Any = MISSING,
        mistake: str | None = None,
        call: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.got = got
        self.mistake = mistake
        self.call = call


def describe(value: Any, limit: int = 160, *, brief: bool = False) -> str:
    """A short, readable rendering of a value for feedback (``brief`` for call arguments)."""
    if isinstance(value, np.ndarray) and value.ndim:
        if brief and value.size > 8:
            text = f"<array of shape {value.shape}>"
        else:
            body = np.array2string(
                value, precision=4 if brief else 6, threshold=12, edgeitems=3, separator=", "
            )
            text = body if brief else f"{body}  (shape {value.shape}, {value.dtype})"
    elif isinstance(value, np.ndarray | np.generic):
        text = f"{value.item()!r}" if brief else f"{value.item()!r} ({value.dtype})"
    elif brief and isinstance(value, float):
        text = f"{value:.6g}"
    elif brief and isinstance(value, dict | list | tuple) and _holds_arrays(value):
        text = _brief_container(value, limit)
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _holds_arrays(value: dict | list | tuple) -> bool:
    values = value.values() if isinstance(value, dict) else value
    return any(isinstance(v, np.ndarray) for v in values)


def _brief_container(value: dict | list | tuple, limit: int) -> str:
    """A call argument that holds arrays (a dict of parameters, say), each entry brief,
    rendered only as far as ``limit`` shows it."""
    items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
    opening, closing = {dict: "{}", list: "[]"}.get(type(value), "()")
    parts, length = [], 0
    for key, item in items:
        part = describe(item, limit, brief=True)
        parts.append(f"{key!r}: {part}" if isinstance(value, dict) else part)
        length += len(parts[-1]) + 2
        if length > limit:
            break
    else:
        if isinstance(value, tuple) and len(value) == 1:
            parts[-1] += ","
    return opening[0] + ", ".join(parts) + closing[-1]


def as_numeric(got: Any, *, what: str = "the result") -> np.ndarray:
    """``got`` as a real-valued ndarray, or CheckFailed saying why it is not one."""
    if isinstance(got, bool | int | float | np.ndarray | np.generic):
        arr = np.asarray(got)
    elif isinstance(got, list | tuple):
        try:
            arr = np.asarray(got, dtype=float)
        except (TypeError, ValueError) as exc:
            raise CheckFailed(f"{what} should be numbers, got {describe(got)}", got=got) from exc
    else:
        kind = "nothing (None)" if got is None else f"a {type(got).__name__}"
        raise CheckFailed(f"{what} should be a number or an array, but it is {kind}", got=got)
    if arr.dtype.kind == "c":
        raise CheckFailed(f"{what} is complex ({arr.dtype}); it should be real numbers", got=got)
    if arr.dtype.kind not in "biuf":
        raise CheckFailed(f"{what} has dtype {arr.dtype}; it should hold numbers", got=got)
    return arr


def _matches(arr: np.ndarray, candidate: Any) -> bool:
    if callable(candidate):
        return bool(candidate(arr))
    wrong = np.asarray(candidate, dtype=float)
    return wrong.shape == arr.shape and bool(
        np.all(np.isfinite(arr)) and np.allclose(arr, wrong, rtol=1e-5, atol=1e-7)
    )


def find_mistake(arr: np.ndarray, mistakes: Mistakes | None) -> str | None:
    """The id of the first known mistake whose value (or predicate) ``arr`` matches."""
    for mistake_id, candidate in (mistakes or {}).items():
        try:
            if _matches(arr, candidate):
                return mistake_id
        except (ValueError, TypeError, FloatingPointError):
            continue
    return None


class Hidden:
    """Stands for an expected value in feedback without revealing it (random cases)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def hidden(expected: Any) -> Hidden:
    """What a learner may know about ``expected``: its kind and shape, not its entries."""
    if isinstance(expected, list | tuple) and not all(
        isinstance(v, bool | int | float | np.generic) for v in expected
    ):
        return Hidden(f"a {type(expected).__name__} of {len(expected)} entries")
    arr = np.asarray(expected)
    kind = {"b": "bool", "i": "int", "u": "int", "f": "float"}.get(arr.dtype.kind, "value")
    if isinstance(expected, list | tuple):
        return Hidden(f"a {type(expected).__name__} of {len(expected)} {kind}s")
    if arr.ndim == 0:
        return Hidden(f"an {kind}" if kind == "int" else f"a {kind}")
    return Hidden(f"an array of shape {arr.shape} ({kind}s)")


def _where(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def differences(got: np.ndarray, want: np.ndarray, bad: np.ndarray) -> str:
    """Which entries are off and by how much, without the expected values themselves."""
    diff = np.where(bad, np.abs(got - want), 0.0)
    if want.ndim == 0:
        return f"it is off by {float(diff):.2g}"
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape)
    return (
        f"{int(bad.sum())} of {bad.size} entries differ; largest difference "
        f"{float(diff[worst]):.2g} at {_where(worst)}"
    )


def tolerance(want: np.ndarray, rtol: float, atol: float | None) -> np.ndarray:
    """Allowed |got − want| per entry: relative to the entry (and, by default, to the array).

    Without ``atol`` the absolute floor is 1e-9 of the array's largest magnitude plus four
    units in the last place of each entry, so tiny values (a sigmoid's far tail) are judged
    relative to themselves, never against a fixed 1e-8.
    """
    magnitude = np.abs(want)
    if atol is None:
        scale = float(magnitude.max()) if magnitude.size else 0.0
        atol = 1e-9 * scale
    return atol + rtol * magnitude + 4 * np.spacing(magnitude)


def expect_close(
    got: Any,
    expected: Any,
    *,
    what: str = "the result",
    rtol: float = 1e-6,
    atol: float | None = None,
    finite: bool = True,
    float_dtype: bool = False,
    mistakes: Mistakes | None = None,
    reveal: bool = False,
) -> np.ndarray:
    """Fail unless ``got`` has ``expected``'s exact shape and is close to it elementwise.

    ``float_dtype`` also demands a floating dtype; ``mistakes`` maps mistake ids
    to the value that mistake produces (or a predicate on the learner's array).
    ``reveal`` shows the expected value in feedback: only for fixed inputs (the
    articles' worked examples); a random case is described by shape and differences.
    """
    want = np.asarray(expected, dtype=float)
    shown = expected if reveal else hidden(expected)
    arr = as_numeric(got, what=what)
    if arr.shape != want.shape:
        mistake = find_mistake(arr, mistakes)
        raise CheckFailed(
            f"{what} has shape {arr.shape}, expected shape {want.shape}",
            expected=shown,
            got=got,
            mistake=mistake,
        )
    if float_dtype and arr.dtype.kind != "f":
        raise CheckFailed(
            f"{what} has dtype {arr.dtype}, expected floating-point numbers",
            expected=shown,
            got=got,
        )
    values = arr.astype(float)
    if finite and not np.all(np.isfinite(values)):
        raise CheckFailed(
            f"{what} contains NaN or infinity",
            expected=shown,
            got=got,
            mistake=find_mistake(arr, mistakes),
        )
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(values - want) <= tolerance(want, rtol, atol)
    if not finite:
        close |= np.isnan(values) & np.isnan(want)
        close |= np.isinf(want) & (values == want)
    if not np.all(close):
        detail = "" if reveal else f": {differences(values, want, ~close)}"
        raise CheckFailed(
            f"{what} is not the expected value{detail}",
            expected=shown,
            got=got,
            mistake=find_mistake(arr, mistakes),
        )
    return values


def expect_equal(
    got: Any,
    expected: Any,
    *,
    what: str = "the result",
    mistakes: Mistakes | None = None,
    reveal: bool = False,
) -> None:
    """Fail unless ``got`` equals ``expected`` exactly (same type family, shape and values).

    ``reveal`` as for :func:`expect_close`.
    """
    shown = expected if reveal else hidden(expected)
    if isinstance(expected, np.ndarray | np.generic | int | float) and not isinstance(
        expected, bool
    ):
        arr = as_numeric(got, what=what)
        want = np.asarray(expected)
        if arr.shape != want.shape:
            raise CheckFailed(
                f"{what} has shape {arr.shape}, expected shape {want.shape}",
                expected=shown,
                got=got,
            )
        if not np.array_equal(arr, want):
            detail = "" if reveal else f": {differences(arr.astype(float), want, arr != want)}"
            raise CheckFailed(
                f"{what} is not the expected value{detail}",
                expected=shown,
                got=got,
                mistake=find_mistake(arr, mistakes),
            )
        return
    if type(got) is not type(expected):
        raise CheckFailed(
            f"{what} should be a {type(expected).__name__}, but it is "
            + ("nothing (None)" if got is None else f"a {type(got).__name__}"),
            expected=shown,
            got=got,
        )
    if got != expected:
        detail = ""
        if not reveal and isinstance(expected, list) and len(got) != len(expected):
            detail = f": it has {len(got)} entries, expected {len(expected)}"
        elif not reveal and isinstance(expected, list):
            off = [i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b]
            detail = f": {len(off)} of {len(expected)} entries differ, the first at [{off[0]}]"
        raise CheckFailed(f"{what} is not the expected value{detail}", expected=shown, got=got)


def expect_that(
    condition: bool,
    message: str,
    *,
    expected: Any = MISSING,
    got: Any = MISSING,
    mistake: str | None = None,
) -> None:
    """Fail with ``message`` unless ``condition`` holds (for checks of a property)."""
    if not condition:
        raise CheckFailed(message, expected=expected, got=got, mistake=mistake)


def expect_raises(action: Callable[[], Any], exception: str, *, what: str) -> None:
    """Fail unless ``action()`` makes the learner's code raise ``exception`` (by name).

    A subclass counts (``exception`` may be any builtin base the learner's
    exception derives from). ``NotImplementedError`` is never swallowed.
    """
    from grader.sandbox.errors import LearnerRaised

    try:
        got = action()
    except LearnerRaised as exc:
        if exc.is_a("NotImplementedError") or not exc.is_a(exception):
            if exc.is_a("NotImplementedError"):
                raise
            raise CheckFailed(
                f"{what} should raise {exception}, but raised {exc.type_name}: {exc.message}",
                expected=f"{exception} raised",
                got=f"{exc.type_name}: {exc.message}",
            ) from None
        return
    raise CheckFailed(
        f"{what} should raise {exception}, but returned {describe(got)}",
        expected=f"{exception} raised",
        got=got,
    )
