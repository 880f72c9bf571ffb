"""Names that students control, made safe to use: feedback file names and person names.

Feedback goes to ``feedback/<student>.md``. ``<student>`` is the id folded to ASCII, with
every run of characters other than letters, digits and ``_`` turned into ``-``, no leading
or trailing ``-``/``_``, at most 40 characters (``student`` if nothing is left). When two
ids of a class give the same name (ignoring case, so also on case-insensitive disks), each
of them gets ``<student>-<10 hex digits of the id's SHA-256>.md`` instead; so does an id
whose own name equals one given out that way.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

SLUG_LENGTH = 40


def slug(student: str) -> str:
    """``student`` as a file name stem: ASCII letters, digits, ``_`` and ``-`` only."""
    ascii_id = unicodedata.normalize("NFKD", student).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9_]+", "-", ascii_id).strip("-_")[:SLUG_LENGTH] or "student"


def digest(student: str) -> str:
    return hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def feedback_names(students: Iterable[str]) -> dict[str, str]:
    """Every student's feedback file name, distinct for the class (see the module's rule)."""
    students = list(dict.fromkeys(students))
    counts = Counter(slug(s).lower() for s in students)
    names = {}
    for student in students:
        stem = slug(student)
        clash = counts[stem.lower()] > 1
        names[student] = f"{stem}-{digest(student)}.md" if clash else f"{stem}.md"
    taken = Counter(n.lower() for n in names.values())
    for student, name in names.items():  # an id that is itself a hashed name: hash it too
        if taken[name.lower()] > 1 and name == f"{slug(student)}.md":
            names[student] = f"{slug(student)}-{digest(student)}.md"
    return names


def person(name: str) -> str:
    """A person's name for matching: case, accents, punctuation and order ("Lee, Ann") aside."""
    if name.count(",") == 1:
        last, first = name.split(",")
        name = f"{first} {last}"
    folded = unicodedata.normalize("NFKD", name.casefold())
    letters = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(sorted(re.findall(r"\w+", letters)))
