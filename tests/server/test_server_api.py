"""The JSON API of `plait serve`, over HTTP on loopback: every endpoint and its errors."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_support import Server, config_for, serving, wait_for, wait_status, write_workflows


def start(client: httpx.Client, workflow_id: str, **inputs: Any) -> str:
    response = client.post(f"/api/workflows/{workflow_id}/runs", json={"inputs": inputs})
    assert response.status_code == 201, response.text
    run_id: str = response.json()["run_id"]
    return run_id


def step(detail: dict[str, Any], step_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in detail["steps"] if s["step_id"] == step_id)
    return found


# --- probes and documentation ---------------------------------------------------------


def test_healthz_answers_without_data(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_describes_the_api(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/runs",
        "/api/runs/{run_id}",
        "/api/runs/{run_id}/pause",
        "/api/runs/{run_id}/resume",
        "/api/runs/{run_id}/cancel",
        "/api/inbox",
        "/api/workflows",
        "/api/workflows/{workflow_id}/runs",
        "/api/workflows/validate",
        "/events",
        "/api/stats",
        "/metrics",
    ):
        assert path in paths


def test_unknown_endpoint_is_a_json_404(client: httpx.Client) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert "error" in response.json()


# --- workflow definitions -------------------------------------------------------------


def test_lists_served_workflows_and_the_files_it_could_not_serve(client: httpx.Client) -> None:
    body = client.get("/api/workflows").json()
    ids = [w["workflow_id"] for w in body["workflows"]]
    assert ids == sorted(ids)
    assert {"greet", "review", "gated", "on_signup", "audit", "failing"} <= set(ids)
    (problem,) = body["problems"]  # notes/readme.json is not a workflow, so it is no problem
    assert problem["file"].endswith("broken.yaml")
    assert "nowhere" in problem["error"]


def test_shows_a_workflow_with_steps_edges_inputs_and_graph(client: httpx.Client) -> None:
    w = client.get("/api/workflows/greet").json()
    assert [s["step_id"] for s in w["steps"]] == ["hello", "shout", "measure"]
    assert step(w, "shout")["dependencies"] == ["hello"]
    assert {"source": "hello", "target": "shout"} in w["edges"]
    assert {i["name"]: (i["type"], i["required"]) for i in w["inputs"]} == {
        "name": ("string", True),
        "times": ("integer", False),
        "loud": ("boolean", False),
        "tags": ("array", False),
    }
    levels = {n["id"]: n["level"] for n in w["graph"]["nodes"]}
    assert levels == {"hello": 0, "shout": 1, "measure": 2}


def test_shows_triggers(client: httpx.Client) -> None:
    (trigger,) = client.get("/api/workflows/on_signup").json()["triggers"]
    assert trigger["event"] == "customer_signup"
    assert trigger["filter"] == "data.plan == 'enterprise'"


def test_an_unknown_workflow_is_named_in_a_404(client: httpx.Client) -> None:
    response = client.get("/api/workflows/nope")
    assert response.status_code == 404
    assert "unknown workflow 'nope'" in response.json()["error"]
    assert "greet" in response.json()["error"]
    assert client.post("/api/workflows/nope/runs", json={}).status_code == 404


def test_validates_posted_yaml(client: httpx.Client) -> None:
    good = "workflow_id: tiny\nname: Tiny\nsteps:\n  - step_id: a\n    action: acts.py:echo\n"
    response = client.post(
        "/api/workflows/validate", content=good, headers={"content-type": "text/yaml"}
    )
    assert response.status_code == 200
    assert response.json()["valid"] is True
    assert response.json()["workflow"]["steps"][0]["step_id"] == "a"


def test_validation_reports_each_problem_with_its_line(client: httpx.Client) -> None:
    bad = (
        "workflow_id: tiny\nname: Tiny\nsteps:\n  - step_id: a\n    action: acts.py:echo\n"
        "    inputs: {x: '{{ missing.result }}'}\ntriggers:\n  - cron: 'every day'\n"
    )
    body = client.post("/api/workflows/validate", json={"text": bad}).json()
    assert body["valid"] is False
    assert any("missing" in p["message"] for p in body["problems"])
    assert body["problems"][0]["line"] is not None
    cron_bad = "workflow_id: t\nname: T\nsteps: [{step_id: a, action: acts.py:echo}]\n" + (
        "triggers: [{cron: '61 * * * *'}]\n"
    )
    body = client.post("/api/workflows/validate", json={"text": cron_bad}).json()
    assert body["valid"] is False
    assert "invalid cron schedule" in body["problems"][0]["message"]


def test_validate_names_a_malformed_request(client: httpx.Client) -> None:
    response = client.post("/api/workflows/validate", json={"yaml": "x"})
    assert response.status_code == 422
    assert "text" in response.json()["error"]


# --- runs -----------------------------------------------------------------------------


def test_starts_a_run_and_reports_its_steps(client: httpx.Client) -> None:
    run_id = start(client, "greet", name="Ann", times=2)
    detail = wait_status(client, run_id, "completed")
    assert detail["run"]["output"] == "HELLO ANN"
    assert detail["run"]["inputs"] == {"name": "Ann", "times": 2, "loud": False, "tags": []}
    hello = step(detail, "hello")
    assert hello["status"] == "completed"
    assert hello["inputs"] == {"text": "hello Ann", "times": 2}
    assert hello["result"] == {"text": "hello Ann", "times": 2}
    assert hello["attempt_history"][0]["outcome"] == "completed"
    assert hello["duration_s"] is not None
    assert [s["step_id"] for s in detail["steps"]] == ["hello", "shout", "measure"]
    assert detail["workflow"]["graph"]["nodes"]


def test_steps_endpoint_gives_inputs_results_and_attempts(client: httpx.Client) -> None:
    run_id = start(client, "greet", name="Bo")
    wait_status(client, run_id, "completed")
    steps = client.get(f"/api/runs/{run_id}/steps").json()["steps"]
    assert steps[1]["result"] == {"text": "HELLO BO", "length": 8}
    assert steps[1]["attempt_history"][0]["attempt"] == 1


def test_a_failed_step_reports_its_error(client: httpx.Client) -> None:
    run_id = start(client, "failing")
    detail = wait_status(client, run_id, "failed")
    assert detail["run"]["failed_step"] == "bad"
    bad = step(detail, "bad")
    assert bad["status"] == "failed"
    assert "boom" in bad["error"]
    assert bad["attempt_history"][0]["error_type"] == "ValueError"


@pytest.mark.parametrize(
    ("inputs", "named"),
    [
        ({"name": 3}, "'name' must be a string"),  # wrong type
        ({}, "'name' (string) is required"),  # missing
        ({"name": "A", "colour": "red"}, "unknown input 'colour'"),  # not declared
        ({"name": "A", "times": "two"}, "'times' must be an integer"),  # text for a number
        ({"name": "A", "times": True}, "'times' must be an integer"),  # a bool is no integer
    ],
)
def test_inputs_are_checked_against_the_declared_ones(
    client: httpx.Client, inputs: dict[str, Any], named: str
) -> None:
    response = client.post("/api/workflows/greet/runs", json={"inputs": inputs})
    assert response.status_code == 422
    assert named in response.json()["error"]
    assert response.json()["problems"][0]["field"].startswith("inputs.")


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"inputs": ["name"]}, "body.inputs"),
        ({"inputs": {"name": "A"}, "priority": 1}, "body.priority"),
        ([1, 2], "body"),
    ],
)
def test_a_body_of_the_wrong_shape_is_a_422_naming_the_field(
    client: httpx.Client, body: Any, named: str
) -> None:
    response = client.post("/api/workflows/greet/runs", json=body)
    assert response.status_code == 422
    assert named in response.json()["error"]


def test_malformed_json_is_a_400(client: httpx.Client) -> None:
    response = client.post(
        "/api/workflows/greet/runs",
        content=b'{"inputs": {"name": ',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("malformed JSON")


def test_a_body_that_is_not_json_is_a_415(client: httpx.Client) -> None:
    response = client.post(
        "/api/workflows/greet/runs", content=b"name=Ann", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]


def test_an_oversize_body_is_a_413(client: httpx.Client) -> None:
    big = {"inputs": {"name": "x" * (1024 * 1024)}}
    response = client.post("/api/workflows/greet/runs", json=big)
    assert response.status_code == 413
    assert "too large" in response.json()["error"]


def test_an_oversize_chunked_body_is_a_413(client: httpx.Client) -> None:
    def chunks() -> Any:
        yield b'{"type": "x", "data": "'
        for _ in range(300):
            yield b"y" * 4096
        yield b'"}'

    response = client.post(
        "/events", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_lists_runs_filtered_and_paginated(client: httpx.Client) -> None:
    ids = [start(client, "greet", name=f"p{k}") for k in range(3)]
    for run_id in ids:
        wait_status(client, run_id, "completed")
    page = client.get("/api/runs", params={"workflow_id": "greet", "limit": 2}).json()
    assert len(page["runs"]) == 2
    assert page["next_offset"] == 2
    assert all(r["workflow_id"] == "greet" for r in page["runs"])
    rest = client.get("/api/runs", params={"workflow_id": "greet", "limit": 2, "offset": 2}).json()
    assert {r["run_id"] for r in page["runs"]}.isdisjoint(r["run_id"] for r in rest["runs"])
    completed = client.get("/api/runs", params={"status": "completed", "limit": 500}).json()
    assert set(ids) <= {r["run_id"] for r in completed["runs"]}
    assert all(r["status"] == "completed" for r in completed["runs"])


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"status": "done"}, "unknown status 'done'"),
        ({"limit": 0}, "query.limit"),
        ({"limit": "many"}, "query.limit"),
        ({"offset": -1}, "query.offset"),
    ],
)
def test_bad_list_parameters_are_422s(
    client: httpx.Client, params: dict[str, Any], named: str
) -> None:
    response = client.get("/api/runs", params=params)
    assert response.status_code == 422
    assert named in response.json()["error"]


def test_an_unknown_run_is_a_404_everywhere(client: httpx.Client) -> None:
    for method, path in [
        ("GET", "/api/runs/nope"),
        ("GET", "/api/runs/nope/steps"),
        ("POST", "/api/runs/nope/pause"),
        ("POST", "/api/runs/nope/resume"),
        ("POST", "/api/runs/nope/cancel"),
        ("POST", "/api/runs/nope/steps/a/approve"),
    ]:
        response = client.request(method, path)
        assert response.status_code == 404, (method, path)
        assert "nope" in response.json()["error"]


def test_pause_lets_the_running_step_finish_then_resume_continues(
    client: httpx.Client, gate: Path
) -> None:
    run_id = start(client, "gated", gate=str(gate))
    wait_for(
        lambda: step(client.get(f"/api/runs/{run_id}").json(), "wait")["status"] == "running",
        "the first step to run",
    )
    response = client.post(f"/api/runs/{run_id}/pause")
    assert response.status_code == 202
    assert "pausing" in response.json()["message"]
    # What a client sends meanwhile does not disturb the run.
    assert (
        client.post(
            "/events", content=b"{oops", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    gate.touch()
    paused = wait_status(client, run_id, "paused")
    assert step(paused, "wait")["status"] == "completed"
    assert step(paused, "after")["status"] == "pending"
    assert client.post(f"/api/runs/{run_id}/resume").status_code == 202
    done = wait_status(client, run_id, "completed")
    assert step(done, "after")["result"] == {"got": 1}


def test_cancel_stops_a_running_run(client: httpx.Client, gate: Path) -> None:
    run_id = start(client, "gated", gate=str(gate))
    assert client.post(f"/api/runs/{run_id}/cancel").status_code == 202
    detail = wait_status(client, run_id, "cancelled")
    assert step(detail, "after")["status"] in ("pending", "cancelled", "skipped")


def test_cancel_ends_a_paused_run(client: httpx.Client, gate: Path) -> None:
    run_id = start(client, "gated", gate=str(gate))
    client.post(f"/api/runs/{run_id}/pause")
    gate.touch()
    wait_status(client, run_id, "paused")
    assert client.post(f"/api/runs/{run_id}/cancel").status_code == 202
    wait_status(client, run_id, "cancelled")


def test_control_of_an_ended_run_is_a_409(client: httpx.Client) -> None:
    run_id = start(client, "greet", name="Cy")
    wait_status(client, run_id, "completed")
    for action in ("pause", "resume", "cancel"):
        response = client.post(f"/api/runs/{run_id}/{action}")
        assert response.status_code == 409, action
        assert "already ended" in response.json()["error"]


# --- people ---------------------------------------------------------------------------


def pending_request(client: httpx.Client, run_id: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        for request in client.get("/api/inbox").json()["requests"]:
            if request["run_id"] == run_id:
                found: dict[str, Any] = request
                return found
        return None

    return wait_for(find, f"a request of run {run_id} in the inbox")


def test_approving_from_the_inbox_continues_the_run(client: httpx.Client) -> None:
    run_id = start(client, "review", draft="v1")
    request = pending_request(client, run_id)
    assert request["step_id"] == "approve"
    assert request["prompt"] == "Publish this draft?"
    assert request["assignees"] == ["editors"]
    assert request["data"] == {"draft": "v1"}
    waiting = client.get(f"/api/runs/{run_id}").json()
    assert [r["step_id"] for r in waiting["requests"]] == ["approve"]
    response = client.post(
        f"/api/runs/{run_id}/steps/approve/approve",
        json={"data": {"note": "ship it"}, "by": "ed"},
    )
    assert response.status_code == 200
    done = wait_status(client, run_id, "completed")
    answer = step(done, "publish")["result"]["answer"]
    assert answer["approved"] is True
    assert answer["by"] == "ed"
    assert answer["data"] == {"note": "ship it"}
    again = client.post(f"/api/runs/{run_id}/steps/approve/approve", json={})
    assert again.status_code == 409
    assert "already approved" in again.json()["error"]


def test_rejecting_needs_a_reason_and_fails_the_step(client: httpx.Client) -> None:
    run_id = start(client, "review")
    pending_request(client, run_id)
    no_reason = client.post(f"/api/runs/{run_id}/steps/approve/reject", json={})
    assert no_reason.status_code == 422
    assert "body.reason" in no_reason.json()["error"]
    response = client.post(
        f"/api/runs/{run_id}/steps/approve/reject", json={"reason": "too short", "by": "ed"}
    )
    assert response.status_code == 200
    detail = wait_status(client, run_id, "failed")
    assert "too short" in step(detail, "approve")["error"]


def test_answering_a_step_without_a_request_is_a_404(client: httpx.Client) -> None:
    run_id = start(client, "greet", name="Di")
    wait_status(client, run_id, "completed")
    response = client.post(f"/api/runs/{run_id}/steps/hello/approve", json={})
    assert response.status_code == 404
    assert "no request" in response.json()["error"]


# --- events ---------------------------------------------------------------------------


def post_event(client: httpx.Client, **event: Any) -> httpx.Response:
    return client.post("/events", json=event)


def test_an_event_starts_every_workflow_whose_trigger_matches(client: httpx.Client) -> None:
    event_id = f"evt-{uuid.uuid4().hex}"
    data = {"customer_id": "C-1", "plan": "enterprise"}
    response = post_event(client, type="customer_signup", id=event_id, data=data)
    assert response.status_code == 202
    body = response.json()
    assert body["event_id"] == event_id
    assert body["duplicate"] is False
    assert body["status"] == "handled"
    assert len(body["run_ids"]) == 2  # on_signup (its filter matches) and audit
    runs = {
        r["run"]["workflow_id"]: r
        for r in (wait_status(client, i, "completed") for i in body["run_ids"])
    }
    signup = runs["on_signup"]["run"]["inputs"]
    assert signup["customer"] == "C-1"
    assert signup["plan"] == "enterprise"
    assert signup["event"]["id"] == event_id
    assert signup["event"]["data"] == data
    assert runs["audit"]["run"]["inputs"] == {"who": "C-1"}


def test_a_filter_that_says_no_starts_nothing_for_its_workflow(client: httpx.Client) -> None:
    response = post_event(
        client, type="customer_signup", data={"customer_id": "C-2", "plan": "starter"}
    )
    (run_id,) = response.json()["run_ids"]
    assert wait_status(client, run_id, "completed")["run"]["workflow_id"] == "audit"


def test_an_event_id_seen_before_is_not_processed_twice(client: httpx.Client) -> None:
    event = {
        "type": "customer_signup",
        "id": f"dup-{uuid.uuid4().hex}",
        "data": {"customer_id": "C-3", "plan": "enterprise"},
    }
    first = client.post("/events", json=event)
    second = client.post("/events", json=event)
    assert first.status_code == 202
    assert second.status_code == 200
    assert second.json()["duplicate"] is True
    assert second.json()["run_ids"] == first.json()["run_ids"]
    stored = client.get(f"/api/events/{event['id']}").json()
    assert stored["run_ids"] == first.json()["run_ids"]


def test_an_event_nobody_handles_is_stored_and_counted(client: httpx.Client) -> None:
    kind = f"unheard_{uuid.uuid4().hex[:8]}"
    response = post_event(client, type=kind, data={"x": 1})
    assert response.status_code == 202
    assert response.json()["status"] == "unhandled"
    assert response.json()["warning"] == f"no handler for event type {kind!r}"
    listed = client.get("/api/events", params={"type": kind}).json()["events"]
    assert [e["status"] for e in listed] == ["unhandled"]
    stats = client.get("/api/stats").json()["events"]
    assert stats["by_type"][kind] == {"unhandled": 1}
    assert stats["unhandled"] >= 1
    assert (
        f'plait_events_total{{status="unhandled",type="{kind}"}} 1.0' in client.get("/metrics").text
    )


def test_an_event_whose_inputs_do_not_fit_fails_and_says_why(client: httpx.Client) -> None:
    response = post_event(client, type="typed_signup", data={"count": 3})
    body = response.json()
    assert body["status"] == "failed"
    assert body["run_ids"] == []
    assert "audit" in body["errors"][0]
    assert "'who' must be a string" in body["errors"][0]


@pytest.mark.parametrize(
    ("event", "named"),
    [
        ({"data": {}}, "body.type"),
        ({"type": 5}, "body.type"),
        ({"type": ""}, "body.type"),
        ({"type": "a", "id": 7}, "body.id"),
        ({"type": "a", "colour": "red"}, "body.colour"),
    ],
)
def test_a_malformed_event_is_a_422(
    client: httpx.Client, event: dict[str, Any], named: str
) -> None:
    response = client.post("/events", json=event)
    assert response.status_code == 422
    assert named in response.json()["error"]


def test_unknown_event_is_a_404_and_bad_event_status_a_422(client: httpx.Client) -> None:
    assert client.get("/api/events/none-such").status_code == 404
    assert client.get("/api/events", params={"status": "lost"}).status_code == 422


# --- monitoring -----------------------------------------------------------------------


def test_stats_is_the_health_report_per_workflow(client: httpx.Client) -> None:
    ok = start(client, "greet", name="Ed")
    bad = start(client, "failing")
    wait_status(client, ok, "completed")
    wait_status(client, bad, "failed")
    report = client.get("/api/stats").json()
    assert report["workflows"]["greet"]["success_rate"] == 1.0
    assert report["workflows"]["failing"]["failures"] >= 1
    assert report["workflows"]["greet"]["duration_s"]["mean"] is not None
    assert "greet.hello" in report["steps"]
    only = client.get("/api/stats", params={"workflow_id": "failing"}).json()
    assert set(only["workflows"]) == {"failing"}


def test_metrics_are_prometheus_text(client: httpx.Client) -> None:
    run_id = start(client, "greet", name="Flo")
    wait_status(client, run_id, "completed")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'plait_workflow_executions_total{workflow="greet"}' in response.text


# --- security -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("guarded")
    folder = write_workflows(root / "workflows", {})
    with serving(config_for(folder, root / "plait.db", token="s3cret-token")) as server:
        yield server


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/runs"),
        ("GET", "/api/workflows"),
        ("GET", "/api/inbox"),
        ("GET", "/api/stats"),
        ("GET", "/api/events"),
        ("GET", "/metrics"),
        ("POST", "/events"),
        ("POST", "/api/runs/x/pause"),
    ],
)
def test_with_a_token_every_api_call_needs_it(guarded: Server, method: str, path: str) -> None:
    with guarded.client() as anonymous, guarded.client("wrong") as wrong:
        for http in (anonymous, wrong):
            response = http.request(method, path, json={"type": "t"} if method == "POST" else None)
            assert response.status_code == 401
            assert "Authorization: Bearer" in response.json()["error"]
            assert response.headers["www-authenticate"] == "Bearer"
            assert "s3cret" not in response.text


def test_with_the_right_token_calls_succeed(guarded: Server) -> None:
    with guarded.client("s3cret-token") as http:
        assert http.get("/api/runs").status_code == 200
        assert http.post("/events", json={"type": "t"}).status_code == 202
        assert http.get("/metrics").status_code == 200


def test_probe_and_dashboard_page_need_no_token(guarded: Server) -> None:
    with guarded.client() as anonymous:
        assert anonymous.get("/healthz").status_code == 200
        page = anonymous.get("/")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assert "script-src 'self'" in page.headers["content-security-policy"]


def test_with_a_token_any_host_name_is_served(guarded: Server) -> None:
    with guarded.client("s3cret-token") as http:
        assert http.get("/api/runs", headers={"host": "plait.example.com"}).status_code == 200


def test_without_a_token_only_loopback_host_names_are_served(client: httpx.Client) -> None:
    # What a page on another site would send after rebinding its name to 127.0.0.1.
    response = client.get("/api/runs", headers={"host": "attacker.example:8000"})
    assert response.status_code == 421
    assert client.get("/api/runs", headers={"host": "localhost:1234"}).status_code == 200


# --- reloading ------------------------------------------------------------------------


def test_reload_serves_new_changed_and_deleted_files(tmp_path: Path) -> None:
    folder = write_workflows(tmp_path / "workflows", {})
    with (
        serving(config_for(folder, tmp_path / "plait.db", reload=True)) as server,
        server.client() as http,
    ):
        assert http.get("/api/workflows").json()["workflows"] == []
        wf = folder / "one.yaml"
        wf.write_text(
            "workflow_id: one\nname: First\nsteps: [{step_id: a, action: acts.py:echo}]\n"
        )
        assert http.get("/api/workflows/one").json()["name"] == "First"
        wf.write_text(
            "workflow_id: one\nname: Second\nsteps: [{step_id: a, action: acts.py:echo}]\n"
        )
        import os

        os.utime(wf, ns=(wf.stat().st_mtime_ns + 10**9,) * 2)  # a later mtime, whatever the fs
        assert http.get("/api/workflows/one").json()["name"] == "Second"
        wf.unlink()
        assert http.get("/api/workflows/one").status_code == 404


def test_without_reload_files_are_read_once(tmp_path: Path) -> None:
    folder = write_workflows(tmp_path / "workflows", {})
    with serving(config_for(folder, tmp_path / "plait.db")) as server, server.client() as http:
        (folder / "late.yaml").write_text(
            "workflow_id: late\nname: Late\nsteps: [{step_id: a, action: acts.py:echo}]\n"
        )
        assert http.get("/api/workflows/late").status_code == 404


def test_events_table_survives_a_restart(tmp_path: Path) -> None:
    """Duplicates are recognised across restarts, since events live in the store's file."""
    folder = write_workflows(tmp_path / "workflows")
    config = config_for(folder, tmp_path / "plait.db")
    event = {"type": "customer_signup", "id": "once", "data": {"customer_id": "C", "plan": "x"}}
    with serving(config) as server, server.client() as http:
        first = http.post("/events", json=event).json()
    with serving(config) as server, server.client() as http:
        again = http.post("/events", json=event)
        assert again.status_code == 200
        assert again.json()["run_ids"] == first["run_ids"]
        assert json.loads(again.text)["duplicate"] is True


