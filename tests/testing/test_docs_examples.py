"""docs/testing.md runs as written: its Python blocks, in order, are this module's body.

Each block is compiled under the doc's file name with its own line numbers, so a
failure points at the line of the page.
"""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, code) of each ```python block."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in _BLOCK.finditer(text)]


_TEXT = DOC.read_text(encoding="utf-8")
for _line, _code in python_blocks(_TEXT):
    exec(compile("\n" * (_line - 1) + _code, str(DOC), "exec", dont_inherit=True), globals())


def test_the_page_has_the_guides_three_tests_and_runs_them_all():
    names = {name for name in globals() if name.startswith("test_")}
    assert {"test_successful_execution", "test_error_recovery", "test_timeout_handling"} <= names
    assert len(python_blocks(_TEXT)) >= 8
