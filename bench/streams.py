"""Stream throughput: events per second ingested and windowed, by source.

    .venv/bin/python bench/streams.py [--quick]

Each source feeds the same events (one-second tumbling windows, two keys, a trivial
window workflow) into a fresh SQLite store; the time covers storing every event and
running every window's workflow. HTTP posts batches to the real app over loopback
through uvicorn; the broker source reads a Redis stream on 127.0.0.1:6379.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

WORKFLOW = """
workflow_id: count_window
name: Count window
description: Count the window's events.
inputs:
  events: {type: array, required: true}
steps:
  - step_id: count
    action: plait.streams.analysis:aggregate
    inputs: {events: "{{ inputs.events }}", field: value}
output: "{{ count.result }}"
"""

STREAM = """
stream: bench
event: {id: id, time: t, key: host}
window: {type: tumbling, size: 1s}
workflow: count.yml
"""


def events(n: int) -> list[dict[str, Any]]:
    return [{"id": f"e{k}", "t": k / 200, "host": "ab"[k % 2], "value": k % 7} for k in range(n)]


def setup(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "count.yml").write_text(WORKFLOW, encoding="utf-8")
    (folder / "bench.yml").write_text(STREAM, encoding="utf-8")
    return folder / "bench.yml"


async def bench_file(root: Path, n: int) -> float:
    from plait.streams import feed_file, load_stream, open_processor

    path = setup(root / "file")
    data = root / "events.jsonl"
    data.write_text("".join(json.dumps(e) + "\n" for e in events(n)), encoding="utf-8")
    async with open_processor(load_stream(path), f"sqlite:///{root / 'file.db'}") as p:
        began = time.perf_counter()
        await feed_file(p, data, batch_size=500)
        return time.perf_counter() - began


async def bench_broker(root: Path, n: int) -> float | None:
    try:
        import redis.asyncio as aioredis
    except ImportError:
        return None
    from plait.streams import load_stream, open_processor
    from plait.streams.broker import consume

    path = setup(root / "broker")
    topic = f"plait-bench-{time.time_ns()}"
    text = (
        path.read_text()
        + f"source: {{type: redis, url: 'redis://127.0.0.1:6379/15', topic: {topic}}}\n"
    )
    path.write_text(text)
    definition = load_stream(path)
    client = aioredis.Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        try:
            await client.ping()
        except Exception:
            return None
        pipe = client.pipeline()
        for e in events(n):
            pipe.xadd(topic, {"event": json.dumps(e)})
        await pipe.execute()
        assert definition.source is not None
        async with open_processor(definition, f"sqlite:///{root / 'broker.db'}") as p:
            began = time.perf_counter()
            await consume(p, definition.source, batch_size=500, until_idle=True)
            await p.fire(flush=True)
            return time.perf_counter() - began
    finally:
        await client.delete(topic)
        await client.aclose()


def bench_http(root: Path, n: int) -> float:
    import httpx
    import uvicorn

    from plait.server import ServerConfig, create_app

    setup(root / "http")
    config = ServerConfig(store_url=f"sqlite:///{root / 'http.db'}", workflows_dir=root / "http")
    app = create_app(config)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        batch = events(n)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            began = time.perf_counter()
            for k in range(0, n, 500):
                client.post("/streams/bench/events", json=batch[k : k + 500]).raise_for_status()
            want = n // 200 * 2 - 2  # every window but the last per key is due
            while True:
                stream = client.get("/api/streams", params={"windows": 0}).json()["streams"][0]
                if stream["stats"]["windows"].get("succeeded", 0) >= want:
                    break
                time.sleep(0.005)
            return time.perf_counter() - began
    finally:
        server.should_exit = True
        thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run (seconds)")
    args = parser.parse_args()
    n = 4_000 if args.quick else 40_000
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        results = {
            "file": asyncio.run(bench_file(root, n)),
            "http": bench_http(root, n),
            "broker (redis)": asyncio.run(bench_broker(root, n)),
        }
    print(f"{n} events, 1 s tumbling windows, 2 keys ({n // 100} window runs)")
    for name, seconds in results.items():
        if seconds is None:
            print(f"  {name:16} skipped (no Redis on 127.0.0.1:6379 or no redis package)")
        else:
            print(f"  {name:16} {n / seconds:10,.0f} events/s  ({seconds:.2f} s)")


if __name__ == "__main__":
    main()
