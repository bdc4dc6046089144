"""Event handlers for the workflows in `examples/events/`.

Each function takes the event (``{"id", "type", "occurred_at", "data"}``) and does one
job. Nothing goes over the network: "sending" appends a message to
``{state_dir}/outbox/{channel}.jsonl``, and state such as the CRM or the incident list is a
JSON file under ``state_dir``. Dates derive from the event's ``occurred_at``, never from the
clock, and every write is keyed by the event's ids, so handling a re-delivered event again
plans the same dates, sends nothing twice and counts nothing twice.
"""

from __future__ import annotations

import json
import math
import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from plait.agents.anomaly import detect_against_history, detect_anomalies
from plait.agents.sentiment import polarity

Event = dict[str, Any]

# --- shared plumbing -------------------------------------------------------------------------


def _send(state_dir: str, channel: str, message: dict[str, Any]) -> dict[str, Any]:
    """Append a message to the channel's outbox file, unless one with its id is there already.

    Message ids derive from the event, so a re-delivered event (or a retried step) sends
    nothing twice; ``sent`` in the result says whether this call appended it.
    """
    outbox = Path(state_dir) / "outbox" / f"{channel}.jsonl"
    outbox.parent.mkdir(parents=True, exist_ok=True)
    if outbox.exists():
        with outbox.open(encoding="utf-8") as handle:
            if any(json.loads(line)["id"] == message["id"] for line in handle if line.strip()):
                return {**message, "outbox": str(outbox.resolve()), "sent": False}
    with outbox.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(message, ensure_ascii=False) + "\n")
    return {**message, "outbox": str(outbox.resolve()), "sent": True}


def _read_json(path: Path, default: Any) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else default


def _write_json(path: Path, value: Any) -> None:
    """Replace the file atomically, so a crash never leaves half a file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _event_day(event: Event) -> date:
    return datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00")).date()


def _add_business_days(start: date, days: int) -> date:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


# --- customer_signup -------------------------------------------------------------------------

ONBOARDING_DAYS = {"enterprise": 30, "business": 14, "starter": 7}
SENSOR_BATCH = 25  # vehicles fitted with sensors per installation visit


def send_welcome(*, event: Event, state_dir: str) -> dict[str, Any]:
    """Welcome email naming the onboarding length for the customer's plan."""
    data = event["data"]
    days = ONBOARDING_DAYS.get(data["plan"], 14)
    return _send(
        state_dir,
        "email",
        {
            "id": f"{event['id']}:welcome",
            "to": data["contact"]["email"],
            "subject": f"Welcome to Halden Systems, {data['company']}",
            "body": (
                f"Hello {data['contact']['name']}, thank you for choosing the {data['plan']} plan. "
                f"Your onboarding for {data['fleet_size']} vehicles takes about {days} days; "
                "your customer success manager will be in touch within one business day."
            ),
        },
    )


def create_onboarding_tasks(*, event: Event, state_dir: str) -> dict[str, Any]:
    """Plan onboarding: one sensor installation visit per 25 vehicles, plus plan extras."""
    data = event["data"]
    start = _event_day(event)
    tasks = [("Kick-off call", 1), ("Import vehicle list", 2)]
    visits = math.ceil(data["fleet_size"] / SENSOR_BATCH)
    tasks += [
        (f"Sensor installation visit {n} of {visits}", 3 + 2 * n) for n in range(1, visits + 1)
    ]
    if data["plan"] == "enterprise":
        tasks += [("Single sign-on setup", 3), ("API keys and integration review", 5)]
    tasks.append(("Driver app training", 4 + 2 * visits))
    planned = [
        {
            "task_id": f"{data['customer_id']}-T{k:02d}",
            "title": title,
            "due": _add_business_days(start, offset).isoformat(),
        }
        for k, (title, offset) in enumerate(sorted(tasks, key=lambda t: t[1]), start=1)
    ]
    path = Path(state_dir) / "onboarding" / f"{data['customer_id']}.json"
    _write_json(path, planned)
    return {"tasks": planned, "count": len(planned), "path": str(path.resolve())}


def assign_cs_rep(*, event: Event, team_path: str) -> dict[str, Any]:
    """The least-loaded rep covering the region; enterprise accounts need a senior rep."""
    data = event["data"]
    reps = _read_json(Path(team_path), {})["cs_reps"]
    eligible = [
        r
        for r in reps
        if data["region"] in r["regions"]
        and r["accounts"] < r["capacity"]
        and (r["senior"] or data["plan"] != "enterprise")
    ]
    if not eligible:
        raise LookupError(f"no customer success rep with capacity covers {data['region']}")
    rep = min(eligible, key=lambda r: (r["accounts"] / r["capacity"], r["name"]))
    return {
        "customer_id": data["customer_id"],
        "rep": rep["name"],
        "email": rep["email"],
        "load_after": f"{rep['accounts'] + 1}/{rep['capacity']}",
    }


