"""Route events to their handler workflows, as the guide's `EventDrivenWorkflow` does.

    python examples/event_router.py                      # the shipped sample events
    python examples/event_router.py my_events.json       # a JSON list of events

An event is ``{"id", "type", "occurred_at", "data"}``; its ``type`` picks a workflow in
``examples/events/``, which runs with the event as its ``event`` input. An unknown type is
reported as having no handler, not treated as an error, so one odd event cannot stop a
stream. (plait's server will later start these workflows by event type itself.)
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from plait.engine import WorkflowEngine
from plait.loader import load_workflow

EVENTS_DIR = Path(__file__).resolve().parent / "events"
HANDLERS: dict[str, str] = {
    "customer_signup": "customer_signup.yaml",
    "purchase_completed": "purchase_completed.yaml",
    "support_ticket": "support_ticket.yaml",
    "system_alert": "system_alert.yaml",
}


def route(event: Mapping[str, Any]) -> Path | None:
    """The workflow file that handles this event's type, or None when there is none."""
    name = HANDLERS.get(str(event.get("type")))
    return EVENTS_DIR / name if name else None


async def process_event(
    event: Mapping[str, Any],
    *,
    engine: WorkflowEngine,
    inputs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the event's handler; `inputs` adds run inputs such as ``state_dir``.

    Returns the run's result dict, or ``{"status": "no handler", "event_type": ...}``.
    """
    workflow = route(event)
    if workflow is None:
        return {"status": "no handler", "event_type": event.get("type")}
    definition = load_workflow(workflow)
    return await engine.execute_workflow(definition, {"event": dict(event), **(inputs or {})})


async def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else EVENTS_DIR / "sample_events.json"
    events = json.loads(source.read_text(encoding="utf-8"))
    engine = WorkflowEngine()
    failed = 0
    try:
        for event in events:
            outcome = await process_event(event, engine=engine)
            if outcome["status"] == "no handler":
                print(f"⚠️ No handler for event type: {event.get('type')}")
                continue
            failed += outcome["status"] != "completed"
            print(f"{event.get('id')} {event['type']}: {outcome['status']}")
            print(json.dumps(outcome["output"], indent=2, ensure_ascii=False))
    finally:
        engine.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
