"""Sentiment scores real passages the way a reader would, sentence by sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plait.agents import sentiment
from plait.agents.sentiment import analyze, analyze_many, label_for
from plait.agents.text import extract_text, split_sentences

DATA = Path(__file__).resolve().parents[3] / "examples" / "data"

POSITIVE = (
    "Halden Systems delivered its strongest quarter to date. Operating margin improved to "
    "12.4%, compared with 9.1% a year ago. We are proud of this progress and grateful to the "
    "teams who made it possible."
)
NEGATIVE = (
    "The quarter was not without problems. A supply shortage of sensor boards delayed hardware "
    "shipments in the West region for six weeks, and customer support response times worsened "
    "badly during the backlog. We are sorry for the frustration this caused our customers."
)


def test_positive_passage_scores_positive() -> None:
    result = analyze(text=POSITIVE)

    assert result["label"] == "positive"
    assert result["compound"] > 0.3
    assert result["counts"] == {"positive": 3, "negative": 0, "neutral": 0}
    assert result["most_negative"] is None


def test_negative_passage_scores_negative() -> None:
    result = analyze(text=NEGATIVE)

    assert result["label"] == "negative"
    assert result["compound"] < -0.3
    assert result["most_positive"] is None
    assert result["most_negative"]["text"].startswith("A supply shortage of sensor boards")


def test_sentences_are_scored_individually_and_extremes_reported() -> None:
    text = extract_text(document_path=str(DATA / "quarterly_report.md"))["text"]

    result = analyze(text=text)

    compounds = [s["compound"] for s in result["sentences"]]
    assert [s["text"] for s in result["sentences"]] == split_sentences(text)
    assert result["sentence_count"] == len(compounds)
    assert sum(result["counts"].values()) == len(compounds)
    assert result["most_positive"]["compound"] == max(compounds)
    assert result["most_negative"]["compound"] == min(compounds)
    assert result["most_positive"]["text"] == (
        "We are proud of this progress and grateful to the teams who made it possible."
    )
    assert all(s["label"] == label_for(s["compound"]) for s in result["sentences"])


def test_mixed_report_is_mildly_positive_not_saturated() -> None:
    # VADER on the whole text would report ~0.99; the sentence average reflects the mix.
    text = extract_text(document_path=str(DATA / "quarterly_report.md"))["text"]

    result = analyze(text=text)

    assert result["label"] == "positive"
    assert 0.05 < result["compound"] < 0.5
    assert result["counts"]["negative"] >= 8


def test_empty_text_is_neutral() -> None:
    assert analyze(text="") == {
        "label": "neutral",
        "compound": 0.0,
        "positive": 0.0,
        "negative": 0.0,
        "neutral": 1.0,
        "sentence_count": 0,
        "counts": {"positive": 0, "negative": 0, "neutral": 0},
        "sentences": [],
        "most_positive": None,
        "most_negative": None,
    }


@pytest.mark.parametrize(
    ("compound", "label"),
    [(0.05, "positive"), (0.0499, "neutral"), (-0.0499, "neutral"), (-0.05, "negative")],
)
def test_labels_use_vader_cutoffs(compound: float, label: str) -> None:
    assert label_for(compound) == label


def test_customer_feedback_counts_match_the_data_readme() -> None:
    lines = extract_text(document_path=str(DATA / "customer_feedback.txt"))["text"].splitlines()

    result = analyze_many(texts=lines)

    assert result["counts"] == {"positive": 8, "negative": 6, "neutral": 1}
    assert [r["index"] for r in result["results"] if r["label"] == "negative"] == [
        2,
        4,
        6,
        9,
        11,
        14,
    ]
    assert result["average_compound"] == pytest.approx(0.1362, abs=1e-4)
    assert result["label"] == "positive"


def test_analyze_many_of_nothing_is_neutral() -> None:
    assert analyze_many(texts=[]) == {
        "label": "neutral",
        "average_compound": 0.0,
        "counts": {"positive": 0, "negative": 0, "neutral": 0},
        "results": [],
    }


def test_the_analyzer_is_built_once_and_reused() -> None:
    analyze(text="Good.")
    first = sentiment._analyzer
    analyze(text="Bad.")

    assert first is not None
    assert sentiment._analyzer is first


def test_results_are_json_serialisable() -> None:
    json.dumps(analyze(text=POSITIVE + " " + NEGATIVE))
    json.dumps(analyze_many(texts=["Great!", "Awful."]))


def test_non_string_input_is_rejected_with_its_type() -> None:
    with pytest.raises(TypeError, match="text must be a string, got int"):
        analyze(text=42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="texts must be a list"):
        analyze_many(texts="one string")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"texts\[1\] must be a string"):
        analyze_many(texts=["fine", None])  # type: ignore[list-item]


def test_passing_a_whole_extraction_result_points_at_its_text_field() -> None:
    extracted = extract_text(content="Fine.")

    with pytest.raises(TypeError, match="pass its 'text' field"):
        analyze(text=extracted)  # type: ignore[arg-type]
