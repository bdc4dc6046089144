"""Robust z-scores flag exactly the points a person would call anomalous."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from plait.agents.anomaly import detect_against_history, detect_anomalies

DATA = Path(__file__).resolve().parents[3] / "examples" / "data"
SERIES: list[float] = json.loads((DATA / "metrics_series.json").read_text(encoding="utf-8"))[
    "values"
]


def test_metrics_series_anomalies_are_found_at_exactly_the_known_indices() -> None:
    result = detect_anomalies(values=SERIES)

    assert len(SERIES) == 60
    assert result["indices"] == [14, 33, 51]
    assert [(a["value"], a["direction"]) for a in result["anomalies"]] == [
        (412.0, "high"),
        (18.5, "low"),
        (389.7, "high"),
    ]
    assert result["count"] == 3
    assert result["total_points"] == 60
    assert result["median"] == pytest.approx(118.85)
    assert result["mad"] == pytest.approx(2.9)
    json.dumps(result)


def test_score_is_the_modified_z_score() -> None:
    # median 3, |deviations| 2 1 0 1 97 -> MAD 1; score = 0.6745 * (x - 3) / 1
    result = detect_anomalies(values=[1, 2, 3, 4, 100])

    assert result["anomalies"] == [
        {"index": 4, "value": 100, "score": pytest.approx(0.6745 * 97), "direction": "high"}
    ]


def test_threshold_is_adjustable() -> None:
    values = [10, 11, 9, 10, 12, 8, 10, 14]  # median 10, MAD 1; 14 scores 2.698

    assert detect_anomalies(values=values)["indices"] == []
    assert detect_anomalies(values=values, threshold=2.69)["indices"] == [7]
    assert detect_anomalies(values=values, threshold=2.70)["indices"] == []
    assert detect_anomalies(values=values, threshold=1.0)["indices"] == [4, 5, 7]


def test_mostly_constant_series_falls_back_to_mean_absolute_deviation() -> None:
    result = detect_anomalies(values=[5, 5, 5, 5, 5, 5, 9])

    assert result["mad"] == 0
    assert result["indices"] == [6]
    assert result["anomalies"][0]["score"] == pytest.approx(4 / (4 / 7 * 1.253314), abs=1e-4)


def test_constant_series_has_no_anomalies() -> None:
    assert detect_anomalies(values=[3.0] * 10)["indices"] == []


def test_rows_of_mappings_use_the_named_field() -> None:
    rows = [{"t": i, "latency": v} for i, v in enumerate([20, 21, 19, 20, 95, 22])]

    assert detect_anomalies(values=rows, field="latency")["indices"] == [4]


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        ([1, 2], ValueError, "at least 3 values"),
        ([1, 2, "3"], ValueError, r"values\[2\] is '3', not a number"),
        ([1, True, 3], ValueError, r"values\[1\] is True"),
        ([1, 2, math.nan], ValueError, "NaN"),
        ([{"v": 1}, {"v": 2}, {"v": 3}], ValueError, "numeric 'value' key"),
        ("1,2,3", TypeError, "must be a list of numbers, got str"),
    ],
)
def test_bad_series_are_explained(values: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        detect_anomalies(values=values)  # type: ignore[arg-type]


def test_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="threshold must be a positive number"):
        detect_anomalies(values=[1, 2, 3], threshold=0)


def test_new_reading_within_the_normal_range_is_not_anomalous() -> None:
    result = detect_against_history(value=121.0, history=SERIES[:14])

    assert result["is_anomaly"] is False
    assert result["direction"] is None
    assert abs(result["score"]) < 3.5


def test_spike_and_drop_against_history_are_flagged_with_direction() -> None:
    history = SERIES[:14]

    high = detect_against_history(value=SERIES[14], history=history)
    low = detect_against_history(value=10.0, history=history)

    assert (high["is_anomaly"], high["direction"]) == (True, "high")
    assert (low["is_anomaly"], low["direction"]) == (True, "low")
    assert high["score"] > 50
    json.dumps(high)


def test_any_change_from_a_flat_history_is_anomalous_and_score_stays_json() -> None:
    result = detect_against_history(value=7, history=[5, 5, 5, 5])

    assert result["is_anomaly"] is True
    assert result["direction"] == "high"
    assert result["score"] is None
    assert json.loads(json.dumps(result))["score"] is None
    assert detect_against_history(value=5, history=[5, 5, 5])["is_anomaly"] is False


def test_history_needs_a_baseline() -> None:
    with pytest.raises(ValueError, match="history needs at least 3 values"):
        detect_against_history(value=1, history=[1, 2])
    with pytest.raises(ValueError, match="value"):
        detect_against_history(value="high", history=[1, 2, 3])  # type: ignore[arg-type]
