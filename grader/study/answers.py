"""Reading answers as a person types them: one place that normalises words and numbers.

Short answers: case, spacing, hyphens, a leading article, a final full stop, plural forms and
one typo in a long word do not matter, and the glossary's aliases of an accepted term count.
Numbers: digit groups (``407,050``), a typographic minus, a decimal comma where it cannot be a
digit group (``0,5``; ``1,000`` is a thousand), a trailing ``%`` where the question asks
for a percentage, and trailing words or a leading ``$`` that the question itself names
("13 trillion" to "How many trillion US dollars...?").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

import inflection
from rapidfuzz.distance import OSA

TRUE_WORDS = {"true", "t", "yes", "y"}
FALSE_WORDS = {"false", "f", "no", "n"}
ARTICLES = ("the", "a", "an")
LATIN_PLURALS = (("um", "a"), ("us", "i"), ("on", "a"))  # minimum/minima, ...
TYPO_LENGTH = 8  # answers at least this long may differ from an accepted one by one edit
MINUS_SIGNS = "\u2212\u2012\u2013\ufe63\uff0d"  # minus, figure dash, en dash, small/wide minus
GROUP_SPACES = " \u00a0\u202f\u2009_"
PERCENT_WORDS = re.compile(r"%|\bper ?cent", re.IGNORECASE)
DIGIT_GROUPS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d*)?([eE][-+]?\d+)?$")
DECIMAL_COMMA = re.compile(r"^[-+]?\d*,\d+([eE][-+]?\d+)?$")


class Unreadable(ValueError):
    """An answer that cannot be read as what the question asks for; str() is the note."""


def truth(text: str) -> bool:
    """true/false, yes/no, t/f, y/n in any case."""
    word = text.strip().lower()
    if word in TRUE_WORDS | FALSE_WORDS:
        return word in TRUE_WORDS
    raise ValueError("answer true or false")


def asks_percent(prompt: str) -> bool:
    """Whether a numeric question asks for a percentage (so a trailing % may be typed)."""
    return bool(PERCENT_WORDS.search(prompt))


def _without_named_units(text: str, prompt: str) -> str:
    """``text`` without trailing words (and a leading $) that the prompt names as the unit."""
    named = {inflection.singularize(w) for w in re.findall(r"[a-z]+", prompt.lower())}
    if "dollar" in named:
        text = re.sub(r"^(US|USD)?\s*\$\s*", "", text, flags=re.IGNORECASE)
    head, _, tail = text.partition(" ")
    words = re.findall(r"[A-Za-z]+", tail)
    if (
        head
        and words
        and " ".join(words) == tail.strip()
        and all(inflection.singularize(w.lower()) in named for w in words)
    ):
        return head
    return text


def parse_number(text: str, *, percent: bool = False, prompt: str = "") -> Decimal:
    """What a person means by ``text`` as a number; Unreadable with a note if it means none."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if prompt:
        cleaned = _without_named_units(cleaned, prompt)
    for sign in MINUS_SIGNS:
        cleaned = cleaned.replace(sign, "-")
    for space in GROUP_SPACES:
        cleaned = cleaned.replace(space, "")
    note = f"could not read '{text.strip()}' as a number"
    if cleaned.endswith("%"):
        if not percent:
            raise Unreadable(f"{note}: this question asks for a plain number, not a percentage")
        cleaned = cleaned[:-1]
    if "," in cleaned:
        if DIGIT_GROUPS.match(cleaned):
            cleaned = cleaned.replace(",", "")
        elif DECIMAL_COMMA.match(cleaned) and len(cleaned.split(",")[1].split("e")[0]) != 3:
            cleaned = cleaned.replace(",", ".")
        else:
            raise Unreadable(f"{note}: write 1,000 for a thousand or 0.5 for a half")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise Unreadable(note) from None
    if not value.is_finite():
        raise Unreadable(f"{note}: it must be finite")
    return value


def words(text: str) -> str:
    """Lower case, no leading article, one space between words, no hyphens or final stop."""
    text = unicodedata.normalize("NFKC", text).lower().strip()
    text = re.sub(r"[\s_\-\u2010\u2011]+", " ", text).strip(" .!?\"'\u2018\u2019\u201c\u201d")
    first, _, rest = text.partition(" ")
    return rest if first in ARTICLES and rest else text


def forms(text: str) -> set[str]:
    """``text`` (normalised) in singular and plural, spaces and hyphens dropped."""
    base = words(text)
    head, _, last = base.rpartition(" ")
    lasts = {last, inflection.singularize(last), inflection.pluralize(last)}
    if re.search(r"(s|x|ch|sh)es$", last):
        lasts.add(last[:-2])
    for singular, plural in LATIN_PLURALS:
        if last.endswith(plural) and len(last) > 4:
            lasts.add(last[: -len(plural)] + singular)
        if last.endswith(singular) and len(last) > 4:
            lasts.add(last[: -len(singular)] + plural)
    return {(head + word).replace(" ", "") for word in lasts}


def matches(text: str, accepted: Iterable[str]) -> bool:
    """Whether a short answer names one of ``accepted`` (see the module docstring)."""
    given = forms(text)
    for answer in accepted:
        wanted = forms(answer)
        if given & wanted:
            return True
        plain, target = words(text).replace(" ", ""), words(answer).replace(" ", "")
        if len(target) >= TYPO_LENGTH and OSA.distance(plain, target) <= 1:
            return True
    return False
