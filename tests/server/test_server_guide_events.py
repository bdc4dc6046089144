"""The guide's event-driven workflow served: each of its four event types starts its handler.

The handlers are the shipped `examples/events/*.yaml`, copied with `triggers:` that
route their event type to them (as `docs/server.md` shows) and with every path
pointing into the test's own folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from server_support import config_for, serving, wait_status

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EVENT_TYPES = ("customer_signup", "purchase_completed", "support_ticket", "system_alert")


def served_handlers(root: Path) -> Path:
    """examples/events/*.yaml and their actions, each with a trigger for its event type."""
    (root / "agents").mkdir(parents=True)
    shutil.copy(EXAMPLES / "agents" / "events.py", root / "agents" / "events.py")
    folder = root / "events"
    folder.mkdir()
    paths = {
        "state_dir": str(root / "state"),
        "team_path": str(EXAMPLES / "data" / "events" / "team.json"),
        "metrics_path": str(EXAMPLES / "data" / "metrics_series.json"),
    }
    for kind in EVENT_TYPES:
        text = (EXAMPLES / "events" / f"{kind}.yaml").read_text(encoding="utf-8")
        declared = {k: v for k, v in paths.items() if f"\n  {k}:" in text}
        inputs = json.dumps({"event": "{{ event }}", **declared})
        # A later `triggers:` key wins in YAML, so this works whether or not the file has one.
        text += f"\ntriggers:\n  - event: {kind}\n    inputs: {inputs}\n"
        (folder / f"{kind}.yaml").write_text(text, encoding="utf-8")
    return folder


def test_each_of_the_guides_event_types_starts_its_handler(tmp_path: Path) -> None:
    folder = served_handlers(tmp_path)
    samples: list[dict[str, Any]] = json.loads(
        (EXAMPLES / "events" / "sample_events.json").read_text(encoding="utf-8")
    )
    assert sorted(e["type"] for e in samples) == sorted(EVENT_TYPES)
    with serving(config_for(folder, tmp_path / "plait.db")) as server, server.client() as http:
        outputs = {}
        for event in samples:
            response = http.post("/events", json=event)
            assert response.status_code == 202, response.text
            (run_id,) = response.json()["run_ids"]
            detail = wait_status(http, run_id, "completed", "failed")
            assert detail["run"]["status"] == "completed", detail["run"]["error"]
            assert detail["run"]["workflow_id"] == event["type"]
            outputs[event["type"]] = detail["run"]["output"]
        unknown = http.post("/events", json={"type": "invoice_disputed", "data": {}}).json()
        assert unknown["warning"] == "no handler for event type 'invoice_disputed'"
    assert outputs["customer_signup"]["customer_id"] == "C-1042"
    assert outputs["customer_signup"]["rep"] == "Aisha Karim"
    assert outputs["purchase_completed"]["total"] == 2832.0
    assert outputs["support_ticket"]["ticket_id"] == "T-5531"
    assert outputs["system_alert"]["severity"] in ("high", "critical")
