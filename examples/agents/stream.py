"""Real-time analytics agents for `examples/realtime_analytics.yaml`.

The guide's stream loop collects events into time windows and analyses each buffer. This
example processes one buffer of readings (``metrics_series.json``): it assigns each reading
to a tumbling window by its timestamp, analyses the buffer three ways, alerts when anything
is anomalous, and updates a dashboard file. Window boundaries depend only on timestamps,
never on arrival time, so re-processing a buffer gives the same windows.
"""

from __future__ import annotations

import json
import os
import statistics
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any


def _parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def _format(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def collect(*, path: str, window_minutes: int) -> dict[str, Any]:
    """Turn the series into timestamped events and assign each to its tumbling window."""
    series = json.loads(Path(path).read_text(encoding="utf-8"))
    start = _parse(series["start"])
    step = timedelta(minutes=series["interval_minutes"])
    size = timedelta(minutes=window_minutes)
    events: list[dict[str, Any]] = [
        {"at": _format(start + k * step), "value": float(v)} for k, v in enumerate(series["values"])
    ]
    windows: dict[str, dict[str, Any]] = {}
    for event in events:
        moment = _parse(event["at"])
        # Floor to a multiple of the window size since the Unix epoch: boundaries are stable.
        epoch = datetime(1970, 1, 1, tzinfo=moment.tzinfo)
        opened = epoch + ((moment - epoch) // size) * size
        window = windows.setdefault(
            _format(opened), {"start": _format(opened), "end": _format(opened + size), "values": []}
        )
        window["values"].append(event["value"])
    return {
        "metric": series["metric"],
        "unit": series["unit"],
        "events": events,
        "values": [e["value"] for e in events],
        "windows": list(windows.values()),
    }


def detect_patterns(*, windows: list[dict[str, Any]]) -> dict[str, Any]:
    """Level shifts between consecutive windows, judged on medians so a spike is not a shift."""
    medians = [statistics.median(w["values"]) for w in windows]
    overall = statistics.median(medians)
    shifts = [
        {"from": a["start"], "to": b["start"], "change_pct": round((mb - ma) / ma * 100, 1)}
        for a, b, ma, mb in zip(windows, windows[1:], medians, medians[1:], strict=False)
        if abs(mb - ma) / ma > 0.1
    ]
    return {
        "window_medians": [round(m, 2) for m in medians],
        "level": round(overall, 2),
        "level_shifts": shifts,
        "pattern": "level shift" if shifts else "steady",
    }


def aggregate(*, windows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-window count, mean, p50 and max: what the dashboard plots."""
    return {
        "windows": [
            {
                "start": w["start"],
                "count": len(w["values"]),
                "mean": round(statistics.fmean(w["values"]), 2),
                "p50": round(statistics.median(w["values"]), 2),
                "max": max(w["values"]),
            }
            for w in windows
        ]
    }


def send_alerts(
    *, metric: str, events: list[dict[str, Any]], anomalies: dict[str, Any], state_dir: str
) -> dict[str, Any]:
    """One alert per anomalous reading, appended to the alerts outbox (no network)."""
    outbox = Path(state_dir) / "outbox" / "alerts.jsonl"
    outbox.parent.mkdir(parents=True, exist_ok=True)
    alerts = [
        {
            "metric": metric,
            "at": events[a["index"]]["at"],
            "value": a["value"],
            "direction": a["direction"],
            "score": a["score"],
        }
        for a in anomalies["anomalies"]
    ]
    with outbox.open("a", encoding="utf-8") as handle:
        for alert in alerts:
            handle.write(json.dumps(alert) + "\n")
    return {"sent": len(alerts), "alerts": alerts, "outbox": str(outbox.resolve())}


def update_dashboard(
    *,
    metric: str,
    aggregates: dict[str, Any],
    patterns: dict[str, Any],
    anomalies: dict[str, Any],
    state_dir: str,
) -> dict[str, Any]:
    """Replace the metric's dashboard file atomically with the latest aggregates."""
    path = Path(state_dir) / "dashboard" / f"{metric}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    panel = {
        "metric": metric,
        "windows": aggregates["windows"],
        "pattern": patterns["pattern"],
        "anomalies": anomalies["count"],
    }
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(panel, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return {"path": str(path.resolve()), "windows": len(panel["windows"])}
