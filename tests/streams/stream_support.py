"""Stream files for tests: a workflow that echoes its window, and a reference model.

The reference model states the windowing rules directly (every event in arrival
order; a window takes an event while the watermark before it is below the window's
end), so tests compare the engine against a few obvious lines rather than numbers
worked out by hand.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from pathlib import Path
from typing import Any

ACTS = """
def echo(events, start, end, key):
    return {"ids": [e["id"] for e in events], "start": start, "end": end, "key": key,
            "total": sum(e.get("value", 0) for e in events)}
"""

WORKFLOW = """
workflow_id: echo_window
name: Echo window
description: Return the ids of the window's events.
inputs:
  events: {type: array, required: true}
  start: {type: any, required: true}
  end: {type: any, required: true}
  key: {type: any, default: null}
steps:
  - step_id: echo
    action: acts.py:echo
    inputs: {events: "{{ inputs.events }}", start: "{{ inputs.start }}",
             end: "{{ inputs.end }}", key: "{{ inputs.key }}"}
output: "{{ echo.result }}"
"""


def write_stream(folder: Path, window: str, *, key: str | None = None, extra: str = "") -> Path:
    """A stream file `s.yml` named `s` whose workflow echoes its window's event ids."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "acts.py").write_text(ACTS, encoding="utf-8")
    (folder / "echo.yml").write_text(WORKFLOW, encoding="utf-8")
    key_line = f"\n  key: {key}" if key else ""
    text = f"""
stream: s
event:
  id: id
  time: t{key_line}
window:
{textwrap.indent(textwrap.dedent(window).strip(), "  ")}
workflow: echo.yml
{extra}
"""
    path = folder / "s.yml"
    path.write_text(text, encoding="utf-8")
    return path


def reference(
    events: list[dict[str, Any]], spans_of: Any, lateness: int, key: str | None = None
) -> dict[tuple[str, int, int], list[str]]:
    """Window -> ids of its events (ms bounds), by the rules in docs/streams.md."""
    seen: set[str] = set()
    max_at: int | None = None
    out: dict[tuple[str, int, int], list[tuple[int, int, str]]] = defaultdict(list)
    for seq, e in enumerate(events):
        if e["id"] in seen:
            continue
        seen.add(e["id"])
        at = round(e["t"] * 1000)
        mark = -(2**62) if max_at is None else max_at - lateness
        for start, end in spans_of(at):
            if mark < end:
                out[(str(e.get(key, "")) if key else "", start, end)].append((at, seq, e["id"]))
        max_at = at if max_at is None else max(max_at, at)
    return {w: [i for _, _, i in sorted(v)] for w, v in out.items()}
