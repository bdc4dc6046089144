"""The built-in window analysis steps and the alert sinks, on the shipped example."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from plait.streams import analysis, feed_file, load_stream, open_processor

EXAMPLE = Path(__file__).parents[2] / "examples" / "streams"


def test_aggregate_counts_and_summarises_a_field_overall_and_by_group() -> None:
    events = [{"v": v, "g": "a" if v < 3 else "b"} for v in (1, 2, 3, 4)] + [{"g": "b"}]

    out = analysis.aggregate(events=events, field="v", group_by="g", percentiles=(50, 90))

    assert out["count"] == 5 and out["values"] == 4
    assert (out["sum"], out["mean"], out["min"], out["max"]) == (10.0, 2.5, 1.0, 4.0)
    assert (out["p50"], out["p90"]) == (2.5, 3.7)
    assert out["groups"]["a"]["count"] == 2 and out["groups"]["b"]["count"] == 3
    assert out["groups"]["b"]["mean"] == 3.5


def test_anomalies_are_judged_against_earlier_windows_not_within_the_window() -> None:
    history = [{"aggregates": {"count": c, "mean": 10.0 + c % 2}} for c in (20, 21, 19, 20, 22)]

    calm = analysis.detect_anomalies(
        current={"count": 21, "mean": 10.5}, history=history, path="aggregates"
    )
    spike = analysis.detect_anomalies(
        current={"count": 60, "mean": 10.5},
        history=history,
        path="aggregates",
        window={"start": "s"},
    )

    assert calm["count"] == 0
    assert [(a["metric"], a["direction"]) for a in spike["anomalies"]] == [("count", "high")]
    assert spike["alerts"][0]["window"] == {"start": "s"}
    assert spike["method"] == "modified_z_score_vs_history"


def test_too_little_history_judges_nothing() -> None:
    out = analysis.detect_anomalies(current={"count": 1000}, history=[{"count": 1}] * 2)
    assert out["count"] == 0


def test_patterns_are_frequent_sequences_and_matched_threshold_rules() -> None:
    events = [
        {"type": t, "ms": ms}
        for t, ms in zip("abcabcab", (5, 50, 500, 5, 5, 900, 5, 5), strict=True)
    ]

    out = analysis.detect_patterns(
        events=events,
        field="type",
        length=2,
        min_support=2,
        rules=[
            {"name": "slow", "field": "ms", "op": ">", "value": 100, "min_count": 2},
            {"name": "never", "field": "ms", "op": ">", "value": 10_000},
        ],
    )

    assert out["sequences"] == [
        {"sequence": ["a", "b"], "support": 3},
        {"sequence": ["b", "c"], "support": 2},
        {"sequence": ["c", "a"], "support": 2},
    ]
    assert out["rules"] == [{"rule": "slow", "events": 2}]


class Hook:
    """A webhook receiver on loopback: records JSON bodies; answers `status`."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if hook.status == 200:
                    hook.received.append(json.loads(body))
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    thread = threading.Thread(target=h.server.serve_forever, daemon=True)
    thread.start()
    yield h
    h.server.shutdown()
    h.server.server_close()
    thread.join()


async def test_the_example_alerts_reach_the_webhook_the_log_and_the_table(
    tmp_path: Path, hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    text = (EXAMPLE / "page_metrics.yml").read_text(encoding="utf-8")
    text = text.replace("  - type: log", f"  - type: log\n  - type: webhook\n    url: {hook.url}")
    (tmp_path / "page_metrics.yml").write_text(text, encoding="utf-8")
    (tmp_path / "window_analysis.yml").write_text(
        (EXAMPLE / "window_analysis.yml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    definition = load_stream(tmp_path / "page_metrics.yml")
    hook.status = 503

    async with open_processor(definition, f"sqlite:///{tmp_path / 'plait.db'}") as p:
        totals = await feed_file(p, EXAMPLE / "events.jsonl")
        queued = await p.state.pending_alerts(p.name)
        hook.status = 200
        sent = await p.deliver()
        table = await p.state.alerts(p.name)
        windows = await p.state.windows(p.name)

    assert totals.duplicates == 1 and totals.dropped >= 1
    assert len(windows) == 24 and {w.status for w in windows} == {"succeeded"}
    spikes = {(a["alert"]["metric"], a["key"]) for a in table}
    assert ("count", "web-2") in spikes and ("mean", "web-1") in spikes
    assert queued and all(pending == [f"webhook:{hook.url}"] for _, _, pending in queued)
    assert sent == len(queued) == len(hook.received) == len(table)
    assert {r["alert_id"] for r in hook.received} == {a["alert_id"] for a in table}
    assert sum("stream alert" in r.message for r in caplog.records) == len(table)
