"""``python -m grader`` is the ``dlgrade`` command."""

from grader.entry import main

main()
