"""examples/content_moderation.yaml: the guide's conditional routing, joined by one_success."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from example_support import DATA, direct_upstream, run_example

from plait.engine import WorkflowEngine

WORKFLOW = "content_moderation.yaml"
ROUTES = ("approve", "reject", "human_review")
SAMPLES: list[dict[str, Any]] = json.loads(
    (DATA / "moderation_samples.json").read_text(encoding="utf-8")
)


def test_every_branch_waits_for_the_analysis_and_record_for_every_branch() -> None:
    for route in ROUTES:
        assert direct_upstream(WORKFLOW, route) == {"analyze"}
    assert direct_upstream(WORKFLOW, "record") == set(ROUTES)


@pytest.mark.parametrize("sample", SAMPLES, ids=[s["id"] for s in SAMPLES])
async def test_each_sample_takes_its_expected_branch_and_is_recorded(
    sample: dict[str, Any], sandbox: Path, engine: WorkflowEngine
) -> None:
    result = await run_example(engine, WORKFLOW, content=sample["content"], content_id=sample["id"])

    assert result["status"] == "completed", result["error"]
    expected = sample["expected"]
    assert result["output"]["route"] == expected
    for route in ROUTES:
        assert result["steps"][route]["status"] == ("completed" if route == expected else "skipped")
    log = (sandbox / ".plait/moderation/decisions.jsonl").read_text(encoding="utf-8")
    assert [json.loads(line)["route"] for line in log.splitlines()] == [expected]
    queue = sandbox / ".plait/moderation/review_queue.json"
    if expected == "human_review":
        (item,) = json.loads(queue.read_text(encoding="utf-8"))
        assert (item["content_id"], item["content"]) == (sample["id"], sample["content"])
    else:
        assert not queue.exists()


async def test_a_rejection_tells_the_author_which_policy_was_broken(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    threat = next(s for s in SAMPLES if s["id"] == "c5")

    result = await run_example(engine, WORKFLOW, content=threat["content"])

    assert "threat" in result["results"]["reject"]["notice"]


async def test_the_review_queue_holds_each_item_once_however_often_it_is_sent(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    borderline = [s for s in SAMPLES if s["expected"] == "human_review"]
    for sample in [*borderline, borderline[0]]:
        result = await run_example(engine, WORKFLOW, content=sample["content"])
        assert result["output"]["route"] == "human_review"

    queue = json.loads((sandbox / ".plait/moderation/review_queue.json").read_text())
    assert [item["content"] for item in queue] == [s["content"] for s in borderline]
    assert result["results"]["human_review"]["queue_position"] == 1
