"""Text extraction from documents, and the sentence splitter the other agents build on.

Every format is reduced to the same plain-text convention so downstream agents need no
format knowledge: blocks (paragraphs, headings, tables) are separated by a blank line,
list items and table rows sit on their own line, and list items start with ``"- "``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from plait.agents._validate import require_str

#: Formats ``extract_text`` understands, and the file suffixes that select them.
SUFFIX_FORMATS: dict[str, str] = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}
FORMATS: tuple[str, ...] = ("text", "markdown", "html", "pdf")


def extract_text(
    *,
    document_path: str | None = None,
    content: str | None = None,
    format: str | None = None,
) -> dict[str, Any]:
    """Read a document (``document_path``) or a raw string (``content``) as plain text.

    ``format`` overrides detection (by suffix for files; raw strings default to ``"text"``).
    A relative ``document_path`` resolves against the current working directory.
    Returns ``{"text", "format", "source", "title", "characters", "words", "sentences"}``;
    ``source`` is the resolved path, or ``"<content>"`` for raw strings, and ``title`` is the
    document's own title (first H1, ``<title>``, PDF metadata) or ``None``.
    """
    if (document_path is None) == (content is None):
        raise ValueError(
            "extract_text needs exactly one of document_path= (a file) or content= (raw text); "
            f"got document_path={document_path!r} and content="
            f"{'<str>' if content is not None else None}"
        )
    fmt = _check_format(format) if format is not None else None

    if content is not None:
        require_str(content, "content")
        fmt = fmt or "text"
        if fmt == "pdf":
            raise ValueError("format='pdf' needs a file: pass document_path= instead of content=")
        source = "<content>"
        raw = content
    else:
        assert document_path is not None
        path = Path(document_path).expanduser()
        if not path.exists():
            raise FileNotFoundError(
                f"document not found: {document_path!r} (resolved to {path.resolve()}); "
                "pass the path of an existing file, or the text itself via content="
            )
        if not path.is_file():
            raise IsADirectoryError(f"document_path {document_path!r} is a directory, not a file")
        if fmt is None:
            suffix = path.suffix.lower()
            if suffix not in SUFFIX_FORMATS:
                supported = ", ".join(sorted(SUFFIX_FORMATS))
                raise ValueError(
                    f"unsupported document suffix {suffix or '(none)'!r} for {document_path!r}; "
                    f"supported suffixes are {supported}, or pass format= one of {FORMATS}"
                )
            fmt = SUFFIX_FORMATS[suffix]
        source = str(path.resolve())
        if fmt == "pdf":
            text, title = _pdf_to_text(path)
            return _result(text, fmt, source, title)
        raw = path.read_text(encoding="utf-8-sig", errors="replace")

    if fmt == "markdown":
        text, title = _markdown_to_text(raw)
    elif fmt == "html":
        text, title = _html_to_text(raw)
    else:
        text, title = _normalise_plain(raw), None
    return _result(text, fmt, source, title)


def _check_format(fmt: str) -> str:
    normalised = fmt.strip().lower()
    aliases = {"txt": "text", "plain": "text", "md": "markdown", "htm": "html"}
    normalised = aliases.get(normalised, normalised)
    if normalised not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {FORMATS}")
    return normalised


def _result(text: str, fmt: str, source: str, title: str | None) -> dict[str, Any]:
    return {
        "text": text,
        "format": fmt,
        "source": source,
        "title": title,
        "characters": len(text),
        "words": len(text.split()),
        "sentences": len(split_sentences(text)),
    }


def _normalise_plain(raw: str) -> str:
    """Normalise line endings and trailing space, keep the author's line structure."""
    lines = [line.rstrip() for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- Markdown ---------------------------------------------------------------------------------


def _markdown_to_text(source: str) -> tuple[str, str | None]:
    """Render Markdown to plain text by walking markdown-it tokens (no regex guessing at syntax)."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(source)
    blocks: list[tuple[str, str]] = []  # (kind, text); kind "line" joins its neighbours tightly
    title: str | None = None
    row: list[str] | None = None
    in_item = False
    heading_tag = ""
    for token in tokens:
        kind = token.type
        if kind == "list_item_open":
            in_item = True
        elif kind == "heading_open":
            heading_tag = token.tag
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            blocks.append(("line", " | ".join(row)))
            row = None
        elif kind in ("fence", "code_block"):
            blocks.append(("block", token.content.rstrip("\n")))
        elif kind == "html_block":
            blocks.append(("block", _html_to_text(token.content)[0]))
        elif kind == "inline":
            text = _inline_text(token.children or [])
            if row is not None:
                row.append(text)
            elif in_item:
                blocks.append(("line", "- " + text))
                in_item = False
            else:
                if heading_tag == "h1" and title is None:
                    title = text
                blocks.append(("block", text))
            heading_tag = ""
        elif kind in ("table_close", "bullet_list_close", "ordered_list_close"):
            blocks.append(("end", ""))
    parts: list[str] = []
    previous = "block"
    for kind, text in blocks:
        if kind == "end":
            previous = "block"
            continue
        if parts:
            parts.append("\n" if kind == previous == "line" else "\n\n")
        parts.append(text)
        previous = kind
    return "".join(parts).strip(), title


def _inline_text(children: list[Any]) -> str:
    pieces: list[str] = []
    for child in children:
        if child.type == "text":
            pieces.append(re.sub(r"[ \t]+", " ", child.content))
        elif child.type == "code_inline":
            pieces.append(child.content)
        elif child.type == "softbreak":
            pieces.append(" ")
        elif child.type == "hardbreak":
            pieces.append("\n")
        elif child.type == "image":
            pieces.append(_inline_text(child.children or []))
        elif child.type == "html_inline":
            continue
    return "".join(pieces).strip()


# --- HTML -------------------------------------------------------------------------------------

_BLOCK_TAGS = (
    "address article aside blockquote dd div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr main nav ol p pre section table tbody thead tfoot ul"
).split()
_DROP_TAGS = ["script", "style", "noscript", "template", "head", "svg", "iframe"]
_PARA, _LINE = "\x00P", "\x00L"


def _html_to_text(source: str) -> tuple[str, str | None]:
    """Visible text of an HTML page, with block structure kept as line breaks."""
    from bs4 import BeautifulSoup, Tag
    from bs4.element import NavigableString

    soup = BeautifulSoup(source, "html.parser")
    title: str | None = None
    if soup.title is not None:
        title = soup.title.get_text(" ", strip=True) or None
    for dropped in soup.find_all(_DROP_TAGS):
        if isinstance(dropped, Tag):
            dropped.decompose()
    for node in list(soup.find_all(string=True)):
        if not isinstance(node, NavigableString):
            continue
        if type(node) is not NavigableString:  # doctype, comment, CDATA, processing instruction
            node.extract()
        elif node.find_parent("pre") is None:
            node.replace_with(re.sub(r"\s+", " ", str(node)))
    if title is None:
        h1 = soup.find("h1")
        if isinstance(h1, Tag):
            title = h1.get_text(" ", strip=True) or None
    for br in soup.find_all("br"):
        if isinstance(br, Tag):
            br.replace_with(_LINE)
    for row in soup.find_all("tr"):
        if isinstance(row, Tag):
            cells = [c.get_text(" ", strip=True) for c in row.find_all(["td", "th"])]
            row.replace_with(_LINE + " | ".join(cells) + _LINE)
    for item in soup.find_all("li"):
        if isinstance(item, Tag):
            item.insert_before(_LINE + "- ")
            item.insert_after(_LINE)
    for block in soup.find_all(_BLOCK_TAGS):
        if isinstance(block, Tag):
            block.insert_before(_PARA)
            block.insert_after(_PARA)
    text = soup.get_text()

    def _breaks(match: re.Match[str]) -> str:
        return "\n\n" if _PARA in match.group(0) else "\n"

    text = re.sub(r"[ \t]*(?:\x00[PL][ \t\n]*)+", _breaks, text)
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip(), title


# --- PDF --------------------------------------------------------------------------------------


def _pdf_to_text(path: Path) -> tuple[str, str | None]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ValueError(f"PDF {str(path)!r} is password-protected; decrypt it first")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        title = reader.metadata.title if reader.metadata is not None else None
    except PdfReadError as exc:
        raise ValueError(f"could not read PDF {str(path)!r}: {exc}") from exc
    text = "\n\n".join(_normalise_plain(page) for page in pages if page)
    return text, (str(title) if title else None)


# --- Sentences --------------------------------------------------------------------------------

# A period after these never ends a sentence ("Dr. Smith", "e.g. Paris").
_NEVER_FINAL = frozenset(
    "mr mrs ms dr prof sr jr st mt vs cf e.g i.e approx dept est fig al".split()
)
# These end a sentence unless a number follows ("No. 5", "pp. 12").
_BEFORE_NUMBER = frozenset("no nos vol vols p pp art sec ch".split())
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*\s+(?=\S)")
_LAST_WORD = re.compile(r"(\S+)$")
_LIST_LINE = re.compile(r"^\s*(?:[-*•]\s+|\d+[.)]\s+)")
_BULLET = re.compile(r"^\s*[-*•]\s+")


def split_sentences(text: str) -> list[str]:
    """Split text into sentences with a rule-based splitter (no model, no downloads).

    A sentence ends at ``.``, ``!``, ``?`` or ``…`` followed by whitespace and a character
    that is not lower-case, unless the period closes a title or Latin abbreviation
    ("Dr.", "e.g."), a single initial ("J. Smith") or "No." before a number. Decimals
    ("3.5") never match because no whitespace follows the point. Blank lines, list items and
    table rows always end a sentence, so headings and bullets stand alone. Whitespace inside
    a sentence is collapsed and bullet markers are dropped.
    """
    sentences: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        for segment in _segments(paragraph):
            sentences.extend(_split_segment(segment))
    return sentences


def _segments(paragraph: str) -> list[str]:
    segments: list[str] = []
    current: list[str] = []
    for line in paragraph.split("\n"):
        if _LIST_LINE.match(line) or " | " in line:
            if current:
                segments.append(" ".join(current))
                current = []
            segments.append(_BULLET.sub("", line))
        elif line.strip():
            current.append(line)
    if current:
        segments.append(" ".join(current))
    return segments


def _split_segment(segment: str) -> list[str]:
    segment = re.sub(r"\s+", " ", segment).strip()
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(segment):
        following = segment[match.end()]
        if following.islower():
            continue
        if segment[match.start()] == "." and match.group(0).rstrip().rstrip("\"'”’)]") == ".":
            found = _LAST_WORD.search(segment, start, match.start())
            word = found.group(1).lstrip("\"'“‘([").lower() if found else ""
            if word in _NEVER_FINAL or (len(word) == 1 and word.isalpha()):
                continue
            if word in _BEFORE_NUMBER and following.isdigit():
                continue
        piece = segment[start : match.end()].strip()
        if piece:
            pieces.append(piece)
        start = match.end()
    tail = segment[start:].strip()
    if tail:
        pieces.append(tail)
    return pieces
