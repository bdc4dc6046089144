"""Built-in steps for the guide's window analysis: aggregate, detect anomalies, find patterns.

Use them as actions (`plait.streams.analysis:aggregate`) in a stream's workflow.

Anomalies are judged against the history of previous windows, not within the
window: for each metric, the current value's robust (modified) z-score against the
same metric in the earlier windows, `0.6745 * (x - median) / MAD`, flags it when
above the threshold (3.5, Iglewicz & Hoaglin). Median and MAD keep one past spike
from hiding the next. See `plait.agents.anomaly` for the flat-history rule.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from plait.agents.anomaly import DEFAULT_THRESHOLD, detect_against_history

MIN_HISTORY = 3
"""Fewer earlier windows than this form no baseline: nothing is judged anomalous."""


def _read(event: Any, path: str) -> Any:
    value = event
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The `p`-th percentile (0..100) by linear interpolation between closest ranks."""
    if not sorted_values:
        raise ValueError("no values")
    rank = (len(sorted_values) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    fraction = rank - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def _summary(values: list[float], percentiles: Sequence[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "sum": 0.0, "mean": None, "min": None, "max": None}
    ordered = sorted(values)
    out: dict[str, Any] = {
        "count": len(values),
        "sum": round(math.fsum(values), 6),
        "mean": round(statistics.fmean(values), 6),
        "min": ordered[0],
        "max": ordered[-1],
    }
    for p in percentiles:
        out[f"p{p:g}"] = round(percentile(ordered, p), 6)
    return out


def aggregate(
    *,
    events: list[Any],
    field: str = "value",
    group_by: str | None = None,
    percentiles: Sequence[float] = (50, 95, 99),
) -> dict[str, Any]:
    """Count, sum, mean, min, max and percentiles of `field`, overall and per `group_by` value.

    `count` counts every event; the statistics use the events whose `field` is a number
    (`values` says how many).
    """
    numbers = [
        float(v)
        for e in events
        if isinstance(v := _read(e, field), int | float) and not isinstance(v, bool)
    ]
    out = {**_summary(numbers, percentiles), "count": len(events), "values": len(numbers)}
    if group_by is not None:
        groups: dict[str, list[Any]] = {}
        for event in events:
            groups.setdefault(str(_read(event, group_by)), []).append(event)
        out["groups"] = {
            name: aggregate(events=members, field=field, percentiles=percentiles)
            for name, members in sorted(groups.items())
        }
    return out


def detect_anomalies(
    *,
    current: Mapping[str, Any],
    history: Sequence[Any],
    metrics: Sequence[str] = ("count", "mean"),
    path: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    window: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Judge each metric of this window's aggregate against the same metric in earlier windows.

    `current` is this window's aggregate (`{"count": 12, "mean": 3.4, ...}`); `history`
    holds earlier windows' outputs, where `path` (e.g. `aggregates`) leads to their
    aggregate. Returns `{"anomalies": [...], "count", "alerts": [...], "method"}`; each
    anomaly has `metric`, `value`, `score`, `direction`, `median`, `mad`, and `alerts`
    holds one readable alert per anomaly (with `window` when given).
    """
    anomalies = []
    for metric in metrics:
        value = current.get(metric)
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        past = []
        for earlier in history:
            source = _read(earlier, path) if path else earlier
            v = source.get(metric) if isinstance(source, Mapping) else None
            if isinstance(v, int | float) and not isinstance(v, bool):
                past.append(float(v))
        if len(past) < MIN_HISTORY:
            continue
        judged = detect_against_history(value=float(value), history=past, threshold=threshold)
        if judged["is_anomaly"]:
            anomalies.append(
                {
                    "metric": metric,
                    "value": value,
                    "score": judged["score"],
                    "direction": judged["direction"],
                    "median": judged["median"],
                    "mad": judged["mad"],
                    "history": len(past),
                }
            )
    alerts = [
        {
            "kind": "anomaly",
            "message": f"{a['metric']} {a['value']} is unusually {a['direction']} "
            f"(median of {a['history']} earlier windows {a['median']})",
            **a,
            **({"window": dict(window)} if window else {}),
        }
        for a in anomalies
    ]
    return {
        "anomalies": anomalies,
        "count": len(anomalies),
        "alerts": alerts,
        "threshold": threshold,
        "method": "modified_z_score_vs_history",
    }


def detect_patterns(
    *,
    events: list[Any],
    field: str = "type",
    length: int = 2,
    min_support: int = 2,
    rules: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Frequent sequences of `field` values and threshold rules over the window's events.

    A sequence is `length` consecutive values in event order; those seen at least
    `min_support` times are returned, most frequent first. A rule is
    `{name, field, op, value, min_count}` (op one of > >= < <= == !=): it matches when
    at least `min_count` (default 1) events satisfy `field op value`.
    """
    if length < 1:
        raise ValueError("length must be at least 1")
    labels = [str(_read(e, field)) for e in events if _read(e, field) is not None]
    grams = Counter(tuple(labels[i : i + length]) for i in range(len(labels) - length + 1))
    sequences = [
        {"sequence": list(seq), "support": n}
        for seq, n in sorted(grams.items(), key=lambda item: (-item[1], item[0]))
        if n >= min_support
    ]
    matched = []
    for rule in rules:
        hits = sum(1 for e in events if _holds(_read(e, str(rule["field"])), rule))
        if hits >= int(rule.get("min_count", 1)):
            matched.append({"rule": rule.get("name", rule["field"]), "events": hits})
    return {"sequences": sequences, "rules": matched, "count": len(sequences) + len(matched)}


_OPS = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def _holds(value: Any, rule: Mapping[str, Any]) -> bool:
    op = _OPS.get(str(rule.get("op", ">")))
    if op is None:
        raise ValueError(f"unknown rule op {rule.get('op')!r}: use one of {' '.join(_OPS)}")
    try:
        return value is not None and bool(op(value, rule["value"]))
    except TypeError:
        return False
