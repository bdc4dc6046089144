"""Text extraction reads every supported format as plain text, and splits sentences sanely."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from plait.agents.text import extract_text, split_sentences

DATA = Path(__file__).resolve().parents[3] / "examples" / "data"


def test_markdown_is_rendered_to_plain_text_without_syntax() -> None:
    result = extract_text(document_path=str(DATA / "quarterly_report.md"))

    text = result["text"]
    assert result["format"] == "markdown"
    assert result["title"] == "Halden Systems: Q3 2024 Quarterly Update"
    assert result["source"] == str((DATA / "quarterly_report.md").resolve())
    assert text.startswith("Halden Systems: Q3 2024 Quarterly Update\n\n")
    assert "Revenue reached $14.2 million, up 18%" in text
    assert "North | 4.6 | 22%" in text  # table rows survive as lines
    for syntax in ("# ", "**", "|---", "-----:"):
        assert syntax not in text
    assert result["characters"] == len(text)
    assert result["words"] == len(text.split())
    assert result["sentences"] == len(split_sentences(text))


def test_markdown_lists_links_and_code_become_readable_lines() -> None:
    source = "Intro with a [link](https://example.com) and `code`.\n\n* one\n* two\n\nAfter."

    assert extract_text(content=source, format="markdown")["text"] == (
        "Intro with a link and code.\n\n- one\n- two\n\nAfter."
    )


def test_html_keeps_visible_text_and_drops_scripts_styles_and_comments() -> None:
    result = extract_text(document_path=str(DATA / "product_brief.html"))

    text = result["text"]
    assert result["format"] == "html"
    assert result["title"] == "Fleet Insights Product Brief"
    assert text.startswith("Fleet Insights\n\n")
    # Inline tags and source line wrapping do not break the sentence.
    assert (
        "Fleet Insights turns vehicle telemetry into maintenance warnings that dispatchers "
        "can act on before a breakdown happens." in text
    )
    assert "- Exports to CSV & the Halden route planner" in text  # entity decoded, bullet kept
    assert "Standard | $4 / month" in text
    for hidden in ("analytics snippet", "font-family", "internal note", "DOCTYPE", "html"):
        assert hidden not in text


def test_pdf_text_is_extracted_from_every_page() -> None:
    result = extract_text(document_path=str(DATA / "sample.pdf"))

    assert result["format"] == "pdf"
    assert result["title"] == "Halden Systems Field Service Memo"
    assert (
        "The West region backlog of sensor board orders was cleared on 14 November."
        in (result["text"])
    )
    assert (
        "Predictive maintenance alerts will reach general availability in January."
        in (result["text"])
    )


def test_make_pdf_script_rebuilds_a_readable_pdf(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_pdf", DATA / "make_pdf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    target = tmp_path / "rebuilt.pdf"

    module.build(target)

    rebuilt = extract_text(document_path=str(target))["text"]
    assert rebuilt == extract_text(document_path=str(DATA / "sample.pdf"))["text"]
    for line in module.PAGES[1]:
        assert line in rebuilt


def test_plain_text_file_keeps_its_lines() -> None:
    result = extract_text(document_path=str(DATA / "customer_feedback.txt"))

    lines = result["text"].splitlines()
    assert result["format"] == "text"
    assert result["title"] is None
    assert len(lines) == 15
    assert lines[13] == "It works as described."


def test_raw_content_defaults_to_plain_text_and_names_its_source() -> None:
    result = extract_text(content="  Hello there.\r\nSecond line!  \n\n\n\nEnd.  ")

    assert result == {
        "text": "Hello there.\nSecond line!\n\nEnd.",
        "format": "text",
        "source": "<content>",
        "title": None,
        "characters": 31,
        "words": 5,
        "sentences": 3,
    }


def test_format_override_reads_raw_html() -> None:
    result = extract_text(content="<p>A &lt;b&gt; tag.</p>", format="HTML")

    assert result["format"] == "html"
    assert result["text"] == "A <b> tag."


def test_missing_file_error_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.md"

    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        extract_text(document_path=str(missing))


def test_unknown_suffix_error_names_suffix_and_supported_ones(tmp_path: Path) -> None:
    document = tmp_path / "notes.docx"
    document.write_text("x")

    with pytest.raises(ValueError, match=r"'\.docx'.*\.md.*\.pdf"):
        extract_text(document_path=str(document))


def test_unknown_suffix_can_be_read_with_an_explicit_format(tmp_path: Path) -> None:
    document = tmp_path / "notes.log"
    document.write_text("Disk full.\n")

    assert extract_text(document_path=str(document), format="text")["text"] == "Disk full."


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of"),
        ({"document_path": "a.txt", "content": "b"}, "exactly one of"),
        ({"content": "x", "format": "pdf"}, "needs a file"),
        ({"content": "x", "format": "docx"}, "unknown format 'docx'"),
    ],
)
def test_bad_arguments_are_explained(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        extract_text(**kwargs)


def test_a_directory_is_not_a_document(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match="directory"):
        extract_text(document_path=str(tmp_path))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        (
            "Revenue grew 3.5% to $4.2M. Margins rose.",
            ["Revenue grew 3.5% to $4.2M.", "Margins rose."],
        ),
        (
            "Dr. Smith met Mrs. Jones. They agreed.",
            ["Dr. Smith met Mrs. Jones.", "They agreed."],
        ),
        (
            "Use tools, e.g. Python, i.e. the best one. Then ship.",
            ["Use tools, e.g. Python, i.e. the best one.", "Then ship."],
        ),
        ("J. R. Tolkien wrote it. He was British.", ["J. R. Tolkien wrote it.", "He was British."]),
        ("See No. 5 on the list. Done.", ["See No. 5 on the list.", "Done."]),
        ("Say no. Then leave.", ["Say no.", "Then leave."]),
        ("It ended at 5 p.m. on Monday.", ["It ended at 5 p.m. on Monday."]),
        ('He said "Great." Then left.', ['He said "Great."', "Then left."]),
        (
            "We sell apples, pears, etc. The rest is seasonal.",
            [
                "We sell apples, pears, etc.",
                "The rest is seasonal.",
            ],
        ),
        ("Wait... What happened?", ["Wait...", "What happened?"]),
        ("Heading\n\nBody text here.", ["Heading", "Body text here."]),
        ("A line that wraps\nonto the next. Done.", ["A line that wraps onto the next.", "Done."]),
        (
            "Intro:\n- first item\n- second item\n1. numbered",
            [
                "Intro:",
                "first item",
                "second item",
                "1. numbered",
            ],
        ),
        ("", []),
        ("   \n\n  ", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected
