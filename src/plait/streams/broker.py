"""Redis Streams source: a consumer group read, acknowledged only once events are stored.

Each stream entry holds one event, either as a field `event` with JSON text or as
plain fields. The entry id is the event id when the event has none, so a redelivered
entry is a duplicate. On start the consumer first re-reads its own pending entries
(read but never acknowledged: the process died between reading and storing), then
new ones. Needs the `redis` package (redis-py, asyncio API).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from plait.streams.definition import SourceSpec
from plait.streams.processor import StreamProcessor
from plait.streams.sources import Totals

BLOCK_MS = 200


def _event(entry_id: str, fields: dict[str, str], id_field: str) -> Any:
    if "event" in fields:
        try:
            event = json.loads(fields["event"])
        except ValueError:
            return fields
    else:
        event = dict(fields)
    if isinstance(event, dict) and event.get(id_field) in (None, ""):
        event[id_field] = f"redis-{entry_id}"
    return event


async def consume(
    processor: StreamProcessor,
    source: SourceSpec,
    *,
    consumer: str = "plait-1",
    batch_size: int = 500,
    stop: asyncio.Event | None = None,
    until_idle: bool = False,
) -> Totals:
    """Read the Redis stream into the processor until `stop` is set (or, with `until_idle`,
    until a read finds nothing new); run due windows after each batch."""
    import redis.asyncio as aioredis
    from redis.exceptions import ResponseError

    totals = Totals()
    client = aioredis.Redis.from_url(source.url, decode_responses=True)
    try:
        try:
            await client.xgroup_create(source.topic, source.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        totals.windows.extend(await processor.recover())
        cursor = "0"  # our own pending entries first, then new ones
        while stop is None or not stop.is_set():
            answer: Any = await client.xreadgroup(
                source.group,
                consumer,
                {source.topic: cursor},
                count=batch_size,
                block=None if cursor == "0" else BLOCK_MS,
            )
            entries: list[tuple[str, dict[str, str]]] = answer[0][1] if answer else []
            if not entries:
                if cursor == "0":
                    cursor = ">"
                    continue
                if until_idle:
                    break
                continue
            events = [_event(i, f, processor.definition.id_field) for i, f in entries]
            report = await processor.ingest(events)
            await client.xack(source.topic, source.group, *[i for i, _ in entries])
            totals.accepted += report.accepted
            totals.duplicates += report.duplicates
            totals.dropped += report.dropped
            totals.invalid.extend(report.invalid)
            totals.windows.extend(await processor.fire())
    finally:
        await client.aclose()
    return totals
