"""Look glossary terms up by name, alias or id, forgiving typos (rapidfuzz)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from grader.study.content import Content, similarity, unknown
from grader.study.schema import Term

MATCH_SCORE = 85  # a fuzzy hit at least this good is taken as the answer...
AMBIGUOUS_GAP = 3  # ...unless another term scores within this many points of it
SUGGEST_SCORE = 65
NO_MATCH = "no glossary term matches '{query}'"


@dataclass
class Lookup:
    """The term a query found, or the terms it might have meant."""

    query: str
    term: Term | None
    suggestions: list[Term] = field(default_factory=list)

    def message(self) -> str:
        """One line for the learner when nothing matched well."""
        line = NO_MATCH.format(query=self.query)
        if self.suggestions:
            line += f"; did you mean {', '.join(t.term for t in self.suggestions)}?"
        return line


def _normal(text: str) -> str:
    return re.sub(r"[\s_-]+", " ", text.lower()).strip()


def lookup(content: Content, query: str, topic: str | None = None) -> Lookup:
    """Find the term ``query`` names: exact name, alias or id first, then the best fuzzy hit."""
    terms = terms_in(content, topic)
    names: dict[str, str] = {}
    for term in terms:
        for name in (term.term, term.id, *term.aliases):
            names.setdefault(_normal(name), term.id)
    wanted = _normal(query)
    if wanted in names:
        return Lookup(query, content.terms[names[wanted]])
    best: dict[str, float] = {}
    for name, term_id in names.items():
        best[term_id] = max(best.get(term_id, 0.0), similarity(wanted, name))
    ranked = sorted(best.items(), key=lambda item: -item[1])
    if ranked and ranked[0][1] >= MATCH_SCORE:
        runner_up = ranked[1][1] if len(ranked) > 1 else 0
        if ranked[0][1] - runner_up >= AMBIGUOUS_GAP:
            return Lookup(query, content.terms[ranked[0][0]])
    close = [content.terms[term_id] for term_id, score in ranked[:3] if score >= SUGGEST_SCORE]
    return Lookup(query, None, close)


def terms_in(content: Content, topic: str | None = None) -> list[Term]:
    """All terms (of one topic, if given) in alphabetical order; unknown topic -> UnknownName."""
    if topic is not None and topic not in content.topics:
        raise unknown("topic", topic, content.topics)
    chosen = [t for t in content.terms.values() if topic is None or t.topic == topic]
    return sorted(chosen, key=lambda term: term.term.lower())


def term_dict(content: Content, term: Term) -> dict[str, Any]:
    """A term as plain data, its sources spelled out by :meth:`Content.cite`."""
    return {
        "id": term.id,
        "term": term.term,
        "aliases": term.aliases,
        "definition": term.definition,
        "example": term.example,
        "related": term.related,
        "topic": term.topic,
        "exercises": term.exercises,
        "source": content.cite(term.sources[0]),
        "sources": content.citations(term),
    }
