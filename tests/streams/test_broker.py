"""The Redis Streams source against the real Redis on loopback.

With CI=true a missing client library or server fails the test; elsewhere it is
skipped with the reason shown.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from stream_support import write_stream

from plait.streams import load_stream, open_processor

REDIS_URL = os.environ.get("PLAIT_TEST_REDIS", "redis://127.0.0.1:6379/15")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs the broker: {reason}")
    pytest.skip(reason)


async def _redis():  # type: ignore[no-untyped-def]
    try:
        import redis.asyncio as aioredis
    except ImportError:
        _unavailable("the redis package is not installed (pip install redis)")
    client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        _unavailable(f"no Redis at {REDIS_URL}: {exc}")
    return client


async def test_events_from_a_redis_stream_are_windowed_and_acknowledged_once_stored(
    tmp_path: Path,
) -> None:
    from plait.streams.broker import consume

    client = await _redis()
    topic = f"plait-test-{uuid.uuid4().hex}"
    try:
        path = write_stream(
            tmp_path,
            "type: tumbling\nsize: 10s\nlateness: 30s",
            extra=f"source:\n  type: redis\n  url: {REDIS_URL}\n  topic: {topic}\n",
        )
        definition = load_stream(path)
        assert definition.source is not None
        for k in range(25):
            await client.xadd(topic, {"event": json.dumps({"id": f"e{k}", "t": k, "value": 1})})
        await client.xadd(topic, {"event": json.dumps({"id": "e3", "t": 3})})  # redelivered
        await client.xadd(topic, {"t": "7"})  # plain fields, no id: the entry id is used

        db = f"sqlite:///{tmp_path / 'plait.db'}"
        async with open_processor(definition, db) as p:
            totals = await consume(p, definition.source, batch_size=4, until_idle=True)
            rows = await p.state.windows(p.name)
        pending = await client.xpending(topic, "plait")

        assert (totals.accepted, totals.duplicates, totals.invalid) == (26, 1, [])
        fired = {(r.start, r.end): r.output["ids"] for r in rows if r.output}
        assert fired[(0, 10_000)][:3] == ["e0", "e1", "e2"]
        assert len(fired[(0, 10_000)]) == 11 and fired[(10_000, 20_000)][0] == "e10"
        assert pending["pending"] == 0

        await client.xadd(topic, {"event": json.dumps({"id": "e99", "t": 40})})
        async with open_processor(definition, db) as p:
            again = await consume(p, definition.source, until_idle=True)
            rows = await p.state.windows(p.name)
        assert again.accepted == 1
        assert {r.start for r in rows if r.status == "succeeded"} == {0, 10_000, 20_000}
    finally:
        await client.delete(topic)
        await client.aclose()
