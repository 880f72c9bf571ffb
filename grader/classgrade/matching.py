"""Which exercise a submitted file is, from its name alone: exact, or near enough.

An LMS renames files (Canvas adds ``-1`` to a resubmission, browsers add `` (1)``) and
students misspell them or pick another extension. A name is matched to an exercise file
when, once the extension, a resubmission suffix and case are set aside, it equals the
exercise's name with or without its number, or is at least ``NEAR`` similar to it
(rapidfuzz's ratio) without naming another exercise's number. A name close to two
exercises is matched to neither. Matching only reads the name: the file stays unread.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

NEAR = 90
# Extensions a Python exercise file arrives with by mistake (or none at all).
TEXT_SUFFIXES = ("", ".py", ".pyw", ".py3", ".txt", ".text", ".py.txt")
# A resubmission or download copy: "name-1", "name (2)", "name_copy", "name - Copy".
_COPY = re.compile(r"(?:[-_ ]\(?\d{1,3}\)?|\s*\(\d{1,3}\)|[-_ ]+copy|\s+-\s+copy)$", re.I)
_NUMBER = re.compile(r"^(\d+)[-_ .]*")
_SEPARATORS = re.compile(r"[-_ .]+")


@dataclass(frozen=True)
class Match:
    """``name`` (as submitted) is the exercise file ``target``; ``score`` 100 is exact."""

    name: str
    target: str
    score: float
    copy: int = 0

    @property
    def exact(self) -> bool:
        return self.name == self.target

    def rank(self) -> tuple:
        """Sort key: the exact name first, then the closest, then the latest resubmission."""
        return (not self.exact, -self.score, -self.copy, self.name)


def _split(name: str) -> tuple[str, str]:
    """(stem, suffix) with a double suffix such as ``.py.txt`` kept whole."""
    lower = name.lower()
    for suffix in sorted((*TEXT_SUFFIXES, ".ipynb"), key=len, reverse=True):
        if suffix and lower.endswith(suffix):
            return name[: -len(suffix)], suffix
    dot = name.rfind(".")
    return (name, "") if dot <= 0 else (name[:dot], name[dot:].lower())


def _key(stem: str) -> tuple[str, int | None, int]:
    """(words without the number, the leading number, resubmission number) of a stem."""
    copy = 0
    found = _COPY.search(stem)
    if found and found.start() > 0:
        digits = re.sub(r"\D", "", found.group())
        copy = int(digits) if digits else 1
        stem = stem[: found.start()]
    number = None
    lead = _NUMBER.match(stem)
    if lead and lead.end() < len(stem):
        number, stem = int(lead.group(1)), stem[lead.end() :]
    words = _SEPARATORS.sub("_", stem.casefold()).strip("_")
    return words, number, copy


class Matcher:
    """Maps submitted names onto ``targets`` (the exercise file names a run grades)."""

    def __init__(self, targets: Iterable[str]) -> None:
        self.targets = list(dict.fromkeys(targets))
        self._keys = {}
        for target in self.targets:
            stem, suffix = _split(target)
            words, number, _ = _key(stem)
            self._keys[target] = (words, number, suffix)

    def __call__(self, name: str) -> Match | None:
        return self.match(name)

    def match(self, name: str) -> Match | None:
        """The exercise file ``name`` stands for, or None (unknown, or close to two)."""
        if name in self._keys:
            return Match(name, name, 100.0)
        stem, suffix = _split(name)
        words, number, copy = _key(stem)
        if not words:
            return None
        best: list[tuple[float, str]] = []
        for target, (t_words, t_number, t_suffix) in self._keys.items():
            if not _same_kind(suffix, t_suffix):
                continue
            if number is not None and t_number is not None and number != t_number:
                continue
            score = 100.0 if words == t_words else fuzz.ratio(words, t_words)
            if score >= NEAR:
                best.append((score, target))
        best.sort(reverse=True)
        if not best or (len(best) > 1 and best[1][0] == best[0][0]):
            return None
        return Match(name, best[0][1], best[0][0], copy)


def _same_kind(suffix: str, target_suffix: str) -> bool:
    """A notebook matches notebooks only; text-like names match ``.py`` exercise files."""
    if target_suffix == ".ipynb" or suffix == ".ipynb":
        return suffix == target_suffix
    return suffix in TEXT_SUFFIXES and target_suffix in TEXT_SUFFIXES