def schedule_checkin(*, event: Event, state_dir: str) -> dict[str, Any]:
    """A check-in call ten business days after signup (five for enterprise), sent as an invite."""
    data = event["data"]
    day = _add_business_days(_event_day(event), 5 if data["plan"] == "enterprise" else 10)
    invite = _send(
        state_dir,
        "calendar",
        {
            "id": f"{event['id']}:checkin",
            "to": data["contact"]["email"],
            "title": f"Onboarding check-in: {data['company']}",
            "date": day.isoformat(),
            "time": "10:00",
        },
    )
    return {"date": invite["date"], "invite_id": invite["id"]}


# --- purchase_completed ----------------------------------------------------------------------


def _totals(data: dict[str, Any]) -> dict[str, Any]:
    lines = [
        {**item, "amount": round(item["quantity"] * item["unit_price"], 2)}
        for item in data["items"]
    ]
    subtotal = round(sum(line["amount"] for line in lines), 2)
    tax = round(subtotal * data["tax_rate"], 2)
    return {"lines": lines, "subtotal": subtotal, "tax": tax, "total": round(subtotal + tax, 2)}


def send_receipt(*, event: Event, state_dir: str) -> dict[str, Any]:
    """Itemised receipt email with tax."""
    data = event["data"]
    totals = _totals(data)
    body = "\n".join(
        f"{line['quantity']} x {line['name']} @ {line['unit_price']:.2f} = {line['amount']:.2f}"
        for line in totals["lines"]
    )
    body += (
        f"\nSubtotal {totals['subtotal']:.2f}\nTax {totals['tax']:.2f}\n"
        f"Total {totals['total']:.2f} {data['currency']}"
    )
    sent = _send(
        state_dir,
        "email",
        {
            "id": f"{event['id']}:receipt",
            "to": data["email"],
            "subject": f"Your receipt for order {data['order_id']}",
            "body": body,
        },
    )
    return {"message_id": sent["id"], **{k: totals[k] for k in ("subtotal", "tax", "total")}}


def update_crm(*, event: Event, state_dir: str) -> dict[str, Any]:
    """Add the order to the customer's CRM record, once per order id."""
    data = event["data"]
    path = Path(state_dir) / "crm.json"
    crm = _read_json(path, {})
    customer = crm.setdefault(
        data["customer_id"], {"customer_id": data["customer_id"], "orders": {}, "email": None}
    )
    customer["email"] = data["email"]
    customer["orders"][data["order_id"]] = _totals(data)["subtotal"]
    customer["lifetime_value"] = round(sum(customer["orders"].values()), 2)
    customer["last_order_at"] = event["occurred_at"]
    _write_json(path, crm)
    return {
        "customer_id": data["customer_id"],
        "order_count": len(customer["orders"]),
        "lifetime_value": customer["lifetime_value"],
    }


def initiate_fulfillment(*, event: Event, state_dir: str) -> dict[str, Any]:
    """Ship the hardware, provision the subscriptions: one request each to the right team."""
    data = event["data"]
    hardware = [i for i in data["items"] if i["kind"] == "hardware"]
    licences = [i for i in data["items"] if i["kind"] == "subscription"]
    requests = []
    if hardware:
        requests.append(
            _send(
                state_dir,
                "fulfillment",
                {
                    "id": f"{data['order_id']}:shipment",
                    "type": "shipment",
                    "ship_to": data["ship_to"],
                    "items": [{"sku": i["sku"], "quantity": i["quantity"]} for i in hardware],
                },
            )
        )
    if licences:
        requests.append(
            _send(
                state_dir,
                "fulfillment",
                {
                    "id": f"{data['order_id']}:provisioning",
                    "type": "provisioning",
                    "customer_id": data["customer_id"],
                    "licences": [{"sku": i["sku"], "seats": i["quantity"]} for i in licences],
                },
            )
        )
    return {
        "requests": [r["id"] for r in requests],
        "units_to_ship": sum(i["quantity"] for i in hardware),
        "seats_to_provision": sum(i["quantity"] for i in licences),
    }


def record_purchase(*, event: Event, state_dir: str) -> dict[str, Any]:
    """Split revenue into one-off (hardware) and recurring (monthly subscriptions)."""
    data = event["data"]
    totals = _totals(data)
    one_off = sum(line["amount"] for line in totals["lines"] if line["kind"] == "hardware")
    recurring = sum(line["amount"] for line in totals["lines"] if line["kind"] == "subscription")
    fact = {
        "order_id": data["order_id"],
        "customer_id": data["customer_id"],
        "day": _event_day(event).isoformat(),
        "one_off_revenue": round(one_off, 2),
        "monthly_recurring_revenue": round(recurring, 2),
        "annualised_value": round(one_off + 12 * recurring, 2),
    }
    path = Path(state_dir) / "analytics" / "purchases.json"
    facts = _read_json(path, {})
    facts[data["order_id"]] = fact
    _write_json(path, facts)
    return fact


# --- support_ticket --------------------------------------------------------------------------

URGENT = re.compile(r"\b(urgent|asap|down|outage|cannot|can't|none of|all (?:our|of))\b", re.I)
TIER_WEIGHT = {"enterprise": 2, "business": 1, "starter": 0}
FIRST_RESPONSE_HOURS = {"P1": 1, "P2": 4, "P3": 8, "P4": 24}


