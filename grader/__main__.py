"""``python -m grader`` is the ``dlgrade`` command."""

from grader.cli.entry import main

main()
