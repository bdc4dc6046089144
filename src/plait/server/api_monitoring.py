"""Health: `/healthz` for probes, `/api/stats` (the guide's health report), `/metrics`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse

from plait.monitoring.health import health_report
from plait.monitoring.prometheus import render
from plait.server.auth import require_token, services
from plait.server.services import Services

router = APIRouter(tags=["monitoring"])
ServicesDep = Annotated[Services, Depends(services)]
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/healthz", summary="Liveness: the server answers (no token needed, no data)")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/api/stats",
    dependencies=[Depends(require_token)],
    summary="Health report: success rates and durations per workflow, step and agent; events",
)
async def stats(
    s: ServicesDep, workflow_id: str | None = None, since: float | None = None
) -> dict[str, Any]:
    report = await health_report(s.store, workflow_id=workflow_id, since=since)
    counts = await s.event_log.counts()
    report["events"] = {
        "total": sum(sum(c.values()) for c in counts.values()),
        "unhandled": sum(c.get("unhandled", 0) for c in counts.values()),
        "by_type": counts,
    }
    report["active_runs"] = s.runs.active_count()
    report["workflow_problems"] = len(s.catalog.problems())
    return report


@router.get(
    "/metrics",
    dependencies=[Depends(require_token)],
    response_class=PlainTextResponse,
    summary="The health report and event counts in Prometheus' text format",
)
async def metrics(s: ServicesDep) -> PlainTextResponse:
    text = render(await health_report(s.store))
    text += _event_metrics(await s.event_log.counts())
    return PlainTextResponse(text, media_type=PROMETHEUS_TEXT)


def _event_metrics(counts: dict[str, dict[str, int]]) -> str:
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import CounterMetricFamily

    class Events:
        def collect(self) -> Iterator[Any]:
            family = CounterMetricFamily(
                "plait_events", "Events received, by type and outcome", labels=["type", "status"]
            )
            for kind, per_status in sorted(counts.items()):
                for status, n in sorted(per_status.items()):
                    family.add_metric([kind, status], n)
            yield family

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Events())
    return generate_latest(registry).decode()
