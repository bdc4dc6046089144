"""Markdown and HTML reports from plain data, so workflow results can be read by people.

Both renderings are always produced from the same input (they are cheap), and the result is
a dict: ``{"title", "markdown", "html", "path"}``. All text is escaped in the HTML with
``html.escape``; in Markdown, text is passed through (it may carry Markdown) except table
cells, whose ``|`` and line breaks are escaped so the table holds together.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_SECTION_KEYS = frozenset({"heading", "text", "bullets", "table", "data"})

_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#222}table{border-collapse:collapse;margin:1rem 0}"
    "th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}td.num{text-align:right}"
    "th{background:#f3f3f3}.subtitle{color:#666}"
)


def generate_report(
    *,
    title: str,
    sections: list[dict[str, Any]] | dict[str, Any],
    subtitle: str | None = None,
    output_path: str | None = None,
) -> dict[str, Any]:
    """Render a titled report as Markdown and as a standalone HTML page.

    ``sections`` is either a list of section dicts ``{"heading", "text"?, "bullets"?,
    "table"?, "data"?}`` (``text``: a string or list of paragraphs; ``bullets``: a list;
    ``table``: a list of row dicts, columns in first-seen order; ``data``: a dict shown as
    "key: value" bullets), or a mapping ``{heading: content}`` where the content's type picks
    the rendering: string -> paragraph, list of dicts -> table, other list -> bullets,
    dict -> key/value bullets.

    When ``output_path`` ends in ``.md``/``.markdown`` or ``.html``/``.htm`` that rendering is
    also written there (parent folders created). Returns ``{"title", "markdown", "html",
    "path"}`` with ``path`` the written file, or ``None``.
    """
    if not isinstance(title, str) or not title.strip():
        raise ValueError(f"title must be a non-empty string, got {title!r}")
    normalised = _normalise_sections(sections)

    md: list[str] = [f"# {title}"]
    body: list[str] = [f"<h1>{_esc(title)}</h1>"]
    if subtitle:
        md.append(f"_{subtitle}_")
        body.append(f'<p class="subtitle">{_esc(subtitle)}</p>')
    for section in normalised:
        md.append(f"## {section['heading']}")
        body.append(f"<h2>{_esc(section['heading'])}</h2>")
        for paragraph in section["text"]:
            md.append(paragraph)
            body.append(f"<p>{_esc(paragraph)}</p>")
        if section["bullets"]:
            md.append("\n".join(f"- {_cell(item, markdown=False)}" for item in section["bullets"]))
            items = "".join(
                f"<li>{_esc(_cell(item, markdown=False))}</li>" for item in section["bullets"]
            )
            body.append(f"<ul>{items}</ul>")
        if section["table"]:
            md.append(_markdown_table(section["table"]))
            body.append(_html_table(section["table"]))

    markdown = "\n\n".join(md) + "\n"
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
    path = _write(output_path, markdown, page) if output_path else None
    return {"title": title, "markdown": markdown, "html": page, "path": path}


def _normalise_sections(sections: Any) -> list[dict[str, Any]]:
    if isinstance(sections, Mapping):
        return [_from_content(str(heading), content) for heading, content in sections.items()]
    if isinstance(sections, str) or not isinstance(sections, list):
        raise TypeError(
            "sections must be a list of section dicts or a mapping of heading -> content, "
            f"got {type(sections).__name__}"
        )
    result: list[dict[str, Any]] = []
    for index, section in enumerate(sections):
        if not isinstance(section, Mapping) or "heading" not in section:
            raise ValueError(
                f"sections[{index}] must be a dict with a 'heading', got {section!r:.80}"
            )
        unknown = set(section) - _SECTION_KEYS
        if unknown:
            raise ValueError(
                f"sections[{index}] has unknown keys {sorted(unknown)}; "
                f"allowed keys are {sorted(_SECTION_KEYS)}"
            )
        text = section.get("text") or []
        data = section.get("data") or {}
        if not isinstance(data, Mapping):
            raise ValueError(f"sections[{index}]['data'] must be a dict, got {data!r:.80}")
        table = section.get("table") or []
        _check_table(table, f"sections[{index}]['table']")
        result.append(
            {
                "heading": str(section["heading"]),
                "text": [text] if isinstance(text, str) else [str(p) for p in text],
                "bullets": list(section.get("bullets") or []) + _pairs(data),
                "table": table,
            }
        )
    return result


def _from_content(heading: str, content: Any) -> dict[str, Any]:
    section: dict[str, Any] = {"heading": heading, "text": [], "bullets": [], "table": []}
    if isinstance(content, Mapping):
        section["bullets"] = _pairs(content)
    elif isinstance(content, list) and content and all(isinstance(r, Mapping) for r in content):
        section["table"] = content
    elif isinstance(content, list):
        section["bullets"] = content
    elif content is not None:
        section["text"] = [_cell(content, markdown=False)]
    return section


def _pairs(data: Mapping[str, Any]) -> list[str]:
    return [f"{key}: {_cell(value, markdown=False)}" for key, value in data.items()]


def _check_table(table: Any, name: str) -> None:
    if not isinstance(table, list) or not all(isinstance(row, Mapping) for row in table):
        raise ValueError(f"{name} must be a list of row dicts, got {table!r:.80}")


def _columns(rows: list[Mapping[str, Any]]) -> list[str]:
    columns: dict[str, None] = {}
    for row in rows:
        for key in row:
            columns.setdefault(str(key), None)
    return list(columns)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numeric_columns(rows: list[Mapping[str, Any]], columns: list[str]) -> set[str]:
    numeric: set[str] = set()
    for column in columns:
        present = [row[column] for row in rows if row.get(column) is not None]
        if present and all(_is_number(v) for v in present):
            numeric.add(column)
    return numeric


def _markdown_table(rows: list[Mapping[str, Any]]) -> str:
    columns = _columns(rows)
    numeric = _numeric_columns(rows, columns)
    lines = [
        "| " + " | ".join(_cell(c, markdown=True) for c in columns) + " |",
        "|" + "|".join("---:" if c in numeric else "---" for c in columns) + "|",
    ]
    for row in rows:
        cells = [_cell(row.get(c), markdown=True) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _html_table(rows: list[Mapping[str, Any]]) -> str:
    columns = _columns(rows)
    numeric = _numeric_columns(rows, columns)
    head = "".join(f"<th>{_esc(c)}</th>" for c in columns)
    rows_html: list[str] = []
    for row in rows:
        cells = []
        for column in columns:
            attribute = ' class="num"' if column in numeric else ""
            cells.append(f"<td{attribute}>{_esc(_cell(row.get(column), markdown=False))}</td>")
        rows_html.append("<tr>" + "".join(cells) + "</tr>")
    body = "".join(rows_html)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Any, *, markdown: bool) -> str:
    """Readable text for one value: trimmed floats, yes/no, compact JSON for nested data."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float):
        text = f"{value:.4f}".rstrip("0").rstrip(".") if value == value else "NaN"
    elif isinstance(value, (list, dict)):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    if markdown:
        text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return text


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _write(output_path: str, markdown: str, page: str) -> str:
    path = Path(output_path).expanduser()
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        content = markdown
    elif suffix in (".html", ".htm"):
        content = page
    else:
        raise ValueError(
            f"output_path {output_path!r} has suffix {suffix or '(none)'!r}; "
            "use .md/.markdown for Markdown or .html/.htm for HTML"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return str(path.resolve())
