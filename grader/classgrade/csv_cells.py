"""CSV cells that a spreadsheet shows as text and never runs as a formula."""

from __future__ import annotations

import unicodedata
from typing import Any

# What Excel, LibreOffice and Google Sheets read as the start of a formula (OWASP's list),
# with their full-width forms, which some spreadsheets fold to the ASCII signs.
FORMULA_SIGNS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\ufe66\u2212")
# Leading characters a spreadsheet may skip before it looks for a formula sign.
SKIPPED = frozenset("\t\r\n\x0b\x0c\"'")


def _starts_like_formula(text: str) -> bool:
    for char in text:
        if char in FORMULA_SIGNS:
            return True
        if char in SKIPPED or char.isspace() or unicodedata.category(char) in ("Cc", "Cf"):
            continue
        return False
    return False


def cell(value: Any) -> Any:
    """``value`` as a CSV cell: text that could start a formula gets a leading apostrophe.

    Student ids come from folder and file names that students choose; an instructor opening
    ``grades.csv`` must not run ``=HYPERLINK(...)`` by doing so, nor the same behind leading
    whitespace, line breaks, quotes, invisible format characters or a full-width ``＝``.
    A text that begins with a tab, carriage return or line feed is guarded too (OWASP).
    Numbers pass unchanged.
    """
    if not isinstance(value, str) or not value:
        return value
    if _starts_like_formula(value) or value[0] in "\t\r\n":
        return "'" + value
    return value
