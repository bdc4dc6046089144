"""The health report's figures in Prometheus' text format, through prometheus-client.

Rendered from the report (itself computed from the store), so a scrape shows the
same numbers as `plait stats`, across restarts and processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def render(report: dict[str, Any]) -> str:
    """Prometheus exposition text for a health report."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ReportCollector(report))
    return generate_latest(registry).decode()


class _ReportCollector:
    def __init__(self, report: dict[str, Any]) -> None:
        self.report = report

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        scopes = (("workflow", "workflows"), ("step", "steps"), ("agent", "agents"))
        counts = (
            "executions",
            "successes",
            "failures",
            "cancelled",
            "retries",
            "skips",
            "degraded",
            "cached",
        )
        for label, key in scopes:
            tallies: dict[str, Any] = self.report[key]
            for name in counts:
                family = CounterMetricFamily(
                    f"plait_{label}_{name}", f"{name.capitalize()} per {label}", labels=[label]
                )
                for scope, tally in tallies.items():
                    family.add_metric([scope], tally[name])
                yield family
            rate = GaugeMetricFamily(
                f"plait_{label}_success_rate",
                f"Successes over finished executions per {label}",
                labels=[label],
            )
            duration = GaugeMetricFamily(
                f"plait_{label}_duration_seconds",
                f"Duration statistics per {label}",
                labels=[label, "stat"],
            )
            for scope, tally in tallies.items():
                rate.add_metric([scope], tally["success_rate"])
                for stat, value in tally["duration_s"].items():
                    if value is not None:
                        duration.add_metric([scope, stat], value)
            yield rate
            yield duration
