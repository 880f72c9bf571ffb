"""The glossary and question bank: one pydantic schema, loaded from TOML, checked as a whole.

Content lives in folders that share one layout (sources.toml, topics.toml, terms/*.toml,
questions/*.toml): the bundled ``glossary/`` folder first, then the folders named in
``$DLGRADE_CONTENT`` and ``--content``. Every problem is a ``file:line: message``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from rapidfuzz import fuzz, utils
from rapidfuzz.distance import OSA

from grader.study.schema import (
    EXERCISE_IDS,
    EXERCISE_PREFIX,
    QUESTION_TYPES,
    SOURCE_KINDS,
    Question,
    Source,
    Term,
    Topic,
)

CONTENT_ENV = "DLGRADE_CONTENT"


class UnknownName(ValueError):
    """A learner asked for a term, topic, exercise or question id that does not exist."""


# (file or folder, TOML table name, schema) for each kind of entry in a content folder.
_LAYOUT: tuple[tuple[str, str, TypeAdapter[Any]], ...] = (
    ("sources.toml", "source", TypeAdapter(Source)),
    ("topics.toml", "topic", TypeAdapter(Topic)),
    ("terms", "term", TypeAdapter(Term)),
    ("questions", "question", TypeAdapter(Question)),
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the content, located in its file."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.path, "line": self.line, "message": self.message}


@dataclass
class _Block:
    """Line numbers of one TOML table, its keys and its sub-tables."""

    line: int
    keys: dict[str, int] = field(default_factory=dict)
    subs: dict[str, list[_Block]] = field(default_factory=dict)

    def line_of(self, loc: Sequence[str | int]) -> int:
        if not loc:
            return self.line
        head, rest = str(loc[0]), loc[1:]
        subs = self.subs.get(head, [])
        if rest and isinstance(rest[0], int) and rest[0] < len(subs):
            return subs[rest[0]].line_of(rest[1:])
        return self.keys.get(head, self.line)


@dataclass
class Content:
    """Everything loaded from the content folders, plus what is wrong with it."""

    sources: dict[str, Source] = field(default_factory=dict)
    topics: dict[str, Topic] = field(default_factory=dict)
    terms: dict[str, Term] = field(default_factory=dict)
    questions: dict[str, Question] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    origins: dict[tuple[str, str], tuple[int, str, _Block]] = field(default_factory=dict)
    folders: dict[int, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        counts = ", ".join(f"{len(self.table(kind))} {kind}s" for kind in ("term", "question"))
        return f"<Content {counts}, {len(self.problems)} problems>"

    def table(self, kind: str) -> dict[str, Any]:
        """The entries of one kind: source, topic, term or question."""
        tables = {"source": self.sources, "topic": self.topics, "term": self.terms}
        return tables.get(kind, self.questions)

    def questions_by_folder(self) -> dict[str, list[Question]]:
        """The questions of each content folder, in load order."""
        grouped: dict[str, list[Question]] = {}
        for question in self.questions.values():
            layer = self.origins[("question", question.id)][0]
            grouped.setdefault(self.folders.get(layer, "?"), []).append(question)
        return grouped

    def cite(self, ref: str) -> dict[str, Any]:
        """One source reference as {"id", "kind", "title", "author", "year", "text"}.

        ``text`` is how it is shown: an article as "title, author", a reference work as
        "reference: title (author, year)", an exercise as "course exercise 02_perceptron".
        """
        cited: dict[str, Any] = {"id": ref, "kind": None, "title": None, "author": None}
        cited |= {"year": None, "text": ref}
        source = self.sources.get(ref)
        if ref.startswith(EXERCISE_PREFIX):
            cited |= {"kind": "exercise", "text": f"course exercise {ref.split(':', 1)[1]}"}
        elif source is not None:
            text = f"{source.title}, {source.author}"
            if source.kind == "reference":
                text = f"reference: {source.title} ({source.author}, {source.year})"
            cited |= {"kind": source.kind, "title": source.title, "author": source.author}
            cited |= {"year": source.year, "text": text}
        return cited

    def citations(self, entry: Term | Question) -> list[dict[str, Any]]:
        """Every source an item cites, as :meth:`cite` dicts, the main one first."""
        return [self.cite(ref) for ref in entry.sources]

    def citation(self, entry: Term | Question) -> str:
        """The sources of an item as one line for a learner."""
        return "; ".join(c["text"] for c in self.citations(entry))


_HEADER = re.compile(r"^\s*\[\[?\s*([^\[\]\s]+)\s*\]\]?")
_KEY = re.compile(r'^\s*("[^"]*"|[A-Za-z0-9_-]+)\s*=')
_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)")


def _locate(text: str, table: str) -> tuple[_Block, list[_Block]]:
    """Map the i-th [[table]] (and its keys and [[table.sub]] tables) to line numbers."""
    top, blocks, open_quote = _Block(1), [], None
    current = top
    for number, line in enumerate(text.splitlines(), 1):
        if open_quote:
            open_quote = None if line.count(open_quote) % 2 else open_quote
            continue
        header = _HEADER.match(line)
        if header:
            name = header.group(1)
            current = _Block(number)
            if name == table:
                blocks.append(current)
            elif name.startswith(table + ".") and blocks:
                blocks[-1].subs.setdefault(name[len(table) + 1 :], []).append(current)
                blocks[-1].keys.setdefault(name[len(table) + 1 :], number)
            else:
                top.keys.setdefault(name.split(".")[0], number)
            continue
        key = _KEY.match(line)
        if key:
            current.keys.setdefault(key.group(1).strip('"'), number)
        open_quote = next((q for q in ('"""', "'''") if line.count(q) % 2), None)
    return top, blocks


