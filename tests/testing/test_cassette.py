"""Record a run to a cassette, then replay chosen steps from it while the others run live."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kit_workflows import CALLS, ORDER, ORDERS, pipeline

from plait import WorkflowEngine
from plait.testing import Cassette, CassetteMismatchError, WorkflowKit, record_to

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def record(workflow: Any, inputs: dict[str, Any], path: Path) -> dict[str, Any]:
    """Run as production does (a plain engine), with the recorder attached."""
    engine = WorkflowEngine(listeners=[record_to(path)])
    try:
        return await engine.execute_workflow(workflow, inputs)
    finally:
        engine.close()


async def test_a_cassette_holds_every_steps_inputs_and_outcome(tmp_path: Path):
    live = await record(ORDERS, {"order": ORDER}, tmp_path / "orders.json")

    data = json.loads((tmp_path / "orders.json").read_text())
    assert data["format"] == "plait-cassette/1"
    assert (data["workflow_id"], data["run_id"], data["status"]) == (
        "orders",
        live["run_id"],
        "completed",
    )
    assert data["inputs"] == {"order": ORDER}
    assert data["steps"]["price"] == {
        "agent": "pricing_api",
        "status": "completed",
        "attempts": 1,
        "inputs": {"order": {"sku": "A-1", "quantity": 4}},
        "result": 10.0,
        "error": None,
        "error_type": None,
    }
    assert next(iter(data["steps"])) == "validate"  # in the order they started


async def test_replayed_steps_answer_from_the_cassette(tmp_path: Path, plait_kit: WorkflowKit):
    await record(ORDERS, {"order": ORDER}, tmp_path / "orders.json")
    cassette = Cassette.load(tmp_path / "orders.json")
    cassette.steps["price"].result = 12.5  # so the answer visibly comes from the cassette

    result = await plait_kit.run(ORDERS, cassette.inputs, replay=cassette.replay("price"))

    assert result.output == {"total": 12.5, "shipped": True}


@pytest.mark.parametrize(
    ("steps", "agents", "replayed"),
    [
        (("price",), (), {"price"}),  # by id
        (("pr*", "st*"), (), {"price", "stock"}),  # by glob
        ((), ("*_api",), {"price", "stock"}),  # by agent label
    ],
)
async def test_steps_are_chosen_by_id_glob_or_agent(
    tmp_path: Path,
    plait_kit: WorkflowKit,
    steps: tuple[str, ...],
    agents: tuple[str, ...],
    replayed: set[str],
):
    await record(ORDERS, {"order": ORDER}, tmp_path / "orders.json")
    cassette = Cassette.load(tmp_path / "orders.json")
    for step in cassette.steps.values():
        step.result = {"marked": step.step_id}  # what a replayed step returns

    result = await plait_kit.run(
        ORDERS, cassette.inputs, replay=cassette.replay(*steps, agents=agents)
    )

    marked = {sid for sid, value in result.results.items() if value == {"marked": sid}}
    assert marked == replayed


async def test_inputs_that_differ_from_the_recording_fail_with_a_diff(
    tmp_path: Path, plait_kit: WorkflowKit
):
    await record(ORDERS, {"order": ORDER}, tmp_path / "orders.json")
    cassette = Cassette.load(tmp_path / "orders.json")
    other = {"sku": "A-1", "quantity": 5}

    with pytest.raises(CassetteMismatchError) as caught:
        await plait_kit.run(ORDERS, {"order": other}, replay=cassette.replay("price"))

    message = str(caught.value)
    assert "step 'price' was replayed with inputs that differ from the recording" in message
    assert "--- price inputs (recorded)\n+++ price inputs (this run)" in message
    assert '-    "quantity": 4,' in message and '+    "quantity": 5,' in message


async def test_a_mismatch_is_not_retried(tmp_path: Path, plait_kit: WorkflowKit):
    await record(ORDERS, {"order": ORDER}, tmp_path / "orders.json")
    cassette = Cassette.load(tmp_path / "orders.json")

    with pytest.raises(CassetteMismatchError):
        await plait_kit.run(
            ORDERS,
            {"order": {"sku": "B", "quantity": 1}},
            replay=cassette.replay("stock"),
            run_id="mismatch",
        )

    steps = {s.step_id: s for s in await plait_kit.store.get_steps("mismatch")}
    assert (steps["stock"].status, steps["stock"].attempts) == ("failed", 1)  # not retried


async def test_a_recorded_failure_replays_as_the_same_error(tmp_path: Path, plait_kit: WorkflowKit):
    await record(ORDERS, {"order": {"sku": "A", "quantity": 0}}, tmp_path / "bad.json")
    cassette = Cassette.load(tmp_path / "bad.json")
    assert cassette.steps["validate"].error_type == "builtins.ValueError"

    result = await plait_kit.run(ORDERS, cassette.inputs, replay=cassette.replay("validate"))

    assert result.error == "ValueError: quantity must be positive"


async def test_a_step_that_did_not_run_when_recorded_cannot_be_replayed(
    tmp_path: Path, plait_kit: WorkflowKit
):
    await record(ORDERS, {"order": {"sku": "A", "quantity": 0}}, tmp_path / "bad.json")
    cassette = Cassette.load(tmp_path / "bad.json")

    with pytest.raises(CassetteMismatchError, match="'price' cannot be replayed: it was not"):
        await plait_kit.run(ORDERS, {"order": ORDER}, replay=cassette.replay("price"))


def test_a_file_that_is_not_a_cassette_is_refused(tmp_path: Path):
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ValueError, match="not a plait cassette"):
        Cassette.load(tmp_path / "x.json")


async def test_the_market_research_example_replays_its_analyses_to_identical_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plait_kit: WorkflowKit
):
    # The example's defaults are relative to the repository root; its report lands here.
    (tmp_path / "examples").symlink_to(EXAMPLES, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    workflow = "examples/market_research.yaml"
    from plait.loader import load_workflow

    live = await record(load_workflow(workflow), {}, tmp_path / "market.json")
    assert live["status"] == "completed", live["error"]
    cassette = Cassette.load(tmp_path / "market.json")
    assert cassette.steps["synthesize_llm"].status == "skipped"

    analyses = cassette.replay("competitor", "sentiment", "pricing", "trends", "synthesize_*")
    replayed = await plait_kit.run(workflow, cassette.inputs, replay=analyses)

    assert replayed.ok
    assert replayed.results == live["results"]
    assert replayed.output == live["output"]
    assert {s: r.result for s, r in cassette.steps.items() if r.status == "completed"} == (
        replayed.results
    )


async def test_a_code_first_runs_model_calls_replay_by_agent(
    tmp_path: Path, plait_kit: WorkflowKit
):
    await record(pipeline, {"source": "db"}, tmp_path / "pipeline.json")
    cassette = Cassette.load(tmp_path / "pipeline.json")
    assert list(cassette.steps) == ["load", "score", "score#2", "score#3", "total"]
    CALLS.clear()

    result = await plait_kit.run(pipeline, cassette.inputs, replay=cassette.replay(agents=["llm"]))

    assert result.output == 60
    assert CALLS == ["load:db", "total"]  # the three `llm` calls came from the cassette
