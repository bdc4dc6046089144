"""Measuring and reporting: interleaved rounds, medians, ratio tables.

The machine this runs on is shared and noisy, so no absolute number is trusted
alone. Every variant of a comparison runs once per round, in a rotated order,
and a figure is the median over rounds; a ratio is the median of the per-round
ratios, so a slow spell that hits one round hits both sides of it.
"""

from __future__ import annotations

import gc
import statistics
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

Measure = Callable[[], Awaitable[float]]
"""An async callable that runs one variant once and returns what it measured."""


@dataclass(frozen=True)
class Config:
    """Sizes and repetitions for one invocation of the suite."""

    quick: bool
    rounds: int
    """Interleaved rounds per comparison (after one discarded warm-up round)."""


async def interleaved(
    variants: Mapping[str, Measure], rounds: int, *, warmup: int = 1
) -> dict[str, list[float]]:
    """Run every variant once per round, rotating the order; a list of samples each.

    A full collection before each sample keeps one variant's garbage from being
    billed to the next.
    """
    names = list(variants)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(warmup + rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            value = await variants[name]()
            if r >= warmup:
                samples[name].append(value)
    return samples


def median(values: list[float]) -> float:
    return statistics.median(values)


def paired_ratio(numerator: list[float], denominator: list[float]) -> float:
    """Median of the per-round ratios (robust to drift across rounds)."""
    return statistics.median(a / b for a, b in zip(numerator, denominator, strict=True))


@dataclass
class Row:
    """One line of a table: plait's figure, the reference's, their ratio and the target."""

    label: str
    plait: float | None
    reference: float | None
    ratio: float | None
    target: str = "-"
    met: bool | None = None
    """None when there is no target, or nothing to compare yet."""
    note: str = ""


@dataclass
class Section:
    """A titled table; `unit` and the column names describe `plait` and `reference`."""

    key: str
    title: str
    columns: tuple[str, str] = ("plait", "reference")
    unit: str = ""
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def at_most(ratio: float | None, limit: float) -> bool | None:
    return None if ratio is None else ratio <= limit


def _number(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "NOT MET", None: ""}[met]


def table_lines(section: Section, *, markdown: bool = False) -> list[str]:
    """The section as aligned text, or as a Markdown table for docs/benchmarks.md."""
    unit = f" ({section.unit})" if section.unit else ""
    header = [
        "",
        f"{section.columns[0]}{unit}",
        f"{section.columns[1]}{unit}",
        "ratio",
        "target",
        "",
    ]
    body = [
        [
            row.label,
            _number(row.plait),
            _number(row.reference),
            "n/a" if row.ratio is None else f"{row.ratio:.2f}x",
            row.target,
            _verdict(row.met) + (f" {row.note}" if row.note else ""),
        ]
        for row in section.rows
    ]
    lines = [f"## {section.title}", ""]
    if markdown:
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join(["---", *["---:"] * 4, "---"]) + "|")
        lines.extend("| " + " | ".join(cells) + " |" for cells in body)
    else:
        widths = [max(len(r[c]) for r in [header, *body]) for c in range(len(header))]
        for cells in [header, *body]:
            left = cells[0].ljust(widths[0])
            nums = [cells[c].rjust(widths[c]) for c in range(1, 5)]
            lines.append("  ".join([left, *nums, cells[5]]).rstrip())
    lines.extend(["", *(f"- {note}" for note in section.notes)] if section.notes else [])
    lines.append("")
    return lines
