"""The store contract: every backend (memory, SQLite, later PostgreSQL) behaves the same.

Each test reads as one clause of the contract and runs once per backend, through
the `store` fixture in conftest.py.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pytest

from plait.store.base import (
    AttemptFailed,
    AttemptRow,
    AttemptStarted,
    HumanRequest,
    RunNotFoundError,
    RunRow,
    RunUpdated,
    StepRow,
    StepSettled,
    Store,
    StoreError,
)

T0 = 1_700_000_000.0


def run_row(run_id: str = "r1", **fields: Any) -> RunRow:
    values: dict[str, Any] = {
        "run_id": run_id,
        "workflow_id": "wf",
        "status": "running",
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(fields)
    return RunRow(**values)


def request(run_id: str = "r1", step_id: str = "review", **fields: Any) -> HumanRequest:
    return HumanRequest(run_id, step_id, fields.pop("created_at", T0), **fields)


async def step(store: Store, run_id: str, step_id: str) -> StepRow:
    rows = {s.step_id: s for s in await store.get_steps(run_id)}
    return rows[step_id]


async def attempts_of(store: Store, run_id: str, step_id: str) -> list[AttemptRow]:
    return [a for a in await store.get_attempts(run_id) if a.step_id == step_id]


# --- runs -----------------------------------------------------------------------------


async def test_a_created_run_reads_back_with_every_field(store: Store) -> None:
    row = run_row(
        workflow_name="Wörkflow ✓",
        source="/tmp/flows/wf.yaml",
        fingerprint="abc123",
        step_fingerprints={"a": "f1", "b": "f2"},
        inputs={"text": "héllo 世界", "n": 3, "ratio": 0.25, "tags": ["x"], "none": None},
        owner="host:1",
        heartbeat_at=T0,
        parent_run_id="r0",
        rerun_from="b",
    )
    await store.create_run(row)

    assert await store.get_run("r1") == row


async def test_creating_a_run_whose_id_exists_raises_store_error(store: Store) -> None:
    await store.create_run(run_row())

    with pytest.raises(StoreError):
        await store.create_run(run_row())


async def test_an_unknown_run_raises_run_not_found_which_is_also_a_key_error(
    store: Store,
) -> None:
    with pytest.raises(RunNotFoundError, match="nope") as caught:
        await store.get_run("nope")

    assert isinstance(caught.value, KeyError)
    assert isinstance(caught.value, StoreError)


async def test_runs_are_listed_newest_first(store: Store) -> None:
    for k, run_id in enumerate(["old", "mid", "new"]):
        await store.create_run(run_row(run_id, created_at=T0 + k))

    assert [r.run_id for r in await store.list_runs()] == ["new", "mid", "old"]


async def test_runs_created_in_the_same_instant_are_listed_by_id(store: Store) -> None:
    for run_id in ["b", "c", "a"]:
        await store.create_run(run_row(run_id))

    assert [r.run_id for r in await store.list_runs()] == ["a", "b", "c"]


async def test_runs_are_filtered_by_status_and_by_workflow(store: Store) -> None:
    await store.create_run(run_row("r1", workflow_id="one", status="completed"))
    await store.create_run(run_row("r2", workflow_id="one", status="failed", created_at=T0 + 1))
    await store.create_run(run_row("r3", workflow_id="two", status="completed", created_at=T0 + 2))

    assert [r.run_id for r in await store.list_runs(status="completed")] == ["r3", "r1"]
    assert [r.run_id for r in await store.list_runs(workflow_id="one")] == ["r2", "r1"]
    both = await store.list_runs(status="completed", workflow_id="one")
    assert [r.run_id for r in both] == ["r1"]
    assert await store.list_runs(status="paused") == []


async def test_runs_are_paged_with_limit_and_offset(store: Store) -> None:
    for k in range(5):
        await store.create_run(run_row(f"r{k}", created_at=T0 + k))

    assert [r.run_id for r in await store.list_runs(limit=2)] == ["r4", "r3"]
    assert [r.run_id for r in await store.list_runs(limit=2, offset=2)] == ["r2", "r1"]
    assert [r.run_id for r in await store.list_runs(limit=2, offset=4)] == ["r0"]
    assert await store.list_runs(offset=5) == []


async def test_claiming_a_run_makes_the_caller_its_running_owner(store: Store) -> None:
    await store.create_run(run_row(status="paused", owner="old:1", heartbeat_at=T0))
    await store.set_control("r1", "pause")

    await store.claim_run("r1", owner="new:2", at=T0 + 10, recovered=False)

    row = await store.get_run("r1")
    assert (row.owner, row.heartbeat_at, row.status) == ("new:2", T0 + 10, "running")
    assert row.control is None  # a request aimed at the previous owner is void
    assert row.recoveries == 0


async def test_claiming_a_run_after_a_crash_counts_a_recovery(store: Store) -> None:
    await store.create_run(run_row(owner="dead:1"))

    await store.claim_run("r1", owner="new:2", at=T0 + 1, recovered=True)
    await store.claim_run("r1", owner="new:3", at=T0 + 2, recovered=True)
    await store.claim_run("r1", owner="new:4", at=T0 + 3, recovered=False)

    assert (await store.get_run("r1")).recoveries == 2


async def test_claiming_an_unknown_run_raises_run_not_found(store: Store) -> None:
    with pytest.raises(RunNotFoundError):
        await store.claim_run("nope", owner="me:1", at=T0, recovered=False)


async def test_a_control_request_is_read_back_until_it_is_cleared(store: Store) -> None:
    await store.create_run(run_row("r1"))
    await store.create_run(run_row("r2"))

    await store.set_control("r1", "pause")
    await store.set_control("r2", "cancel")
    assert await store.read_controls(["r1", "r2"]) == {"r1": "pause", "r2": "cancel"}

    await store.set_control("r1", None)
    assert await store.read_controls(["r1", "r2"]) == {"r1": None, "r2": "cancel"}
    assert (await store.get_run("r2")).control == "cancel"


async def test_reading_controls_leaves_out_unknown_runs(store: Store) -> None:
    await store.create_run(run_row("r1"))

    assert await store.read_controls(["r1", "ghost"]) == {"r1": None}
    assert await store.read_controls([]) == {}


async def test_a_control_request_for_an_unknown_run_raises_run_not_found(store: Store) -> None:
    with pytest.raises(RunNotFoundError):
        await store.set_control("nope", "pause")


async def test_a_heartbeat_is_recorded_only_for_runs_the_caller_owns(store: Store) -> None:
    await store.create_run(run_row("mine", owner="me:1", heartbeat_at=T0))
    await store.create_run(run_row("theirs", owner="them:2", heartbeat_at=T0))

    await store.heartbeat(["mine", "theirs", "ghost"], owner="me:1", at=T0 + 5)
    await store.heartbeat([], owner="me:1", at=T0 + 6)

    assert (await store.get_run("mine")).heartbeat_at == T0 + 5
    assert (await store.get_run("theirs")).heartbeat_at == T0


# --- step writes ----------------------------------------------------------------------


async def test_an_attempt_started_makes_a_running_step_and_an_attempt(store: Store) -> None:
    await store.create_run(run_row())

    await store.apply([AttemptStarted("r1", "a", 1, T0 + 1, json.dumps({"x": "ü"}))])

    assert await store.get_steps("r1") == [
        StepRow("r1", "a", "running", 1, inputs={"x": "ü"}, started_at=T0 + 1)
    ]
    assert await store.get_attempts("r1") == [AttemptRow("r1", "a", 1, T0 + 1)]


async def test_a_later_attempt_keeps_the_first_start_time_and_the_inputs(store: Store) -> None:
    await store.create_run(run_row())
    await store.apply([AttemptStarted("r1", "a", 1, T0 + 1, '{"x": 1}')])
    await store.apply([AttemptFailed("r1", "a", 1, T0 + 2, "ValueError: bad", "ValueError", 0.5)])

    await store.apply([AttemptStarted("r1", "a", 2, T0 + 3, None)])

    row = await step(store, "r1", "a")
    assert (row.status, row.attempts, row.started_at, row.inputs) == (
        "running",
        2,
        T0 + 1,
        {"x": 1},
    )


async def test_a_failed_attempt_is_closed_with_its_error_and_retry_delay(store: Store) -> None:
    await store.create_run(run_row())
    await store.apply([AttemptStarted("r1", "a", 1, T0 + 1, None)])

    await store.apply([AttemptFailed("r1", "a", 1, T0 + 2, "ValueError: bad", "ValueError", 0.5)])

    assert await store.get_attempts("r1") == [
        AttemptRow("r1", "a", 1, T0 + 1, T0 + 2, "failed", "ValueError: bad", "ValueError", 0.5)
    ]
    assert (await step(store, "r1", "a")).status == "running"  # it will be tried again


async def test_a_completed_step_keeps_its_result_and_closes_its_attempt(store: Store) -> None:
    await store.create_run(run_row())
    await store.apply([AttemptStarted("r1", "a", 1, T0 + 1, '{"q": "?"}')])

    await store.apply(
        [StepSettled("r1", "a", "completed", 1, T0 + 3, '{"answer": 42}', duration_s=2.0)]
    )

    assert await store.get_steps("r1") == [
        StepRow(
            "r1",
            "a",
            "completed",
            1,
            result={"answer": 42},
            inputs={"q": "?"},
            started_at=T0 + 1,
            finished_at=T0 + 3,
            duration_s=2.0,
        )
    ]
    assert await store.get_attempts("r1") == [AttemptRow("r1", "a", 1, T0 + 1, T0 + 3, "completed")]


async def test_a_failed_step_keeps_its_error_and_type(store: Store) -> None:
    await store.create_run(run_row())
    await store.apply([AttemptStarted("r1", "a", 1, T0 + 1, None)])

    await store.apply(
        [StepSettled("r1", "a", "failed", 1, T0 + 2, error="KeyError: 'x'", error_type="KeyError")]
    )

    row = await step(store, "r1", "a")
    assert (row.status, row.error, row.error_type, row.result) == (
        "failed",
        "KeyError: 'x'",
        "KeyError",
        None,
    )
    [attempt] = await store.get_attempts("r1")
    assert (attempt.outcome, attempt.error, attempt.error_type) == (
        "failed",
        "KeyError: 'x'",
        "KeyError",
    )


async def test_a_step_settled_without_starting_has_a_row_but_no_attempt(store: Store) -> None:
    await store.create_run(run_row())

    await store.apply(
        [StepSettled("r1", "b", "skipped", 0, T0 + 1, reason="its condition was false")]
    )

    assert await store.get_steps("r1") == [
        StepRow("r1", "b", "skipped", 0, finished_at=T0 + 1, reason="its condition was false")
    ]
    assert await store.get_attempts("r1") == []


async def test_a_new_attempt_clears_what_the_previous_settlement_said(store: Store) -> None:
    # An approval step that waited, then runs again on resume: it is running, not waiting.
    await store.create_run(run_row())
    await store.apply([AttemptStarted("r1", "a", 1, T0 + 1, None)])
    await store.apply(
        [
            StepSettled(
                "r1",
                "a",
                "waiting",
                1,
                T0 + 2,
                error="E: x",
                error_type="E",
                duration_s=1.0,
                reason="waiting for a person",
            )
        ]
    )

    await store.apply([AttemptStarted("r1", "a", 2, T0 + 3, None)])

    row = await step(store, "r1", "a")
    assert (row.status, row.error, row.error_type, row.finished_at, row.duration_s) == (
        "running",
        None,
        None,
        None,
        None,
    )
    assert row.reason == ""


async def test_steps_are_listed_in_the_order_they_first_appeared(store: Store) -> None:
    await store.create_run(run_row())
    for k, sid in enumerate(["c", "a", "b"]):
        await store.apply([AttemptStarted("r1", sid, 1, T0 + k, None)])
    await store.apply([StepSettled("r1", "a", "completed", 1, T0 + 9, "1")])

    assert [s.step_id for s in await store.get_steps("r1")] == ["c", "a", "b"]


async def test_attempts_are_listed_by_start_time(store: Store) -> None:
    await store.create_run(run_row())
    await store.apply([AttemptStarted("r1", "b", 1, T0 + 1, None)])
    await store.apply([AttemptStarted("r1", "a", 1, T0 + 2, None)])
    await store.apply([AttemptStarted("r1", "b", 2, T0 + 3, None)])

    listed = [(a.step_id, a.attempt) for a in await store.get_attempts("r1")]
    assert listed == [("b", 1), ("a", 1), ("b", 2)]


async def test_a_run_update_sets_status_and_keeps_fields_it_does_not_name(store: Store) -> None:
    await store.create_run(run_row())
    await store.apply(
        [RunUpdated("r1", "failed", T0 + 1, error="boom", failed_step="a", duration_s=1.5)]
    )

    await store.apply([RunUpdated("r1", "running", T0 + 2)])

    row = await store.get_run("r1")
    assert (row.status, row.updated_at, row.error, row.failed_step, row.duration_s) == (
        "running",
        T0 + 2,
        "boom",
        "a",
        1.5,
    )
    assert row.finished_at is None


async def test_a_finished_run_has_its_output_end_time_and_no_control(store: Store) -> None:
    await store.create_run(run_row())
    await store.set_control("r1", "cancel")

    await store.apply(
        [RunUpdated("r1", "completed", T0 + 4, output_json='{"ok": true}', finished=True)]
    )

    row = await store.get_run("r1")
    assert (row.status, row.output, row.finished_at, row.control) == (
        "completed",
        {"ok": True},
        T0 + 4,
        None,
    )


async def test_a_paused_run_drops_the_pause_request_it_obeyed(store: Store) -> None:
    await store.create_run(run_row())
    await store.set_control("r1", "pause")

    await store.apply([RunUpdated("r1", "paused", T0 + 1)])

    row = await store.get_run("r1")
    assert (row.status, row.control, row.finished_at) == ("paused", None, None)


async def test_a_still_running_run_keeps_its_control_request(store: Store) -> None:
    await store.create_run(run_row())
    await store.set_control("r1", "cancel")

    await store.apply([RunUpdated("r1", "running", T0 + 1)])

    assert (await store.get_run("r1")).control == "cancel"


async def test_one_batch_may_hold_every_kind_of_write_for_several_runs(store: Store) -> None:
    await store.create_run(run_row("r1"))
    await store.create_run(run_row("r2"))

    await store.apply(
        [
            AttemptStarted("r1", "a", 1, T0, None),
            StepSettled("r1", "a", "completed", 1, T0 + 1, '"done"'),
            AttemptStarted("r2", "x", 1, T0, None),
            AttemptFailed("r2", "x", 1, T0 + 1, "E: e", "E", 1.0),
            RunUpdated("r1", "completed", T0 + 2, finished=True),
        ]
    )

    assert (await step(store, "r1", "a")).result == "done"
    assert [a.outcome for a in await store.get_attempts("r2")] == ["failed"]
    assert (await store.get_run("r1")).status == "completed"
    assert (await store.get_run("r2")).status == "running"


@pytest.mark.parametrize(
    "bad_write",
    [
        # Each one names a run that does not exist, so it fails late in the batch.
        AttemptStarted("ghost", "z", 1, T0, None),
        StepSettled("ghost", "z", "completed", 1, T0, "1"),
        AttemptFailed("ghost", "z", 1, T0, "E: e", "E", 1.0),
        RunUpdated("ghost", "failed", T0),
    ],
    ids=lambda w: type(w).__name__,
)
async def test_a_batch_whose_last_write_fails_leaves_no_trace(store: Store, bad_write: Any) -> None:
    await store.create_run(run_row())
    await store.apply([AttemptStarted("r1", "a", 1, T0, '{"k": 1}')])
    before = (
        await store.get_run("r1"),
        await store.get_steps("r1"),
        await store.get_attempts("r1"),
    )

    with pytest.raises(RunNotFoundError, match="ghost"):
        await store.apply(
            [
                StepSettled("r1", "a", "completed", 1, T0 + 1, '"result"'),
                AttemptStarted("r1", "b", 1, T0 + 1, None),
                RunUpdated("r1", "completed", T0 + 2, output_json="1", finished=True),
                bad_write,
            ]
        )

    after = (await store.get_run("r1"), await store.get_steps("r1"), await store.get_attempts("r1"))
    assert after == before


@pytest.mark.parametrize(
    "value",
    [
        {"nested": {"list": [1, 2.5, None, True, "x"]}, "empty": {}},
        [1, "two", [3], {"four": 4}],
        'unicode: héllo wörld 世界 🎉 and "quotes" and \\ and \n newlines',
        0.1 + 0.2,  # a float that needs all its digits
        1e-300,
        -0.0,
        2**53 + 1,
        None,
        "",
        [],
        False,
    ],
    ids=repr,
)
async def test_results_come_back_exactly_as_json_values(store: Store, value: Any) -> None:
    await store.create_run(run_row())
    text = json.dumps(value, ensure_ascii=False)

    await store.apply(
        [
            AttemptStarted("r1", "a", 1, T0, text),
            StepSettled("r1", "a", "completed", 1, T0 + 1, text),
            RunUpdated("r1", "completed", T0 + 2, output_json=text, finished=True),
        ]
    )

    row = await step(store, "r1", "a")
    output = (await store.get_run("r1")).output
    for got in (row.result, row.inputs, output):
        assert got == value
        assert type(got) is type(value)
        if isinstance(value, float):
            assert math.copysign(1, got) == math.copysign(1, value)


# --- recovery -------------------------------------------------------------------------


async def test_marking_crashed_steps_counts_each_crash_and_makes_them_pending(
    store: Store,
) -> None:
    await store.create_run(run_row())
    await store.apply(
        [AttemptStarted("r1", "a", 1, T0, None), AttemptStarted("r1", "b", 1, T0, None)]
    )

    assert await store.mark_crashed("r1", ["a", "b"]) == {"a": 1, "b": 1}
    await store.apply([AttemptStarted("r1", "a", 2, T0 + 1, None)])
    assert await store.mark_crashed("r1", ["a"]) == {"a": 2}

    rows = {s.step_id: s for s in await store.get_steps("r1")}
    assert (rows["a"].status, rows["a"].crashes) == ("pending", 2)
    assert (rows["b"].status, rows["b"].crashes) == ("pending", 1)
    outcomes = [(a.step_id, a.attempt, a.outcome) for a in await store.get_attempts("r1")]
    assert outcomes == [("a", 1, "crashed"), ("b", 1, "crashed"), ("a", 2, "crashed")]


async def test_the_crash_count_survives_a_later_attempt_and_settlement(store: Store) -> None:
    await store.create_run(run_row())
    await store.apply([AttemptStarted("r1", "a", 1, T0, None)])
    await store.mark_crashed("r1", ["a"])

    await store.apply([AttemptStarted("r1", "a", 2, T0 + 1, None)])
    await store.apply([StepSettled("r1", "a", "completed", 2, T0 + 2, "1")])

    assert (await step(store, "r1", "a")).crashes == 1


async def test_marking_a_step_that_never_started_counts_nothing(store: Store) -> None:
    await store.create_run(run_row())

    assert await store.mark_crashed("r1", ["never"]) == {}
    assert await store.get_steps("r1") == []


async def test_copied_steps_belong_to_the_new_run_and_say_where_they_came_from(
    store: Store,
) -> None:
    await store.create_run(run_row("old"))
    await store.create_run(run_row("new", parent_run_id="old", created_at=T0 + 1))
    await store.apply(
        [
            AttemptStarted("old", "a", 1, T0, '{"in": 1}'),
            StepSettled("old", "a", "completed", 1, T0 + 1, '{"out": "ü"}', duration_s=1.0),
            StepSettled("old", "s", "skipped", 0, T0 + 1, reason="condition"),
            AttemptStarted("old", "b", 1, T0 + 1, None),
        ]
    )
    await store.mark_crashed("old", ["a"])  # crashes do not travel with a copy
    await store.apply([StepSettled("old", "a", "completed", 1, T0 + 2, '{"out": "ü"}')])

    await store.copy_steps("old", "new", ["a", "s", "missing"])

    copied = {s.step_id: s for s in await store.get_steps("new")}
    assert set(copied) == {"a", "s"}
    old_a = await step(store, "old", "a")
    assert copied["a"] == dataclasses.replace(
        old_a, run_id="new", crashes=0, reason="reused from run old"
    )
    assert copied["s"].status == "skipped"
    assert [s.step_id for s in await store.get_steps("old")] == ["a", "s", "b"]
    assert old_a.crashes == 1


# --- requests for people --------------------------------------------------------------


async def test_a_request_reads_back_with_its_data(store: Store) -> None:
    await store.create_run(run_row())
    made = request(
        prompt="Publish? ✓",
        data={"text": "héllo", "score": 0.5, "tags": ["a"]},
        assignees=("ann", "bob"),
        expires_at=T0 + 60,
        default_outcome="approve",
    )

    await store.create_human_request(made)

    assert await store.get_human_request("r1", "review") == made
    assert await store.get_human_request("r1", "other") is None


async def test_creating_a_request_twice_keeps_the_first(store: Store) -> None:
    await store.create_run(run_row())
    await store.create_human_request(request(prompt="first"))
    await store.answer_human_request(
        "r1", "review", status="approved", answer=None, reason=None, by="ann", at=T0 + 1
    )

    await store.create_human_request(request(prompt="second"))

    found = await store.get_human_request("r1", "review")
    assert found is not None
    assert (found.prompt, found.status) == ("first", "approved")


async def test_an_answer_is_recorded_with_who_when_and_why(store: Store) -> None:
    await store.create_run(run_row())
    await store.create_human_request(request())

    answered = await store.answer_human_request(
        "r1",
        "review",
        status="approved",
        answer={"note": "fine ✓", "edits": [1, 2]},
        reason="looks good",
        by="ann",
        at=T0 + 5,
    )

    assert answered == dataclasses.replace(
        request(),
        status="approved",
        answer={"note": "fine ✓", "edits": [1, 2]},
        reason="looks good",
        answered_by="ann",
        answered_at=T0 + 5,
    )
    assert await store.get_human_request("r1", "review") == answered


async def test_a_request_is_answered_once(store: Store) -> None:
    await store.create_run(run_row())
    await store.create_human_request(request())
    await store.answer_human_request(
        "r1", "review", status="rejected", answer=None, reason="spam", by="ann", at=T0 + 1
    )

    with pytest.raises(StoreError, match="already answered"):
        await store.answer_human_request(
            "r1", "review", status="approved", answer=None, reason=None, by="bob", at=T0 + 2
        )

    found = await store.get_human_request("r1", "review")
    assert found is not None
    assert (found.status, found.reason, found.answered_by) == ("rejected", "spam", "ann")


async def test_answering_a_request_that_does_not_exist_raises_store_error(store: Store) -> None:
    await store.create_run(run_row())

    with pytest.raises(StoreError, match="plait inbox"):
        await store.answer_human_request(
            "r1", "nope", status="approved", answer=None, reason=None, by=None, at=T0
        )


async def test_requests_are_listed_by_status_oldest_first(store: Store) -> None:
    await store.create_run(run_row())
    await store.create_human_request(request(step_id="late", created_at=T0 + 2))
    await store.create_human_request(request(step_id="early", created_at=T0 + 1))
    await store.create_human_request(request(step_id="done", created_at=T0))
    await store.answer_human_request(
        "r1", "done", status="approved", answer=None, reason=None, by=None, at=T0 + 3
    )

    pending = [r.step_id for r in await store.list_human_requests()]
    approved = [r.step_id for r in await store.list_human_requests(status="approved")]
    every = [r.step_id for r in await store.list_human_requests(status=None)]

    assert pending == ["early", "late"]
    assert approved == ["done"]
    assert every == ["done", "early", "late"]
