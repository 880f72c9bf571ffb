"""dlgrade: auto-graded deep-learning exercises, flashcards and quizzes."""

__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext grader``: the ``%dlgrade`` magic (:mod:`grader.notebook`, imported here)."""
    from grader import notebook

    notebook.load_ipython_extension(ipython)
