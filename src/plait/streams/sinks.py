"""Alert sinks: where a window's alerts go once its run recorded them.

A sink is named in the outbox as `log`, `table` or `webhook:URL`. `table` alerts are
already in the alert table the dashboard shows, so delivering them is only marking
them; `log` writes one warning line of JSON; `webhook` POSTs the JSON and counts as
delivered on any 2xx answer (anything else, or no answer, leaves it queued).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

log = logging.getLogger("plait.streams.alerts")

WEBHOOK_TIMEOUT_S = 10.0


async def deliver(sink: str, alert: dict[str, Any]) -> bool:
    """Deliver one alert (`{alert_id, stream, alert}`) to one sink; whether it was accepted."""
    kind, _, url = sink.partition(":")
    if kind == "table":
        return True
    if kind == "log":
        log.warning("stream alert %s", json.dumps(alert, sort_keys=True))
        return True
    if kind == "webhook":
        try:
            async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_S) as client:
                answer = await client.post(url, json=alert)
        except httpx.HTTPError as exc:
            log.warning("webhook %s did not take alert %s: %s", url, alert["alert_id"], exc)
            return False
        if answer.is_success:
            return True
        log.warning(
            "webhook %s answered %d to alert %s", url, answer.status_code, alert["alert_id"]
        )
        return False
    log.error("unknown alert sink %r", sink)
    return False
