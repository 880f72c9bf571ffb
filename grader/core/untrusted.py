"""Bounded, plain data from what a learner controls: clipped text, JSON types, safe terminals.

Everything that comes back across the sandbox boundary, or from a student's file and folder
names, goes through one of these before the trusted side keeps or shows it:

- :func:`clip` bounds a string once, where it enters (8 KB, then "… N bytes more");
- :func:`plain` turns any value into None, bool, int, finite float, str, list or str-keyed
  dict, so nothing a learner returned (a numpy ``float32``, say) reaches a result, the
  gradebook, an export or ``--resume`` unconverted;
- :func:`for_terminal` drops control characters (ESC, C1 codes, bidi overrides) and
  :func:`markup` also escapes Rich markup, for any string printed to a terminal.
"""

from __future__ import annotations

import math
import re
from typing import Any

CLIP_BYTES = 8 << 10
MORE = "… {n} bytes more"
PLAIN_DEPTH = 32
PLAIN_ITEMS = 10_000

# C0 controls except tab and newline, DEL, C1 controls, and the bidirectional overrides and
# isolates that reorder what a terminal shows (CVE-2021-42574, "Trojan Source").
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile("[\t\n]")


def clip(text: Any, limit: int = CLIP_BYTES) -> str:
    """``text`` (made a str) cut to ``limit`` UTF-8 bytes, saying how many bytes were left out."""
    if not isinstance(text, str):
        text = "" if text is None else _str(text)
    if len(text) <= limit // 4:  # four bytes at most per character: surely short enough
        return text
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return text
    kept = data[:limit].decode("utf-8", "ignore")
    return kept + MORE.format(n=len(data) - len(kept.encode("utf-8", "surrogatepass")))


def _str(value: Any) -> str:
    try:
        return str(value)
    except Exception:
        return f"<a {type(value).__name__} that cannot be shown>"


def plain(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON types only; anything else becomes a (clipped) string.

    numpy scalars and arrays become Python numbers and lists, tuples become lists, dict
    keys become strings, NaN and infinities their names. Very deep or very long values are
    cut short rather than followed.
    """
    kind = type(value)
    if value is None or kind in (bool, str):
        return value
    if kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else repr(value)
    if depth >= PLAIN_DEPTH:
        return "<nested too deeply>"
    if kind in (list, tuple):
        return [plain(v, depth + 1) for v in value[:PLAIN_ITEMS]]
    if kind is dict:
        return {
            k if type(k) is str else clip(k, 200): plain(v, depth + 1)
            for k, v in list(value.items())[:PLAIN_ITEMS]
        }
    if kind.__module__ == "numpy" and hasattr(value, "tolist"):
        size = getattr(value, "size", 1)
        if size > PLAIN_ITEMS:
            return f"<an array of {size} values>"
        converted = value.tolist()
        if type(converted) is kind:  # long double and its complex: no Python type to be
            converted = _str(converted) if value.dtype.kind == "c" else float(converted)
        return plain(converted, depth + 1)
    for base, exact in _EXACT:
        if isinstance(value, base):  # a subclass: its value as the base type
            return plain(exact(value), depth)
    return clip(value, 200)


_EXACT = ((bool, bool), (int, int.__index__), (float, float.__float__), (str, str.__str__))


def for_terminal(text: Any, *, one_line: bool = False) -> str:
    """``text`` without control characters (and, if ``one_line``, without line breaks)."""
    text = _CONTROL.sub("", text if isinstance(text, str) else _str(text))
    return _LINE_BREAKS.sub(" ", text) if one_line else text


def markup(text: Any, *, one_line: bool = True) -> str:
    """``text`` safe to interpolate into a Rich markup string: no controls, no tags."""
    from rich.markup import escape

    return escape(for_terminal(text, one_line=one_line))