def prioritise(*, event: Event) -> dict[str, Any]:
    """P1-P4 from urgency words, frustration (VADER tone) and the customer's tier."""
    data = event["data"]
    text = f"{data['subject']}. {data['body']}"
    urgency = len(URGENT.findall(text))
    tone = polarity(text)["compound"]
    score = min(urgency, 3) + (1 if tone <= -0.3 else 0) + TIER_WEIGHT.get(data["tier"], 0)
    priority = "P1" if score >= 5 else "P2" if score >= 3 else "P3" if score >= 1 else "P4"
    return {"priority": priority, "score": score, "urgency_terms": urgency, "tone": tone}


def route_ticket(
    *, event: Event, category: dict[str, Any], priority: dict[str, Any], team_path: str
) -> dict[str, Any]:
    """The queue for the ticket's category, and the first-response deadline for its priority."""
    queues = _read_json(Path(team_path), {})["support_queues"]
    label = category["label"] or "how_to"
    hours = FIRST_RESPONSE_HOURS[priority["priority"]]
    opened = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
    return {
        "ticket_id": event["data"]["ticket_id"],
        "category": label,
        "queue": queues[label],
        "priority": priority["priority"],
        "respond_by": (opened + timedelta(hours=hours)).isoformat().replace("+00:00", "Z"),
    }


def acknowledge(*, event: Event, routing: dict[str, Any], state_dir: str) -> dict[str, Any]:
    """Tell the customer the ticket is received, its priority, and when to expect an answer."""
    data = event["data"]
    sent = _send(
        state_dir,
        "email",
        {
            "id": f"{event['id']}:ack",
            "to": data["email"],
            "subject": f"[{data['ticket_id']}] {data['subject']}",
            "body": (
                f"We have received your request and given it priority {routing['priority']}. "
                f"The {routing['queue']} team will reply by {routing['respond_by']}."
            ),
        },
    )
    return {"message_id": sent["id"], "to": sent["to"]}


# --- system_alert ----------------------------------------------------------------------------


def assess_severity(*, event: Event) -> dict[str, Any]:
    """Severity from how far the reading is past its threshold."""
    data = event["data"]
    ratio = data["value"] / data["threshold"]
    severity = (
        "critical"
        if ratio >= 1.5
        else "high"
        if ratio >= 1.2
        else "warning"
        if ratio >= 1
        else "ok"
    )
    return {
        "severity": severity,
        "ratio": round(ratio, 3),
        "page": severity in ("critical", "high"),
    }


def check_anomaly(*, event: Event, metrics_path: str) -> dict[str, Any]:
    """Is the reading unusual against the metric's recent history, and what else was?"""
    series = _read_json(Path(metrics_path), {})
    values = series["values"]
    history = detect_anomalies(values=values)
    verdict = detect_against_history(value=event["data"]["value"], history=values)
    return {
        "is_anomaly": verdict["is_anomaly"],
        "score": verdict["score"],
        "median": verdict["median"],
        "recent_anomalies": history["count"],
        "anomalous_points": history["anomalies"],
    }


def notify_oncall(
    *,
    event: Event,
    severity: dict[str, Any],
    anomaly: dict[str, Any],
    team_path: str,
    state_dir: str,
) -> dict[str, Any]:
    """Page the service's on-call engineer when severe, else post to the team channel."""
    data = event["data"]
    oncall = _read_json(Path(team_path), {})["oncall"]
    team = oncall.get(data["service"], oncall["default"])
    page = severity["page"] or (anomaly["is_anomaly"] and severity["severity"] != "ok")
    text = (
        f"{severity['severity'].upper()}: {data['metric']} on {data['host']} is {data['value']} "
        f"(threshold {data['threshold']}, {severity['ratio']}x)"
        + (f"; robust z-score {anomaly['score']}" if anomaly["is_anomaly"] else "")
    )
    sent = _send(
        state_dir,
        "pager" if page else "chat",
        {
            "id": f"{event['id']}:notify",
            "to": team["primary"] if page else team["channel"],
            "text": text,
        },
    )
    return {"paged": page, "to": sent["to"], "text": text}


def create_incident(
    *, event: Event, severity: dict[str, Any], anomaly: dict[str, Any], state_dir: str
) -> dict[str, Any]:
    """Open an incident (numbered INC-0001, ...), or return the one this alert already opened."""
    data = event["data"]
    path = Path(state_dir) / "incidents.json"
    incidents: list[dict[str, Any]] = _read_json(path, [])
    for incident in incidents:
        if incident["alert_id"] == data["alert_id"]:
            return {**incident, "created": False}
    incident = {
        "incident_id": f"INC-{len(incidents) + 1:04d}",
        "alert_id": data["alert_id"],
        "service": data["service"],
        "severity": severity["severity"],
        "opened_at": event["occurred_at"],
        "summary": f"{data['metric']} at {data['value']} on {data['host']}",
        "confirmed_anomaly": anomaly["is_anomaly"],
    }
    incidents.append(incident)
    _write_json(path, incidents)
    return {**incident, "created": True}
