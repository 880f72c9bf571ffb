"""Fingerprints of the seed articles for the own-words guard (tests/test_own_words.py).

The articles themselves stay out of the repository. What ships instead is, for every seed,
the sha256 of the whole file and a truncated sha256 of every normalised run of RUN words,
sorted, so the guard can tell whether our content repeats an article's wording without
the article being present. Run it from a checkout that has ../shared/seeds/:

    python scripts/fingerprint_seeds.py            # rewrite tests/fixtures/own_words/
    python scripts/fingerprint_seeds.py --check    # exit 1 if the shipped file is stale
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"
FINGERPRINTS = ROOT / "tests" / "fixtures" / "own_words" / "fingerprints.json"
RUN = 8
DIGITS = 16  # hex digits kept of each sha256: 64 bits, no accidental collision in practice
NORMALISATION = "lower case, apostrophes dropped, words = [a-z0-9]+, runs joined by one space"


def words(text: str) -> list[str]:
    """Lower-cased words with punctuation stripped (apostrophes dropped inside words)."""
    return re.findall(r"[a-z0-9]+", re.sub(r"['’]", "", text.lower()))


def runs(text: str, size: int = RUN) -> set[tuple[str, ...]]:
    """Every run of `size` consecutive words of `text`."""
    tokens = words(text)
    return {tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def digest(run: tuple[str, ...]) -> str:
    """The fingerprint of one run of words."""
    return hashlib.sha256(" ".join(run).encode("utf-8")).hexdigest()[:DIGITS]


def fingerprints(text: str, size: int = RUN) -> set[str]:
    """The fingerprints of every run of `size` words in `text`."""
    return {digest(run) for run in runs(text, size)}


def build(seeds: Path = SEEDS) -> dict:
    """The fingerprint document for every *.txt article in `seeds`."""
    articles = sorted(seeds.glob("*.txt"))
    if not articles:
        raise FileNotFoundError(f"no seed articles (*.txt) in {seeds}")
    return {
        "run": RUN,
        "digits": DIGITS,
        "normalisation": NORMALISATION,
        "seeds": {
            path.name: {
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "runs": sorted(fingerprints(path.read_text(encoding="utf-8", errors="replace"))),
            }
            for path in articles
        },
    }


def dumps(document: dict) -> str:
    """The document as stable JSON text, one fingerprint per line."""
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def load(path: Path = FINGERPRINTS) -> dict:
    """The shipped fingerprint document."""
    return json.loads(path.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=SEEDS, help="folder of seed articles")
    parser.add_argument("--out", type=Path, default=FINGERPRINTS, help="fingerprint file")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    try:
        text = dumps(build(args.seeds))
    except FileNotFoundError as error:
        print(f"fingerprint_seeds: {error}", file=sys.stderr)
        return 2
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if current != text:
            print(f"{args.out} is out of date: run scripts/fingerprint_seeds.py", file=sys.stderr)
            return 1
        print(f"{args.out} matches {args.seeds}")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
