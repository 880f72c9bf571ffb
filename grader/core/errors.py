"""The one family of user-facing errors: a one-line message and an exit code, never a traceback.

Message templates are constants so that tests can import them.
"""

from __future__ import annotations

import click

NO_WORKSPACE = (
    "No dlgrade workspace here. Run `dlgrade init DIR` and work inside DIR, "
    "or run dlgrade from a clone of the course."
)
FILE_MISSING = "{path}: no such file"
FILE_TOO_LARGE = "{path}: the file is larger than {limit} KiB"


class InputError(click.UsageError):
    """Bad usage or bad input (unknown exercise, missing file, broken data): exit 2."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)


class StoreError(InputError):
    """dlgrade's own database or its folder cannot be used: the message names it and the fix."""


class GraderError(click.ClickException):
    """The grader itself failed (the sandbox would not start): exit 3, never a learner's zero."""

    exit_code = 3
