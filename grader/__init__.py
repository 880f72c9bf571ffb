"""dlgrade: auto-graded deep-learning exercises, flashcards and quizzes."""

__version__ = "0.1.0"
