"""Moderation confidence separates clear-cut cases (> 0.95) from ones a person should see."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from plait.agents.classify import classify, moderate

DATA = Path(__file__).resolve().parents[3] / "examples" / "data"
SAMPLES: list[dict[str, str]] = json.loads(
    (DATA / "moderation_samples.json").read_text(encoding="utf-8")
)


def route(result: dict[str, Any]) -> str:
    """The guide's routing rule."""
    if result["confidence"] > 0.95:
        return "approve" if result["is_safe"] else "reject"
    return "human_review"


def test_samples_cover_each_route_three_times() -> None:
    expected = [s["expected"] for s in SAMPLES]
    assert sorted(expected) == ["approve"] * 3 + ["human_review"] * 3 + ["reject"] * 3


@pytest.mark.parametrize("sample", SAMPLES, ids=[s["id"] for s in SAMPLES])
def test_each_moderation_sample_routes_as_expected(sample: dict[str, str]) -> None:
    assert route(moderate(content=sample["content"])) == sample["expected"]


@pytest.mark.parametrize(
    "content",
    [
        "Thanks, this was really helpful!",
        "The meeting moved to Thursday at 10am.",
        "Feel free to ask if anything is unclear.",
        "Dumbbell exercises are good for your shoulders.",  # "dumb" only as a word
    ],
)
def test_clear_cut_safe_content_is_confidently_safe(content: str) -> None:
    result = moderate(content=content)

    assert result["is_safe"] is True
    assert result["confidence"] > 0.95
    assert result["labels"] == []


@pytest.mark.parametrize(
    ("content", "label"),
    [
        ("You are a worthless moron.", "toxicity"),
        ("I will hurt you if you post that again.", "threat"),
        ("Work from home and double your money, click here!", "spam"),
    ],
)
def test_clear_cut_unsafe_content_is_confidently_unsafe(content: str, label: str) -> None:
    result = moderate(content=content)

    assert result["is_safe"] is False
    assert result["confidence"] > 0.95
    assert label in result["labels"]


@pytest.mark.parametrize(
    "content",
    [
        "This update is pretty lame.",  # one borderline term
        "I am really disappointed and annoyed with the slow response.",  # negative tone only
        "More details on www.example.com",  # a link
        "THIS IS THE THIRD TIME I HAVE ASKED ABOUT MY ORDER",  # shouting
    ],
)
def test_ambiguous_content_is_left_for_review(content: str) -> None:
    result = moderate(content=content)

    assert 0.5 <= result["confidence"] <= 0.95
    assert result["reasons"]


def test_reasons_name_the_terms_that_fired() -> None:
    result = moderate(content="I know where you live.")

    assert result["labels"] == ["threat"]
    assert result["reasons"] == ['threat (severe): "i know where you live"']


def test_a_term_inside_a_longer_match_is_not_counted_twice() -> None:
    result = moderate(content="I hate you.")

    assert 'toxicity (severe): "hate you"' in result["reasons"]
    assert not any('"hate"' in reason for reason in result["reasons"])


def test_a_later_standalone_occurrence_still_counts() -> None:
    result = moderate(content="I hate you. I hate this place.")

    assert 'toxicity (borderline): "hate"' in result["reasons"]


def test_unsafe_probability_and_confidence_agree() -> None:
    for content in ("Nice work.", "You idiot.", "Kind of lame."):
        result = moderate(content=content)
        p = result["unsafe_probability"]
        assert result["confidence"] == pytest.approx(max(p, 1 - p), abs=1e-4)
        assert result["is_safe"] is (p < 0.5)
        json.dumps(result)


def test_moderate_rejects_non_text() -> None:
    with pytest.raises(TypeError, match="content must be a string, got list"):
        moderate(content=["hi"])  # type: ignore[arg-type]


TOPICS = {
    "billing": ["invoice", "refund", "charged"],
    "technical": ["crash", "error", "login"],
    "sales": ["pricing", "demo"],
}


def test_classify_picks_the_label_with_most_keyword_hits() -> None:
    result = classify(
        text="The app shows an error at login, then a crash. Also my invoice.", labels=TOPICS
    )

    assert result["label"] == "technical"
    assert result["scores"] == {"billing": 1, "technical": 3, "sales": 0}
    assert result["matches"]["technical"] == ["crash", "error", "login"]
    assert result["confidence"] == pytest.approx((3 + 1) / (4 + 3), abs=1e-4)


def test_classify_confidence_grows_with_unanimous_evidence() -> None:
    one = classify(text="refund please", labels=TOPICS)["confidence"]
    many = classify(text="refund the invoice, I was charged twice, refund now", labels=TOPICS)

    assert many["label"] == "billing"
    assert one == pytest.approx(2 / 4)
    assert many["confidence"] > one


def test_classify_without_hits_returns_the_default_with_zero_confidence() -> None:
    result = classify(text="Lovely weather today.", labels=TOPICS, default="other")

    assert result["label"] == "other"
    assert result["confidence"] == 0.0


def test_classify_ties_go_to_the_first_label() -> None:
    result = classify(text="A demo of the refund flow.", labels=TOPICS)

    assert result["label"] == "billing"
    assert result["confidence"] == pytest.approx(2 / 5)


def test_classify_matches_whole_words_and_phrases() -> None:
    labels = {"shipping": ["late delivery"], "account": ["log"]}

    result = classify(text="A LATE\n delivery again; the catalog is fine.", labels=labels)

    assert result["scores"] == {"shipping": 1, "account": 0}


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({}, "non-empty mapping"),
        ({"a": "single string"}, "label 'a' must be a list"),
        ({"a": ["ok", ""]}, "empty or non-string keyword"),
    ],
)
def test_classify_rejects_malformed_labels(labels: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        classify(text="x", labels=labels)
