"""Regenerate ``sample.pdf`` with pypdf alone (no reportlab, no fonts to install).

Each page gets a hand-written content stream using Helvetica, one of the 14 standard PDF
fonts every reader provides, so the file stays tiny and its text extracts cleanly.

    python examples/data/make_pdf.py
"""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import (
    ContentStream,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    TextStringObject,
)

PAGES: list[list[str]] = [
    [
        "Halden Systems Field Service Memo",
        "",
        "The West region backlog of sensor board orders was cleared on 14 November.",
        "All delayed customers received their hardware and a service credit.",
        "Average support response time is back under four hours.",
    ],
    [
        "Next steps",
        "",
        "The second supplier passed its quality audit with no major findings.",
        "Predictive maintenance alerts will reach general availability in January.",
    ],
]


def _escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _content(lines: list[str]) -> bytes:
    ops = ["BT", "/F1 12 Tf", "16 TL", "72 720 Td"]
    for line in lines:
        ops.append(f"({_escape(line)}) Tj T*" if line else "T*")
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


def build(target: Path) -> None:
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    for lines in PAGES:
        page = writer.add_blank_page(width=612, height=792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        stream = DecodedStreamObject()
        stream.set_data(_content(lines))
        page.replace_contents(ContentStream(stream, writer))
    writer.add_metadata({"/Title": TextStringObject("Halden Systems Field Service Memo")})
    with target.open("wb") as handle:
        writer.write(handle)


if __name__ == "__main__":
    build(Path(__file__).with_name("sample.pdf"))
