"""Agents for the __NAME__ analysis workflow: plain functions, keyword arguments, JSON out.

plait calls each with the step's ``inputs`` as keyword arguments and stores what it
returns; a raised exception fails the step (after its retries). Keep them pure where you
can: the same inputs giving the same result makes runs easy to test and to replay.
"""

from __future__ import annotations

import statistics
from typing import Any


def validate(*, values: list[Any]) -> dict[str, Any]:
    """Keep the numbers, report what was dropped, and refuse a series too short to analyse."""
    kept: list[float] = []
    dropped: list[dict[str, Any]] = []
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            dropped.append({"index": index, "value": value})
        else:
            kept.append(float(value))
    if len(kept) < 3:
        raise ValueError(f"need at least 3 numbers to analyse, got {len(kept)}")
    return {"values": kept, "count": len(kept), "dropped": dropped}


def describe(*, values: list[float]) -> dict[str, Any]:
    """Centre and spread."""
    return {
        "count": len(values),
        "mean": round(statistics.fmean(values), 3),
        "median": statistics.median(values),
        "stdev": round(statistics.stdev(values), 3),
        "min": min(values),
        "max": max(values),
    }


def trend(*, values: list[float]) -> dict[str, Any]:
    """Slope per step by Theil-Sen: the median of all pairwise slopes, so one spike cannot
    tilt the trend the way it would tilt a least-squares line."""
    slopes = [
        (values[j] - values[i]) / (j - i)
        for i in range(len(values))
        for j in range(i + 1, len(values))
    ]
    slope = statistics.median(slopes)
    relative = slope / statistics.median(values) if statistics.median(values) else 0.0
    direction = "rising" if relative > 0.005 else "falling" if relative < -0.005 else "flat"
    return {
        "slope": round(slope, 4),
        "relative_per_step": round(relative, 4),
        "direction": direction,
    }


def synthesize(
    *, stats: dict[str, Any], trend: dict[str, Any], anomalies: dict[str, Any]
) -> dict[str, Any]:
    """Turn the three analyses into findings and report sections."""
    findings = [
        f"{stats['count']} values, median {stats['median']:g} (range {stats['min']:g}"
        f" to {stats['max']:g}).",
        f"The series is {trend['direction']}: {trend['slope']:+g} per step "
        f"({trend['relative_per_step']:+.1%} of the median).",
    ]
    for point in anomalies["anomalies"]:
        findings.append(
            f"Value {point['value']:g} at position {point['index']} is unusually "
            f"{point['direction']} (robust z-score {point['score']:+.1f})."
        )
    headline = (
        f"{trend['direction'].capitalize()} series with {anomalies['count']} "
        f"anomal{'y' if anomalies['count'] == 1 else 'ies'}"
    )
    return {
        "headline": headline,
        "findings": findings,
        "sections": [
            {"heading": "Findings", "bullets": findings},
            {"heading": "Statistics", "data": stats},
            {"heading": "Anomalies", "table": anomalies["anomalies"]}
            if anomalies["anomalies"]
            else {"heading": "Anomalies", "text": "None found."},
        ],
    }
