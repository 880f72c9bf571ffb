"""Own words: no run of 8+ consecutive words of the bundled content appears in a seed article,
and no seed article is copied into the repository."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.content import _bundled_dir

ROOT = Path(__file__).resolve().parent.parent
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
RUN = 8
CONTENT_FILES = sorted(_bundled_dir().rglob("*.toml")) if _bundled_dir().is_dir() else []


def words(text: str) -> list[str]:
    """Lowercased words with punctuation stripped (apostrophes dropped inside words)."""
    return re.findall(r"[a-z0-9]+", re.sub(r"['’]", "", text.lower()))


def runs(text: str, size: int = RUN) -> set[tuple[str, ...]]:
    tokens = words(text)
    return {tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def strings(value: object) -> Iterator[str]:
    """Every string inside parsed TOML data."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


@pytest.fixture(scope="module")
def seed_runs() -> dict[tuple[str, ...], str]:
    if not SEEDS.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS}: cannot compare wording")
    found: dict[tuple[str, ...], str] = {}
    for seed in sorted(SEEDS.glob("*.txt")):
        for run in runs(seed.read_text(encoding="utf-8", errors="replace")):
            found.setdefault(run, seed.name)
    return found


def test_runs_are_found_when_present() -> None:
    article = "the quick brown fox jumps over the lazy dog again"
    assert runs("The quick, brown fox jumps over the lazy dog!") <= runs(article)
    assert not runs("the quick brown fox jumps over a lazy dog") & runs(article)


@pytest.mark.parametrize("path", CONTENT_FILES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_content_is_written_in_our_own_words(path: Path, seed_runs: dict) -> None:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    shared = [
        f"{' '.join(run)!r} (from {seed_runs[run]})"
        for text in strings(data)
        for run in sorted(runs(text))
        if run in seed_runs
    ]
    assert not shared, f"{path.name} repeats seed wording: " + "; ".join(shared[:5])


def test_no_seed_article_is_copied_into_the_repository() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS}")
    seeds = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name for p in SEEDS.glob("*.txt")}
    copies = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*")
        if ".git" not in path.parts
        and path.is_file()
        and path.stat().st_size < 1_000_000
        and hashlib.sha256(path.read_bytes()).hexdigest() in seeds
    ]
    assert copies == []