def _message(error: Any, loc: tuple[str | int, ...]) -> str:
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    where = where.lstrip(".")
    if error["type"].startswith("union_tag"):
        return f"type must be one of {', '.join(QUESTION_TYPES)}"
    if error["type"] == "extra_forbidden":
        return f"unknown key '{loc[-1]}'"
    if error["type"] == "missing":
        return f"missing key '{where}'"
    if error["type"] in ("int_type", "float_type"):
        return f"{where}: must be a number"
    if error["type"] == "literal_error" and loc == ("kind",):
        return f"unknown source kind {error['input']!r}; use one of {', '.join(SOURCE_KINDS)}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _show(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _load_file(content: Content, layer: int, path: Path, table: str, schema: TypeAdapter) -> None:
    shown = _show(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        content.problems.append(Problem(shown, None, f"cannot read: {exc}"))
        return
    except tomllib.TOMLDecodeError as exc:
        at = _TOML_AT.search(str(exc))
        line = int(at.group(1)) if at else None
        column = f" (column {at.group(2)})" if at else ""
        message = f"TOML syntax: {_TOML_AT.sub('', str(exc))}{column}"
        content.problems.append(Problem(shown, line, message))
        return
    top, blocks = _locate(text, table)
    for key in data:
        if key != table:
            message = f"unknown table or key '{key}' (this file holds [[{table}]] tables)"
            content.problems.append(Problem(shown, top.line_of([key]), message))
    items = data.get(table, [])
    if not isinstance(items, list):
        content.problems.append(Problem(shown, top.line_of([table]), f"write [[{table}]] tables"))
        return
    for index, item in enumerate(items):
        block = blocks[index] if index < len(blocks) else top
        _add(content, layer, shown, block, table, schema, item)


def _add(
    content: Content,
    layer: int,
    shown: str,
    block: _Block,
    kind: str,
    schema: TypeAdapter,
    item: Any,
) -> None:
    label = repr(item.get("id")) if isinstance(item, dict) else "?"
    try:
        entry = schema.validate_python(item)
    except ValidationError as exc:
        found: list[Problem] = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            if kind == "question" and loc and isinstance(item, dict) and loc[0] == item.get("type"):
                loc = loc[1:]
            if error["type"].startswith("union_tag"):
                loc = ("type",)
            if loc and loc[-1] in ("int", "float"):  # the two arms of Number
                loc = loc[:-1]
            problem = Problem(shown, block.line_of(loc), f"{kind} {label}: {_message(error, loc)}")
            found += [problem] if problem not in found else []
        content.problems.extend(found)
        return
    table = content.table(kind)
    previous = content.origins.get((kind, entry.id))
    if previous:
        where = f"{previous[1]}:{previous[2].line}"
        verb = "duplicates the one" if previous[0] == layer else "collides with the one"
        message = f"{kind} id '{entry.id}' {verb} at {where}; ids must be unique"
        content.problems.append(Problem(shown, block.line_of(["id"]), message))
        return
    table[entry.id] = entry
    content.origins[(kind, entry.id)] = (layer, shown, block)


def similarity(query: str, name: str) -> float:
    """0-100 for how well ``query`` names ``name``; 85 and up is a confident match.

    One typo (two in a long name) scores 88-89 even in short words ("bais" -> "bias"); a query
    that is part of a longer name scores up to 85, never the other way round ("zebra" is not "b").
    """
    query, name = utils.default_process(query), utils.default_process(name)
    score = max(fuzz.ratio(query, name), fuzz.token_sort_ratio(query, name))
    if len(query) >= 4 and len(name) > len(query):
        score = max(score, 0.85 * fuzz.partial_ratio(query, name))
    edits = OSA.distance(query, name)
    if len(query) >= 4 and edits <= (1 if len(name) < 8 else 2):
        score = max(score, 90 - edits)
    return score


def did_you_mean(word: str, choices: Iterable[str], limit: int = 3) -> list[str]:
    """Up to ``limit`` of ``choices`` that look like ``word`` (best first)."""
    scored = sorted(((similarity(word, c), c) for c in choices), key=lambda sc: -sc[0])
    return [choice for score, choice in scored[:limit] if score >= 65]


def unknown(kind: str, word: str, choices: Iterable[str]) -> UnknownName:
    """An UnknownName error for ``word``, with suggestions when some are close."""
    close = did_you_mean(word, choices)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return UnknownName(f"unknown {kind} '{word}'{hint}")


def _references(entry: Term | Question, content: Content) -> list[tuple[str, str, Any, list]]:
    """(key, noun, known ids, referenced ids) for every cross-reference of an entry."""
    terms = entry.related if isinstance(entry, Term) else entry.terms
    return [
        ("topic", "topic", content.topics, [entry.topic]),
        ("source", "source", content.sources, entry.sources),
        ("exercises", "exercise", EXERCISE_IDS, entry.exercises),
        ("related" if isinstance(entry, Term) else "terms", "term", content.terms, terms),
    ]


def _source_ref_problem(ref: str) -> str | None:
    """What is wrong with a ``kind:id`` source reference, or None."""
    kind, _, name = ref.partition(":")
    if kind + ":" != EXERCISE_PREFIX:
        return f"unknown source kind '{kind}' in '{ref}'; use a sources.toml id or exercise:<id>"
    if name not in EXERCISE_IDS:
        return str(unknown("exercise", name, EXERCISE_IDS))
    return None


def _cross_check(content: Content) -> None:
    for kind, entries in (("term", content.terms), ("question", content.questions)):
        for entry in entries.values():
            _, shown, block = content.origins[(kind, entry.id)]
            for key, noun, known, values in _references(entry, content):
                for value in values:
                    if value == entry.id and key == "related":
                        problem = "a term cannot be related to itself"
                    elif key == "source" and ":" in value:
                        problem = _source_ref_problem(value)
                        if problem is None:
                            continue
                    elif value not in known:
                        problem = str(unknown(noun, value, known))
                    else:
                        continue
                    message = f"{kind} '{entry.id}': {key}: {problem}"
                    content.problems.append(Problem(shown, block.line_of([key]), message))


def _bundled_dir() -> Path:
    """The bundled glossary/ folder: the course root's, else the clone's, else the wheel's."""
    here = Path(__file__).resolve().parent.parent
    candidates = [here.parent / "glossary", here / "_course" / "glossary"]
    try:
        from grader.course.paths import course_root
    except ImportError:
        pass
    else:
        candidates.insert(0, course_root() / "glossary")
    return next((path for path in candidates if path.is_dir()), candidates[0])


def env_folders() -> list[Path]:
    """Extra content folders named in $DLGRADE_CONTENT (os.pathsep-separated)."""
    raw = os.environ.get(CONTENT_ENV, "")
    return [Path(part).expanduser() for part in raw.split(os.pathsep) if part.strip()]


def load_content(extra: Iterable[Path] = (), *, bundled: bool = True) -> Content:
    """Load the bundled content, $DLGRADE_CONTENT folders and ``extra`` folders, then check."""
    content = Content()
    folders = ([_bundled_dir()] if bundled else []) + env_folders() + [Path(p) for p in extra]
    seen: set[Path] = set()
    for layer, folder in enumerate(folders):
        if folder.resolve() in seen:
            continue
        seen.add(folder.resolve())
        content.folders[layer] = _show(folder)
        if not folder.is_dir():
            if layer or not bundled:
                content.problems.append(Problem(str(folder), None, "content folder not found"))
            continue
        for name, table, schema in _LAYOUT:
            target = folder / name
            paths = sorted(target.rglob("*.toml")) if target.is_dir() else [target]
            for path in paths:
                if path.is_file():
                    _load_file(content, layer, path, table, schema)
    _cross_check(content)
    return content
