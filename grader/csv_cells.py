"""CSV cells that a spreadsheet shows as text and never runs as a formula."""

from __future__ import annotations

from typing import Any

# What Excel, LibreOffice and Google Sheets read as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """``value`` as a CSV cell: text that starts like a formula gets a leading apostrophe.

    Student ids come from folder and file names that students choose; an instructor opening
    ``grades.csv`` must not run ``=HYPERLINK(...)`` by doing so. Numbers pass unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
