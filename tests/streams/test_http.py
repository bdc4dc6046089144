"""The HTTP source and the streams API on `plait serve`'s app."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from stream_support import write_stream

from plait.server import ServerConfig, create_app


def test_posted_events_are_stored_then_windowed_and_shown_with_their_aggregates(
    tmp_path: Path,
) -> None:
    write_stream(tmp_path / "served", "type: tumbling\nsize: 10s", key="host")
    config = ServerConfig(
        store_url=f"sqlite:///{tmp_path / 'plait.db'}", workflows_dir=tmp_path / "served"
    )

    with TestClient(create_app(config), base_url="http://127.0.0.1") as client:
        one = client.post("/streams/s/events", json={"id": "a", "t": 1, "host": "x", "value": 2})
        batch = client.post(
            "/streams/s/events",
            json=[
                {"id": "a", "t": 1, "host": "x"},
                {"id": "b", "t": 4, "host": "x", "value": 3},
                {"id": "c", "t": 15, "host": "x"},
                {"id": "d", "t": 2},
            ],
        )
        missing = client.post("/streams/nope/events", json={})
        for _ in range(3000):  # the windows run in the background; bounded, not timed
            listed = client.get("/api/streams").json()
            if any(w["status"] == "succeeded" for w in listed["streams"][0]["windows"]):
                break
            time.sleep(0.01)
        windows = client.get("/api/streams/s/windows").json()["windows"]
        page = client.get("/streams")

    assert one.status_code == 202 and one.json()["accepted"] == 1
    assert batch.json() == {
        "stream": "s",
        "accepted": 2,
        "duplicates": 1,
        "dropped_late": 0,
        "invalid": ["event d: no key field 'host'"],
    }
    assert missing.status_code == 404
    stream = listed["streams"][0]
    assert stream["name"] == "s" and stream["stats"]["events"] == 3
    done = [w for w in windows if w["status"] == "succeeded"]
    assert [(w["start"], w["key"], w["output"]["ids"], w["output"]["total"]) for w in done] == [
        ("1970-01-01T00:00:00Z", "x", ["a", "b"], 5)
    ]
    assert page.status_code == 200 and "/static/streams.js" in page.text
