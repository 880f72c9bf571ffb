"""Own words: no run of 8+ consecutive words of the bundled content, the exercises or any other
text of the repository appears in a seed article, and no seed article is copied in.

The articles are not part of the repository; tests/fixtures/own_words/ holds their
fingerprints (scripts/fingerprint_seeds.py), so these checks run in every clone. Where the
articles are present (../shared/seeds), the fingerprints are also rebuilt and compared.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.study.content import _bundled_dir

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "fingerprint_seeds.py"
_spec = importlib.util.spec_from_file_location("fingerprint_seeds", SCRIPT)
fingerprint_seeds = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fingerprint_seeds)

SEEDS = fingerprint_seeds.SEEDS
RUN = fingerprint_seeds.RUN
runs = fingerprint_seeds.runs

CONTENT_FILES = sorted(_bundled_dir().rglob("*.toml")) if _bundled_dir().is_dir() else []
EXERCISE_FILES = sorted(
    path for folder in ("exercises", "solutions") for path in (ROOT / folder).glob("*.*")
)
TEXT_SUFFIXES = {".py", ".toml", ".md", ".txt", ".rst", ".ini", ".cfg", ".yml", ".yaml"}
SKIPPED_PARTS = {".git", ".venv", "fixtures", "__pycache__", "node_modules"}


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


def texts_of(path: Path) -> list[str]:
    """The prose of a file: each string of a TOML file, or the whole of any other text file."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    return list(strings(tomllib.loads(raw))) if path.suffix == ".toml" else [raw]


def index(document: dict) -> dict[str, str]:
    """Fingerprint -> name of the seed it comes from."""
    return {run: name for name, seed in document["seeds"].items() for run in seed["runs"]}


def copied(texts: list[str], seen: dict[str, str]) -> list[str]:
    """Each run of RUN words of `texts` whose fingerprint is a seed's, with that seed."""
    return [
        f"{' '.join(run)!r} (from {seen[fingerprint_seeds.digest(run)]})"
        for text in texts
        for run in sorted(runs(text))
        if fingerprint_seeds.digest(run) in seen
    ]


@pytest.fixture(scope="module")
def shipped() -> dict:
    return fingerprint_seeds.load()


@pytest.fixture(scope="module")
def seen(shipped: dict) -> dict[str, str]:
    return index(shipped)


def test_runs_are_found_when_present() -> None:
    article = "the quick brown fox jumps over the lazy dog again"
    assert runs("The quick, brown fox jumps over the lazy dog!") <= runs(article)
    assert not runs("the quick brown fox jumps over a lazy dog") & runs(article)


def test_a_copied_run_is_caught_and_a_reworded_one_is_not(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "article.txt").write_text(
        "Our old kettle boils water much faster whenever the lid stays firmly on top.",
        encoding="utf-8",
    )
    seen = index(fingerprint_seeds.build(seeds))
    content = tmp_path / "terms.toml"
    content.write_text(
        '[[term]]\nid = "gd"\n'
        'definition = "As the manual says, it BOILS water much faster whenever the lid-stays on."\n'
        'example = "A kettle with its lid on boils water faster than one without."\n',
        encoding="utf-8",
    )
    found = copied(texts_of(content), seen)
    assert found == ["'boils water much faster whenever the lid stays' (from article.txt)"]
    seven = "water much faster whenever the lid stays"
    assert copied([seven], seen) == []


def test_shipped_fingerprints_cover_every_cited_article(shipped: dict) -> None:
    sources = tomllib.loads((_bundled_dir() / "sources.toml").read_text(encoding="utf-8"))
    cited = {source["seed"] for source in sources["source"] if source.get("seed")}
    assert shipped["run"] == RUN and shipped["digits"] == fingerprint_seeds.DIGITS
    assert set(shipped["seeds"]) == cited
    for name, seed in shipped["seeds"].items():
        assert re.fullmatch(r"[0-9a-f]{64}", seed["sha256"]), name
        assert len(seed["runs"]) > 1000, f"{name}: too few fingerprints to guard anything"
        assert seed["runs"] == sorted(set(seed["runs"])), name
        assert all(re.fullmatch(r"[0-9a-f]{16}", run) for run in seed["runs"]), name


def test_shipped_fingerprints_match_the_seed_articles(shipped: dict) -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS}: the shipped fingerprints are used as is")
    assert fingerprint_seeds.build(SEEDS) == shipped, "run scripts/fingerprint_seeds.py"


def test_a_run_copied_from_a_real_article_is_caught(seen: dict[str, str]) -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS}: no real wording to copy")
    for seed in sorted(SEEDS.glob("*.txt")):
        tokens = fingerprint_seeds.words(seed.read_text(encoding="utf-8", errors="replace"))
        middle = len(tokens) // 2
        sentence = "We wrote this: " + " ".join(tokens[middle : middle + RUN]).upper() + "."
        assert copied([sentence], seen), f"a run of {seed.name} went unnoticed"


@pytest.mark.parametrize(
    "path",
    CONTENT_FILES + EXERCISE_FILES,
    ids=lambda p: str(p.relative_to(p.parents[1])),
)
def test_content_is_written_in_our_own_words(path: Path, seen: dict[str, str]) -> None:
    shared = copied(texts_of(path), seen)
    assert not shared, f"{path.name} repeats seed wording: " + "; ".join(shared[:5])


def test_no_other_text_of_the_repository_repeats_seed_wording(seen: dict[str, str]) -> None:
    checked = set(CONTENT_FILES + EXERCISE_FILES)
    others = [
        path
        for path in ROOT.rglob("*")
        if path.suffix in TEXT_SUFFIXES
        and path.is_file()
        and path not in checked
        and not SKIPPED_PARTS & set(path.relative_to(ROOT).parts)
    ]
    assert others
    shared = [
        f"{path.relative_to(ROOT)}: {found}"
        for path in others
        for found in copied([path.read_text(encoding="utf-8", errors="replace")], seen)
    ]
    assert not shared, "seed wording in the repository: " + "; ".join(shared[:5])


def test_no_seed_article_is_copied_into_the_repository(shipped: dict) -> None:
    seeds = {seed["sha256"]: name for name, seed in shipped["seeds"].items()}
    copies = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*")
        if ".git" not in path.parts
        and path.is_file()
        and path.stat().st_size < 1_000_000
        and hashlib.sha256(path.read_bytes()).hexdigest() in seeds
    ]
    assert copies == []
