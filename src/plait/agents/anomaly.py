"""Anomaly detection over numeric series with the robust (modified) z-score.

Method (Iglewicz & Hoaglin, 1993): for each point ``x``,

    score = 0.6745 * (x - median) / MAD,    MAD = median(|x_i - median|)

and a point is anomalous when ``|score| > 3.5``, the threshold those authors recommend.
Median and MAD are used instead of mean and standard deviation because the outliers being
hunted would otherwise inflate the spread and hide themselves. 0.6745 makes the score
comparable to an ordinary z-score on normal data. When more than half the points are equal
(MAD = 0) the mean absolute deviation is used instead, scaled by 1.2533 for the same reason;
if every point is equal nothing is anomalous.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from typing import Any

DEFAULT_THRESHOLD = 3.5
_MAD_FACTOR = 0.6745
_MEAN_AD_FACTOR = 1.253314


def detect_anomalies(
    *, values: list[Any], threshold: float = DEFAULT_THRESHOLD, field: str = "value"
) -> dict[str, Any]:
    """Find the points of ``values`` whose robust z-score exceeds ``threshold``.

    ``values`` holds numbers, or mappings whose ``field`` is a number (e.g. rows of
    ``{"timestamp", "value"}``). Returns ``{"anomalies": [{"index", "value", "score",
    "direction"}], "indices": [int], "count", "total_points", "median", "mad", "threshold",
    "method"}``; ``direction`` is ``"high"`` or ``"low"`` and ``score`` is signed.
    """
    numbers = _numbers(values, field)
    _check_threshold(threshold)
    if len(numbers) < 3:
        raise ValueError(f"need at least 3 values to judge anomalies, got {len(numbers)}")
    median, mad, scale = _robust_stats(numbers)
    anomalies: list[dict[str, Any]] = []
    for index, value in enumerate(numbers):
        score = _score(value, median, scale)
        if abs(score) > threshold:
            anomalies.append(
                {
                    "index": index,
                    "value": value,
                    "score": round(score, 4),
                    "direction": "high" if score > 0 else "low",
                }
            )
    return {
        "anomalies": anomalies,
        "indices": [a["index"] for a in anomalies],
        "count": len(anomalies),
        "total_points": len(numbers),
        "median": round(median, 6),
        "mad": round(mad, 6),
        "threshold": threshold,
        "method": "modified_z_score",
    }


def detect_against_history(
    *, value: float, history: list[Any], threshold: float = DEFAULT_THRESHOLD, field: str = "value"
) -> dict[str, Any]:
    """Judge one new reading against past readings (the new value does not skew the baseline).

    Returns ``{"is_anomaly", "value", "score", "direction", "median", "mad", "threshold"}``;
    ``direction`` is ``"high"``, ``"low"`` or ``None`` when not anomalous. If the history is
    perfectly flat, any different value is anomalous and its ``score`` is ``None`` (infinite).
    """
    (number,) = _numbers([value], field, name="value")
    past = _numbers(history, field, name="history")
    _check_threshold(threshold)
    if len(past) < 3:
        raise ValueError(f"history needs at least 3 values to form a baseline, got {len(past)}")
    median, mad, scale = _robust_stats(past)
    score = _score(number, median, scale)
    is_anomaly = abs(score) > threshold
    return {
        "is_anomaly": is_anomaly,
        "value": number,
        "score": round(score, 4) if math.isfinite(score) else None,
        "direction": ("high" if score > 0 else "low") if is_anomaly else None,
        "median": round(median, 6),
        "mad": round(mad, 6),
        "threshold": threshold,
    }


def _robust_stats(numbers: list[float]) -> tuple[float, float, float]:
    """(median, MAD, denominator of the score); denominator 0 means all points are equal."""
    median = statistics.median(numbers)
    deviations = [abs(x - median) for x in numbers]
    mad = statistics.median(deviations)
    if mad > 0:
        return median, mad, mad / _MAD_FACTOR
    mean_ad = statistics.fmean(deviations)
    return median, mad, mean_ad * _MEAN_AD_FACTOR


def _score(value: float, median: float, scale: float) -> float:
    if scale > 0:
        return (value - median) / scale
    if value == median:
        return 0.0
    # A flat baseline makes any departure infinitely unusual.
    return math.inf if value > median else -math.inf


def _numbers(values: Any, field: str, name: str = "values") -> list[float]:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list of numbers, got {type(values).__name__}")
    numbers: list[float] = []
    for index, item in enumerate(values):
        raw = item[field] if isinstance(item, Mapping) and field in item else item
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise ValueError(
                f"{name}[{index}] is {item!r:.60}, not a number"
                + (f" (mappings need a numeric {field!r} key)" if isinstance(item, Mapping) else "")
            )
        if not math.isfinite(raw):
            raise ValueError(f"{name}[{index}] is {raw!r}; drop NaN/infinite readings first")
        numbers.append(raw)
    return numbers


def _check_threshold(threshold: float) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or threshold <= 0:
        raise ValueError(f"threshold must be a positive number, got {threshold!r}")
