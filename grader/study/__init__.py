"""Flashcards and quizzes.

Content schema and loading, glossary, FSRS cards, quizzes, exports and their rendering.
"""
