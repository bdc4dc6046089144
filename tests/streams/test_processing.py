"""Windows of out-of-order, late and duplicate events, checked event by event.

Each window's workflow echoes its events' ids; after feeding, every window's latest
output must hold exactly the events the reference model (stream_support.reference)
assigns it, in event-time order.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from stream_support import reference, write_stream

from plait.streams import feed, load_stream, open_processor
from plait.streams import windows as w


def shuffled_events(seed: int, n: int = 120, spread: float = 40.0) -> list[dict[str, Any]]:
    """Events 0.5 s apart, delivered up to `spread` seconds out of order, some twice."""
    rng = random.Random(seed)
    events = [{"id": f"e{k}", "t": k * 0.5, "value": k, "host": rng.choice("ab")} for k in range(n)]
    arrival = sorted(events, key=lambda e: e["t"] + rng.uniform(0, spread))
    for k in rng.sample(range(len(arrival)), 5):
        arrival.insert(k + 3, dict(arrival[k]))
    return arrival


async def outputs(path: Path, events: list[dict[str, Any]], **kw: Any) -> dict[Any, Any]:
    definition = load_stream(path)
    async with open_processor(definition, f"sqlite:///{path.parent / 'plait.db'}") as p:
        totals = await feed(p, events, **kw)
        rows = await p.state.windows(p.name)
        stats = await p.state.stats(p.name)
    assert all(r.status == "succeeded" for r in rows)
    assert totals.accepted + totals.dropped == len({e["id"] for e in events})
    assert stats["duplicates"] == totals.duplicates == len(events) - len({e["id"] for e in events})
    return {(r.key, r.start, r.end): r.output["ids"] for r in rows}


async def test_tumbling_windows_take_late_events_within_the_lateness_and_drop_later_ones(
    tmp_path: Path,
) -> None:
    path = write_stream(tmp_path, "type: tumbling\nsize: 10s\nlateness: 15s")
    events = shuffled_events(1)

    got = await outputs(path, events, batch_size=7)

    want = reference(
        events, lambda at: [(s.start, s.end) for s in [w.tumbling(at, 10_000)]], 15_000
    )
    assert got == want
    dropped = {e["id"] for e in events} - {i for ids in want.values() for i in ids}
    assert dropped  # the spread exceeds the lateness, so some events came too late


async def test_sliding_windows_hold_each_event_in_every_open_window_it_falls_in(
    tmp_path: Path,
) -> None:
    path = write_stream(tmp_path, "type: sliding\nsize: 20s\nslide: 5s\nlateness: 10s")
    events = shuffled_events(2)

    got = await outputs(path, events, batch_size=11)

    want = reference(
        events,
        lambda at: [(s.start, s.end) for s in w.sliding(at, 20_000, 5_000)],
        10_000,
    )
    assert got == want


async def test_windows_per_key_are_independent(tmp_path: Path) -> None:
    path = write_stream(tmp_path, "type: tumbling\nsize: 10s\nlateness: 30s", key="host")
    events = shuffled_events(3)

    got = await outputs(path, events, batch_size=5)

    want = reference(
        events, lambda at: [(s.start, s.end) for s in [w.tumbling(at, 10_000)]], 30_000, key="host"
    )
    assert got == want
    assert {k for k, _, _ in got} == {"a", "b"}


async def test_count_windows_hold_each_keys_events_in_arrival_order(tmp_path: Path) -> None:
    path = write_stream(tmp_path, "type: count\nsize: 4", key="host")
    events = shuffled_events(4, n=30)

    got = await outputs(path, events, batch_size=3)

    firsts: dict[str, list[str]] = {}
    seen: set[str] = set()
    for e in events:
        if e["id"] not in seen:
            seen.add(e["id"])
            firsts.setdefault(e["host"], []).append(e["id"])
    want = {
        (host, k, k + 4): ids[k : k + 4]
        for host, ids in firsts.items()
        for k in range(0, len(ids), 4)
    }
    assert got == want


async def test_a_late_event_runs_its_window_again_with_the_updated_events(tmp_path: Path) -> None:
    path = write_stream(tmp_path, "type: tumbling\nsize: 10s\nlateness: 10s")
    definition = load_stream(path)
    async with open_processor(definition, f"sqlite:///{tmp_path / 'plait.db'}") as p:
        await p.ingest([{"id": "a", "t": 1}, {"id": "b", "t": 12}])
        first = await p.fire()
        await p.ingest([{"id": "late", "t": 2}])
        second = await p.fire()
        await p.ingest([{"id": "c", "t": 25}, {"id": "too-late", "t": 3}])
        third = await p.fire()
        stats = await p.state.stats(p.name)

    assert [(r.start, r.version, r.output["ids"]) for r in first] == [(0, 1, ["a"])]
    assert [(r.start, r.version, r.output["ids"]) for r in second] == [(0, 2, ["a", "late"])]
    assert [(r.start, r.version, r.output["ids"]) for r in third] == [(10_000, 1, ["b"])]
    assert second[0].run_id != first[0].run_id
    assert stats["dropped_late"] == 1


async def test_invalid_events_are_refused_with_a_reason_and_not_stored(tmp_path: Path) -> None:
    path = write_stream(tmp_path, "type: tumbling\nsize: 10s", key="host")
    async with open_processor(load_stream(path), f"sqlite:///{tmp_path / 'plait.db'}") as p:
        report = await p.ingest(
            [[1], {"id": "x", "host": "a"}, {"id": "y", "t": "soon", "host": "a"}, {"t": 1}]
        )
    assert report.accepted == 0
    assert report.invalid[0] == "an event is a JSON object, got list"
    assert report.invalid[2].startswith("event y: t: ")
    assert "no time field 't'" in report.invalid[1]
    assert "no key field 'host'" in report.invalid[3]
