"""Reports render the same content as Markdown and as safe, standalone HTML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plait.agents.report import generate_report

ROWS = [
    {"region": "North", "revenue": 3385.0, "orders": 10},
    {"region": "South", "revenue": 2270.5, "orders": 9},
]


def test_markdown_has_title_headings_text_bullets_and_table() -> None:
    report = generate_report(
        title="Q1 Sales",
        subtitle="Cleaned data",
        sections=[
            {
                "heading": "Overview",
                "text": "Revenue was 10,000.",
                "bullets": ["37 orders", "4 regions"],
            },
            {"heading": "By region", "table": ROWS},
        ],
    )

    assert report["markdown"] == (
        "# Q1 Sales\n\n"
        "_Cleaned data_\n\n"
        "## Overview\n\n"
        "Revenue was 10,000.\n\n"
        "- 37 orders\n- 4 regions\n\n"
        "## By region\n\n"
        "| region | revenue | orders |\n"
        "|---|---:|---:|\n"
        "| North | 3385 | 10 |\n"
        "| South | 2270.5 | 9 |\n"
    )
    assert report["title"] == "Q1 Sales"
    assert report["path"] is None


def test_html_is_a_standalone_page_with_the_same_content() -> None:
    report = generate_report(title="Q1 Sales", sections=[{"heading": "By region", "table": ROWS}])

    page = report["html"]
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>Q1 Sales</title>" in page
    assert "<h1>Q1 Sales</h1>" in page
    assert "<h2>By region</h2>" in page
    assert "<th>region</th><th>revenue</th><th>orders</th>" in page
    assert '<tr><td>North</td><td class="num">3385</td><td class="num">10</td></tr>' in page


def test_html_escapes_every_piece_of_text() -> None:
    evil = "<script>alert('x')</script>"

    page = generate_report(
        title=evil,
        subtitle=evil,
        sections=[
            {"heading": evil, "text": [evil], "bullets": [evil], "table": [{evil: evil}]},
        ],
    )["html"]

    assert "<script>" not in page
    # <title>, <h1>, subtitle, <h2>, paragraph, bullet, header cell, data cell
    assert page.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;") == 8


def test_markdown_table_cells_cannot_break_the_table() -> None:
    markdown = generate_report(
        title="T", sections={"Rows": [{"note": "a | b\nc", "path": "C:\\tmp"}]}
    )["markdown"]

    assert "| a \\| b c | C:\\\\tmp |" in markdown


def test_mapping_sections_pick_a_rendering_from_the_content_type() -> None:
    markdown = generate_report(
        title="Digest",
        sections={
            "Summary": "Strong quarter.",
            "Keywords": ["fleet insights", "west region"],
            "Sentiment": {"label": "positive", "compound": 0.1, "flagged": False, "extra": None},
            "Regions": ROWS,
            "Score": 0.25,
        },
    )["markdown"]

    assert "## Summary\n\nStrong quarter." in markdown
    assert "## Keywords\n\n- fleet insights\n- west region" in markdown
    assert "- label: positive\n- compound: 0.1\n- flagged: no\n- extra: " in markdown
    assert "| region | revenue | orders |" in markdown
    assert "## Score\n\n0.25" in markdown


def test_values_are_formatted_for_people() -> None:
    markdown = generate_report(
        title="T", sections={"Values": [{"a": 0.1 + 0.2, "b": True, "c": [1, 2], "d": None}]}
    )["markdown"]

    assert "| 0.3 | yes | [1, 2] |  |" in markdown


def test_rows_with_different_keys_share_one_header() -> None:
    markdown = generate_report(title="T", sections={"Mixed": [{"a": 1}, {"b": 2}]})["markdown"]

    assert "| a | b |\n|---:|---:|\n| 1 |  |\n|  | 2 |" in markdown


@pytest.mark.parametrize(("suffix", "key"), [(".md", "markdown"), (".html", "html")])
def test_output_path_writes_the_matching_rendering(tmp_path: Path, suffix: str, key: str) -> None:
    target = tmp_path / "out" / f"report{suffix}"

    report = generate_report(title="T", sections={"S": "text"}, output_path=str(target))

    assert report["path"] == str(target.resolve())
    assert target.read_text(encoding="utf-8") == report[key]


def test_output_path_with_unknown_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"'\.pdf'.*\.md.*\.html"):
        generate_report(title="T", sections={}, output_path=str(tmp_path / "r.pdf"))


@pytest.mark.parametrize(
    ("sections", "error", "message"),
    [
        ([{"title": "x"}], ValueError, r"sections\[0\] must be a dict with a 'heading'"),
        ([{"heading": "x", "bullet": []}], ValueError, r"unknown keys \['bullet'\]"),
        ([{"heading": "x", "table": ["row"]}], ValueError, "list of row dicts"),
        ("just text", TypeError, "sections must be a list"),
    ],
)
def test_malformed_sections_are_explained(
    sections: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        generate_report(title="T", sections=sections)  # type: ignore[arg-type]


def test_title_is_required() -> None:
    with pytest.raises(ValueError, match="title must be a non-empty string"):
        generate_report(title=" ", sections={})


def test_result_is_json_serialisable() -> None:
    json.dumps(generate_report(title="T", sections={"Rows": ROWS}))
