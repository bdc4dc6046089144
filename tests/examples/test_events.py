"""examples/events/*.yaml and examples/event_router.py: the guide's event-driven handlers."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from example_support import EXAMPLES, load_module

from plait.engine import WorkflowEngine

router = load_module(EXAMPLES / "event_router.py")
SAMPLES: dict[str, dict[str, Any]] = {
    event["type"]: event
    for event in json.loads((EXAMPLES / "events" / "sample_events.json").read_text())
}
HANDLER_STEPS = {
    "customer_signup": [
        "send_welcome",
        "create_onboarding_tasks",
        "assign_cs_rep",
        "schedule_checkin",
    ],
    "purchase_completed": ["send_receipt", "update_crm", "initiate_fulfillment", "record_purchase"],
}


def outbox(state: Path, channel: str) -> list[dict[str, Any]]:
    path = state / "outbox" / f"{channel}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def handle(event: dict[str, Any], engine: WorkflowEngine, state: Path) -> dict[str, Any]:
    result: dict[str, Any] = await router.process_event(
        event, engine=engine, inputs={"state_dir": str(state)}
    )
    assert result["status"] == "completed", result.get("error")
    return result


def test_sample_events_cover_every_handler_and_each_routes_to_its_own() -> None:
    assert set(SAMPLES) == set(router.HANDLERS)
    for kind, event in SAMPLES.items():
        assert router.route(event) == EXAMPLES / "events" / f"{kind}.yaml"


async def test_an_unknown_event_type_is_reported_as_having_no_handler(
    engine: WorkflowEngine,
) -> None:
    assert router.route({"type": "invoice_disputed"}) is None
    outcome = await router.process_event({"type": "invoice_disputed"}, engine=engine)
    assert outcome == {"status": "no handler", "event_type": "invoice_disputed"}


@pytest.mark.parametrize("kind", sorted(HANDLER_STEPS))
async def test_the_guides_four_steps_all_start_at_once(kind: str) -> None:
    from plait.loader import load_workflow

    plan = load_workflow(router.route(SAMPLES[kind])).compile()
    assert list(plan.ids) == HANDLER_STEPS[kind]
    assert all(not preds for preds in plan.preds)


async def test_signup_welcomes_plans_onboarding_assigns_a_rep_and_books_a_checkin(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    result = await handle(SAMPLES["customer_signup"], engine, sandbox)

    # 140 vehicles = 6 installation visits, plus 3 common and 2 enterprise tasks.
    assert result["output"]["onboarding_tasks"] == 11
    # The least-loaded senior rep covering North: Aisha (18/40) before Maja (31/40).
    assert result["output"]["rep"] == "Aisha Karim"
    # Signed up on Friday 8 November; enterprise check-in 5 business days later.
    assert result["output"]["checkin"] == "2024-11-15"
    (welcome,) = outbox(sandbox, "email")
    assert welcome["to"] == "ingrid@nordvik.example"
    assert "140 vehicles" in welcome["body"]
    tasks = json.loads((sandbox / "onboarding" / "C-1042.json").read_text())
    assert tasks[0]["title"] == "Kick-off call" and tasks[0]["due"] == "2024-11-11"


async def test_purchase_sends_a_receipt_updates_crm_fulfils_and_records(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    result = await handle(SAMPLES["purchase_completed"], engine, sandbox)

    # 10 x 150 + 140 x 4 + 5 x 60 = 2,360, plus 20% tax.
    assert result["output"]["total"] == 2832.0
    assert result["output"]["lifetime_value"] == 2360.0
    assert result["output"]["monthly_recurring_revenue"] == 860.0
    (receipt,) = outbox(sandbox, "email")
    assert receipt["body"].endswith("Total 2832.00 USD")
    shipment, provisioning = outbox(sandbox, "fulfillment")
    assert shipment["items"] == [{"sku": "SENSOR-KIT", "quantity": 10}]
    assert [lic["seats"] for lic in provisioning["licences"]] == [140, 5]


async def test_a_redelivered_purchase_is_neither_counted_nor_sent_twice(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    event = SAMPLES["purchase_completed"]
    await handle(event, engine, sandbox)
    result = await handle(event, engine, sandbox)

    assert result["results"]["update_crm"]["order_count"] == 1
    assert len(outbox(sandbox, "email")) == 1
    assert len(outbox(sandbox, "fulfillment")) == 2


async def test_an_outage_ticket_from_an_enterprise_customer_is_p1_at_the_incident_desk(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    result = await handle(SAMPLES["support_ticket"], engine, sandbox)

    assert result["output"] == {
        "ticket_id": "T-5531",
        "category": "outage",
        "priority": "P1",
        "queue": "incident-desk",
        "respond_by": "2024-11-11T08:41:00Z",  # opened 07:41, P1 answers within an hour
    }
    (ack,) = outbox(sandbox, "email")
    assert ack["subject"] == "[T-5531] Dashboard down for all dispatchers"


async def test_a_polite_billing_question_is_routed_to_billing_at_low_priority(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    event = copy.deepcopy(SAMPLES["support_ticket"])
    event["data"].update(
        tier="starter",
        subject="Question about our invoice",
        body="Could you explain the second line on this month's invoice? Thank you.",
    )

    result = await handle(event, engine, sandbox)

    assert (result["output"]["category"], result["output"]["queue"]) == ("billing", "billing")
    assert result["output"]["priority"] == "P4"


async def test_a_latency_spike_pages_on_call_and_opens_one_incident(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    event = SAMPLES["system_alert"]
    result = await handle(event, engine, sandbox)
    await handle(event, engine, sandbox)

    output = result["output"]
    assert output["severity"] == "critical"  # 412 ms against a 250 ms threshold
    assert (output["anomaly"], output["paged"], output["notified"]) == (True, True, "Jonas Falk")
    assert output["incident"]["incident_id"] == "INC-0001"
    # The series itself holds the three anomalies listed in examples/data/README.md.
    points = result["results"]["check_anomaly"]["anomalous_points"]
    assert [(p["index"], p["direction"]) for p in points] == [
        (14, "high"),
        (33, "low"),
        (51, "high"),
    ]
    incidents = json.loads((sandbox / "incidents.json").read_text())
    assert [i["incident_id"] for i in incidents] == ["INC-0001"]
    assert len(outbox(sandbox, "pager")) == 1


async def test_a_mild_breach_goes_to_the_team_channel_without_an_incident(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    event = copy.deepcopy(SAMPLES["system_alert"])
    event["data"]["value"] = 126.0
    event["data"]["threshold"] = 125.0

    result = await handle(event, engine, sandbox)

    assert result["output"]["severity"] == "warning"
    assert result["output"]["paged"] is False
    assert result["steps"]["create_incident"]["status"] == "skipped"
    assert result["output"]["incident"] is None
    assert [m["to"] for m in outbox(sandbox, "chat")] == ["#api-oncall"]


def test_the_router_script_handles_every_sample_event(sandbox: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "examples/event_router.py"],
        cwd=sandbox,
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    for event in SAMPLES.values():
        assert f"{event['id']} {event['type']}: completed" in completed.stdout
    assert (sandbox / ".plait" / "incidents.json").exists()
