"""dlgrade: auto-graded deep-learning exercises, flashcards and quizzes."""

__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext grader``: the ``%dlgrade`` magic (:mod:`grader.notebook`, imported here).

    Imported by name: every module reads ``grader.__version__``, and none of them should
    depend on the notebook side (the layer contracts in pyproject.toml).
    """
    import importlib

    importlib.import_module("grader.notebook").load_ipython_extension(ipython)
