"""TextRank summaries pick real sentences from the text, the requested number, in order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plait.agents.summarize import summarize, textrank
from plait.agents.text import extract_text, split_sentences

DATA = Path(__file__).resolve().parents[3] / "examples" / "data"


@pytest.fixture(scope="module")
def report_text() -> str:
    text: str = extract_text(document_path=str(DATA / "quarterly_report.md"))["text"]
    return text


@pytest.mark.parametrize("count", [1, 3, 5])
def test_summary_has_exactly_n_sentences_taken_from_the_text(report_text: str, count: int) -> None:
    result = summarize(text=report_text, num_sentences=count)

    sentences = split_sentences(report_text)
    assert len(result["sentences"]) == count
    assert len(result["scores"]) == count
    assert result["indices"] == sorted(result["indices"])  # document order
    assert [sentences[i] for i in result["indices"]] == result["sentences"]
    assert result["summary"] == " ".join(result["sentences"])
    assert result["total_sentences"] == len(sentences)


def test_headings_and_table_rows_are_not_summary_material(report_text: str) -> None:
    result = summarize(text=report_text, num_sentences=5)

    for sentence in result["sentences"]:
        assert sentence[-1] in ".!?"
        assert " | " not in sentence


def test_summary_of_the_report_covers_its_main_facts(report_text: str) -> None:
    result = summarize(text=report_text, num_sentences=3)

    assert result["sentences"] == [
        "Revenue reached $14.2 million, up 18% on the same quarter last year, and recurring "
        "subscription revenue grew to 71% of the total.",
        "A supply shortage of sensor boards delayed hardware shipments in the West region for "
        "six weeks, and customer support response times worsened badly during the backlog.",
        "For the fourth quarter we expect revenue between $15.0 and $15.5 million and a further "
        "improvement in operating margin.",
    ]


def test_the_most_connected_sentence_wins() -> None:
    text = (
        "Solar panels cut energy bills. "
        "Solar panels and batteries cut energy bills and grid use. "
        "Batteries store energy for the night. "
        "Grid use falls when batteries store solar energy. "
        "My cat likes cardboard boxes."
    )

    result = summarize(text=text, num_sentences=1)

    assert result["sentences"] == ["Solar panels and batteries cut energy bills and grid use."]


def test_summarizing_is_deterministic(report_text: str) -> None:
    assert summarize(text=report_text, num_sentences=4) == summarize(
        text=report_text, num_sentences=4
    )


def test_short_text_returns_everything_it_has() -> None:
    result = summarize(text="Only one sentence here.", num_sentences=3)

    assert result["sentences"] == ["Only one sentence here."]
    assert result["indices"] == [0]


def test_empty_text_gives_an_empty_summary() -> None:
    result = summarize(text="", num_sentences=2)

    assert result == {
        "summary": "",
        "sentences": [],
        "indices": [],
        "scores": [],
        "total_sentences": 0,
    }
    json.dumps(result)


def test_textrank_scores_form_a_distribution() -> None:
    scores = textrank(["Cats purr.", "Cats purr loudly.", "Dogs bark."])

    assert sum(scores) == pytest.approx(1.0)
    assert scores[2] < scores[0]  # the unconnected sentence ranks last


@pytest.mark.parametrize("bad", [0, -1, True, 2.5, "3"])
def test_num_sentences_must_be_a_positive_integer(bad: object) -> None:
    with pytest.raises(ValueError, match="num_sentences must be a positive integer"):
        summarize(text="A. B.", num_sentences=bad)  # type: ignore[arg-type]