def test_a_run_waiting_at_shutdown_is_resumed_by_the_next_server(tmp_path: Path) -> None:
    folder = write_workflows(tmp_path / "workflows")
    config = config_for(folder, tmp_path / "plait.db")
    with serving(config) as server, server.client() as http:
        run_id = start(http, "review", draft="kept")
        pending_request(http, run_id)
    with serving(config) as server, server.client() as http:
        assert http.get(f"/api/runs/{run_id}").json()["run"]["active"] is False
        assert http.post(f"/api/runs/{run_id}/resume").status_code == 202
        pending_request(http, run_id)
        http.post(f"/api/runs/{run_id}/steps/approve/approve", json={"by": "later"})
        done = wait_status(http, run_id, "completed")
    assert step(done, "publish")["result"]["published"] == "kept"


def test_a_memory_store_serves_runs_and_events(tmp_path: Path) -> None:
    folder = write_workflows(tmp_path / "workflows")
    config = config_for(folder, tmp_path / "unused.db", store_url="memory://")
    with serving(config) as server, server.client() as http:
        run_id = start(http, "greet", name="Mem")
        assert wait_status(http, run_id, "completed")["run"]["output"] == "HELLO MEM"
        event = {"type": "customer_signup", "id": "m1", "data": {"customer_id": "C", "plan": "x"}}
        assert http.post("/events", json=event).status_code == 202
        assert http.post("/events", json=event).json()["duplicate"] is True
    assert not (tmp_path / "unused.db").exists()
