"""Glossary lookup: names, aliases, ids and typos; did-you-mean; list and JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import grader.study.content as content_module
from grader.cli.study import glossary
from grader.study.content import load_content
from grader.study.glossary import lookup

VALID = Path(__file__).resolve().parent / "fixtures" / "content" / "valid"
LIST_KEYS = {"id", "term", "definition", "topic", "source", "aliases", "example", "related"}


@pytest.fixture(autouse=True)
def fixture_content(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(content_module.CONTENT_ENV, raising=False)
    monkeypatch.setattr(content_module, "_bundled_dir", lambda: VALID)


def run(*args: str):
    return CliRunner().invoke(glossary, list(args))


@pytest.mark.parametrize(
    ("query", "term_id"),
    [
        ("weight", "weight"),
        ("Learning Rate", "learning-rate"),
        ("alpha", "learning-rate"),
        ("GD", "gradient-descent"),
        ("gradient-descent", "gradient-descent"),
        ("lerning rate", "learning-rate"),
        ("bais", "bias"),
        ("wieght", "weight"),
        ("descent", "gradient-descent"),
    ],
)
def test_lookup_finds_names_aliases_ids_and_typos(query: str, term_id: str) -> None:
    found = lookup(load_content(), query)
    assert found.term is not None and found.term.id == term_id


def test_lookup_shows_definition_example_related_and_source() -> None:
    result = run("lerning", "rate")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "How far each update moves the weights" in text
    assert "Too large a step overshoots" in text
    assert "gradient descent" in text and "epoch" in text
    assert "An introduction to deep learning, IBM Developer" in text


def test_no_good_match_exits_2_with_one_line_and_suggestions() -> None:
    result = run("learning", "speed")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "did you mean learning rate" in result.stderr


def test_short_aliases_do_not_swallow_unrelated_words() -> None:
    result = run("zebra")  # the fixture's "b" and "w" aliases sit inside longer words
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: no glossary term matches 'zebra'"


def test_list_json_has_every_term_with_source_object() -> None:
    result = run("--list", "--json")
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert len(items) == 5
    for item in items:
        assert set(item) >= LIST_KEYS
        assert set(item["source"]) == {"id", "kind", "title", "author", "year", "text"}
        assert item["sources"][0] == item["source"]
    bias = next(item for item in items if item["id"] == "bias")
    assert bias["source"] == {
        "id": "west",
        "kind": "article",
        "title": "An Introduction to Deep Learning",
        "author": "Mark West",
        "year": None,
        "text": "An Introduction to Deep Learning, Mark West",
    }


def test_topic_filters_the_list() -> None:
    items = json.loads(run("--list", "--topic", "training", "--json").stdout)
    assert sorted(item["id"] for item in items) == ["epoch", "gradient-descent", "learning-rate"]


def test_unknown_topic_exits_2_with_did_you_mean() -> None:
    result = run("--list", "--topic", "trainig")
    assert result.exit_code == 2
    assert "did you mean 'training'" in result.stderr


def test_single_term_json() -> None:
    item = json.loads(run("offset", "--json").stdout)
    assert item["id"] == "bias" and item["related"] == ["weight"]


def test_human_list_shows_every_term() -> None:
    result = run("--list")
    assert result.exit_code == 0
    for name in ("bias", "epoch", "gradient descent", "learning rate", "weight"):
        assert name in result.stdout
