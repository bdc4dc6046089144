"""Read-only JSON views of stream state, shared by the CLI and the HTTP API."""

from __future__ import annotations

from typing import Any

from plait.streams import windows as w
from plait.streams.definition import StreamDefinition
from plait.streams.state import WindowRow


def window_view(definition: StreamDefinition, row: WindowRow) -> dict[str, Any]:
    """One window for people and the dashboard: bounds as ISO text for time windows."""
    by_time = definition.window.by_time
    return {
        "key": row.key if definition.key_field else None,
        "start": w.format_time(row.start) if by_time else row.start,
        "end": w.format_time(row.end) if by_time else row.end,
        "events": row.events,
        "version": row.version,
        "status": row.status,
        "run_id": row.run_id,
        "output": row.output,
        "error": row.error,
        "updated_at": row.updated_at,
    }


def stream_view(definition: StreamDefinition) -> dict[str, Any]:
    """A stream's definition as the API lists it."""
    policy = definition.window
    return {
        "name": definition.name,
        "description": definition.description,
        "window": {
            "type": policy.kind,
            "size": policy.size if policy.kind == "count" else policy.size / 1000,
            "slide": policy.slide / 1000 if policy.slide else None,
            "lateness": policy.lateness / 1000,
        },
        "key": definition.key_field,
        "workflow": definition.workflow.workflow_id,
        "sinks": [s.kind for s in definition.sinks],
        "path": definition.path,
    }
