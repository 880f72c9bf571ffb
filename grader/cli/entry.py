"""The ``dlgrade`` console script.

For grading commands it boots a sandbox worker first, so that the worker's
start-up overlaps with the grader importing numpy, pytest and rich. Then it hands
over to :mod:`grader.cli.main`.
"""

from __future__ import annotations

import sys

GRADING_COMMANDS = ("check", "watch")


def main() -> None:
    args = sys.argv[1:]
    loop = not args or args == ["--poll"]
    if (loop or args[0] in GRADING_COMMANDS) and not {"-h", "--help"} & set(args):
        from grader.course.paths import hidden_from_sandbox
        from grader.sandbox.spawn import spawn_early

        hide = hidden_from_sandbox()
        spawn_early(hide)
    from grader.cli.main import main as cli_main

    cli_main()
