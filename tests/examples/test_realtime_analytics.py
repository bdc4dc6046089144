"""examples/realtime_analytics.yaml: one buffer of the guide's windowed analytics loop."""

from __future__ import annotations

import json
from pathlib import Path

from example_support import direct_upstream, run_example

from plait.engine import WorkflowEngine

WORKFLOW = "realtime_analytics.yaml"


def test_the_three_analyses_share_the_buffer_and_run_side_by_side() -> None:
    for analysis in ("patterns", "anomalies", "aggregate"):
        assert direct_upstream(WORKFLOW, analysis) == {"collect"}


async def test_an_hour_per_window_aggregates_alerts_and_updates_the_dashboard(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    result = await run_example(engine, WORKFLOW, state_dir=str(sandbox / "state"))

    assert result["status"] == "completed", result["error"]
    windows = result["output"]["windows"]
    # 60 readings, 5 minutes apart from 09:00: five full hourly windows.
    assert [w["start"][11:16] for w in windows] == ["09:00", "10:00", "11:00", "12:00", "13:00"]
    assert all(w["count"] == 12 for w in windows)
    assert windows[1]["max"] == 412.0
    # Spikes move the mean, not the median: no level shift, just three anomalies.
    assert result["output"]["pattern"] == "steady"
    alerts = result["output"]["alerts"]["alerts"]
    assert [(a["at"], a["direction"]) for a in alerts] == [
        ("2024-11-04T10:10:00Z", "high"),
        ("2024-11-04T11:45:00Z", "low"),
        ("2024-11-04T13:15:00Z", "high"),
    ]
    sent = (sandbox / "state/outbox/alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["value"] for line in sent] == [412.0, 18.5, 389.7]
    dashboard = json.loads((sandbox / "state/dashboard/api_latency_p95_ms.json").read_text())
    assert dashboard["anomalies"] == 3 and len(dashboard["windows"]) == 5


async def test_a_quiet_buffer_updates_the_dashboard_without_alerting(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    quiet = sandbox / "quiet.json"
    quiet.write_text(
        json.dumps(
            {
                "metric": "queue_depth",
                "unit": "jobs",
                "start": "2024-11-04T09:00:00Z",
                "interval_minutes": 10,
                "values": [5, 6, 5, 7, 6, 5, 6, 7, 6, 5, 6, 6],
            }
        )
    )

    result = await run_example(
        engine, WORKFLOW, series_path=str(quiet), window_minutes=30, state_dir=str(sandbox)
    )

    assert result["status"] == "completed", result["error"]
    assert result["steps"]["send_alerts"]["status"] == "skipped"
    assert result["output"]["alerts"] is None
    assert len(result["output"]["windows"]) == 4
    assert not (sandbox / "outbox" / "alerts.jsonl").exists()
    assert (sandbox / "dashboard" / "queue_depth.json").exists()
