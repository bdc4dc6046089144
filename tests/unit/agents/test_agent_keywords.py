"""RAKE keyphrases are the document's topics, never stop words or fragments across sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from plait.agents._stopwords import STOP_WORDS
from plait.agents.keywords import extract_keywords
from plait.agents.text import extract_text

DATA = Path(__file__).resolve().parents[3] / "examples" / "data"


def test_report_keywords_name_its_topics() -> None:
    text = extract_text(document_path=str(DATA / "quarterly_report.md"))["text"]

    result = extract_keywords(text=text, top_n=10)

    assert len(result["keywords"]) == 10
    assert result["phrases"] == [k["phrase"] for k in result["keywords"]]
    for topic in ("fleet insights add-on", "predictive maintenance alerts", "west region"):
        assert topic in result["phrases"]
    scores = [k["score"] for k in result["keywords"]]
    assert scores == sorted(scores, reverse=True)


def test_phrases_hold_no_stop_words_and_respect_max_words() -> None:
    text = extract_text(document_path=str(DATA / "quarterly_report.md"))["text"]

    result = extract_keywords(text=text, top_n=50, max_words=2)

    for phrase in result["phrases"]:
        words = phrase.split()
        assert 1 <= len(words) <= 2
        assert not set(words) & STOP_WORDS


def test_repeated_phrase_is_counted_and_ranked_first() -> None:
    text = "Battery life is great. The battery life could be longer. The screen is bright."

    result = extract_keywords(text=text, top_n=10)

    assert result["keywords"][0] == {"phrase": "battery life", "score": 8, "count": 2}
    # Equal scores and counts fall back to alphabetical order.
    assert result["phrases"] == ["battery life", "bright", "longer", "screen"]


def test_phrases_never_cross_punctuation_or_line_breaks() -> None:
    result = extract_keywords(text="Summary\nQuarterly revenue, margin growth", top_n=10)

    assert set(result["phrases"]) == {"summary", "quarterly revenue", "margin growth"}


def test_numbers_alone_are_not_keywords() -> None:
    assert extract_keywords(text="2024 42 3.5 100%")["keywords"] == []


@pytest.mark.parametrize(("name", "value"), [("top_n", 0), ("max_words", -2), ("top_n", True)])
def test_counts_must_be_positive_integers(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        extract_keywords(text="anything", **{name: value})  # type: ignore[arg-type]
