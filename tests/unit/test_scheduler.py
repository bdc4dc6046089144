"""The scheduler as a pure state machine: feed it outcomes, check which steps it starts.

No event loop runs here; the actions are never called.
"""

from __future__ import annotations

from typing import Any

from plait import StepStatus, WorkflowDefinition, WorkflowStatus, WorkflowStep
from plait.scheduler import Scheduler

OK = StepStatus.COMPLETED
FAILED = StepStatus.FAILED
SKIPPED = StepStatus.SKIPPED
CANCELLED = StepStatus.CANCELLED


async def work(**inputs: Any) -> None:
    raise AssertionError("the scheduler never calls actions")


class Harness:
    """A scheduler driven by step ids instead of indexes."""

    def __init__(self, *steps: tuple[str, list[str], dict[str, Any]], **kwargs: Any) -> None:
        definition = WorkflowDefinition(
            "wf",
            "wf",
            "",
            [WorkflowStep(sid, action=work, dependencies=deps, **kw) for sid, deps, kw in steps],
            **kwargs,
        )
        self.plan = definition.compile()
        self.scheduler = Scheduler(self.plan)

    def ids(self, indexes: list[int]) -> list[str]:
        return [self.plan.ids[i] for i in indexes]

    def initial(self) -> list[str]:
        return self.ids(self.scheduler.initial())

    def finish(self, step_id: str, status: StepStatus = OK) -> list[str]:
        return self.ids(self.scheduler.finished(self.plan.index_of[step_id], status))

    def resume(self) -> list[str]:
        return self.ids(self.scheduler.resume())

    def status(self, step_id: str) -> StepStatus:
        return self.scheduler.status[self.plan.index_of[step_id]]

    def skipped(self) -> list[str]:
        return self.ids(self.scheduler.take_skipped())


def s(step_id: str, *deps: str, **kwargs: Any) -> tuple[str, list[str], dict[str, Any]]:
    return (step_id, list(deps), kwargs)


def test_steps_without_dependencies_start_at_once_in_definition_order() -> None:
    h = Harness(s("a"), s("b"), s("c", "a"))
    assert h.initial() == ["a", "b"]
    assert h.status("a") is StepStatus.RUNNING
    assert h.status("c") is StepStatus.PENDING


def test_a_step_starts_as_soon_as_its_last_dependency_finishes() -> None:
    h = Harness(s("a"), s("b"), s("join", "a", "b"))
    h.initial()
    assert h.finish("a") == []
    assert h.finish("b") == ["join"]


def test_a_step_does_not_wait_for_unrelated_running_steps() -> None:
    h = Harness(s("a"), s("slow"), s("b", "a"), s("c", "b"))
    assert h.initial() == ["a", "slow"]
    assert h.finish("a") == ["b"]
    assert h.finish("b") == ["c"]
    assert h.status("slow") is StepStatus.RUNNING


def test_a_run_completes_when_every_step_has_finished() -> None:
    h = Harness(s("a"), s("b", "a"))
    h.initial()
    assert h.scheduler.outcome() is WorkflowStatus.RUNNING
    h.finish("a")
    assert not h.scheduler.is_idle
    h.finish("b")
    assert h.scheduler.is_idle
    assert h.scheduler.outcome() is WorkflowStatus.COMPLETED


# --- trigger rules -----------------------------------------------------------------


def test_all_success_skips_a_step_whose_upstream_failed_and_the_skip_cascades() -> None:
    h = Harness(s("a"), s("b", "a"), s("c", "b"), s("other"), on_failure="continue")
    h.initial()
    assert h.finish("a", FAILED) == []
    assert (h.status("b"), h.status("c")) == (SKIPPED, SKIPPED)
    assert h.skipped() == ["b", "c"]
    assert h.skipped() == []  # reported once
    assert h.scheduler.skip_reasons[h.plan.index_of["b"]] == "an upstream step failed (all_success)"
    assert h.scheduler.skip_reasons[h.plan.index_of["c"]] == (
        "an upstream step was skipped (all_success)"
    )


def test_all_success_skips_a_step_whose_upstream_was_skipped() -> None:
    h = Harness(s("a"), s("b"), s("c", "a", "b"))
    h.initial()
    h.finish("a", SKIPPED)
    assert h.finish("b") == []
    assert h.status("c") is SKIPPED


def test_all_done_runs_whatever_happened_upstream() -> None:
    h = Harness(
        s("a"), s("b"), s("c"), s("cleanup", "a", "b", "c", trigger_rule="all_done"),
        on_failure="continue",
    )  # fmt: skip
    h.initial()
    h.finish("a", FAILED)
    h.finish("b", SKIPPED)
    assert h.finish("c", CANCELLED) == ["cleanup"]


def test_one_success_waits_for_every_branch_then_runs_if_one_completed() -> None:
    h = Harness(
        s("approve"), s("reject"), s("review"),
        s("publish", "approve", "reject", "review", trigger_rule="one_success"),
    )  # fmt: skip
    h.initial()
    assert h.finish("approve") == []
    assert h.finish("reject", SKIPPED) == []
    assert h.finish("review", SKIPPED) == ["publish"]


def test_one_success_is_skipped_when_no_branch_completed() -> None:
    h = Harness(s("a"), s("b"), s("join", "a", "b", trigger_rule="one_success"))
    h.initial()
    h.finish("a", SKIPPED)
    h.finish("b", SKIPPED)
    assert h.status("join") is SKIPPED


def test_none_failed_runs_after_skips_but_not_after_a_failure() -> None:
    h = Harness(
        s("a"), s("b"), s("c"),
        s("after_skip", "a", "b", trigger_rule="none_failed"),
        s("after_failure", "b", "c", trigger_rule="none_failed"),
        on_failure="continue",
    )  # fmt: skip
    h.initial()
    h.finish("a", SKIPPED)
    assert h.finish("b") == ["after_skip"]
    h.finish("c", FAILED)
    assert h.status("after_failure") is SKIPPED
    assert h.scheduler.skip_reasons[h.plan.index_of["after_failure"]] == (
        "an upstream step failed (none_failed)"
    )


def test_a_cancelled_upstream_counts_as_a_failure_for_none_failed() -> None:
    h = Harness(s("a"), s("b", "a", trigger_rule="none_failed"), on_failure="continue")
    h.initial()
    h.finish("a", CANCELLED)
    assert h.status("b") is SKIPPED


def test_a_skip_cascades_down_a_long_chain_without_recursion() -> None:
    n = 5_000
    h = Harness(s("s0"), *(s(f"s{i}", f"s{i - 1}") for i in range(1, n)))
    h.initial()
    h.finish("s0", SKIPPED)
    assert len(h.skipped()) == n - 1
    assert h.scheduler.outcome() is WorkflowStatus.COMPLETED


# --- failure policies --------------------------------------------------------------


def test_a_failure_stops_new_starts_by_default() -> None:
    h = Harness(s("a"), s("b"), s("after_b", "b"))
    h.initial()
    assert h.finish("a", FAILED) == []
    assert h.scheduler.stopping
    assert h.finish("b") == []  # its successor never starts
    assert h.status("after_b") is StepStatus.PENDING
    assert h.scheduler.is_idle
    assert h.scheduler.outcome() is WorkflowStatus.FAILED


def test_on_failure_continue_lets_independent_branches_run() -> None:
    h = Harness(s("a"), s("b"), s("after_a", "a"), s("after_b", "b"), on_failure="continue")
    h.initial()
    assert h.finish("a", FAILED) == []
    assert h.finish("b") == ["after_b"]
    h.finish("after_b")
    assert h.status("after_a") is SKIPPED
    assert h.scheduler.outcome() is WorkflowStatus.FAILED


# --- limits ------------------------------------------------------------------------


def test_max_concurrency_holds_back_steps_until_a_slot_frees() -> None:
    h = Harness(s("a"), s("b"), s("c"), s("d"), max_concurrency=2)
    assert h.initial() == ["a", "b"]
    assert h.scheduler.running == 2
    assert h.finish("b") == ["c"]
    assert h.finish("a") == ["d"]


def test_a_waiting_step_on_the_longest_path_is_started_first() -> None:
    h = Harness(s("a"), s("short"), s("long"), s("long2", "long"), max_concurrency=1)
    assert h.initial() == ["a"]
    assert h.finish("a") == ["long"]  # its chain is longer than `short`'s


def test_agent_concurrency_limits_steps_per_agent_label() -> None:
    h = Harness(
        s("l1", agent="llm"), s("l2", agent="llm"), s("l3", agent="llm"), s("db", agent="db"),
        agent_concurrency={"llm": 1},
    )  # fmt: skip
    assert h.initial() == ["l1", "db"]
    assert h.finish("db") == []
    assert h.finish("l1") == ["l2"]
    assert h.finish("l2") == ["l3"]


def test_agent_and_global_limits_apply_together() -> None:
    h = Harness(
        s("l1", agent="llm"), s("l2", agent="llm"), s("x"), s("y"),
        agent_concurrency={"llm": 1}, max_concurrency=2,
    )  # fmt: skip
    assert h.initial() == ["l1", "x"]
    assert h.finish("l1") == ["l2"]
    assert h.finish("x") == ["y"]


def test_a_step_skipped_by_a_condition_frees_its_slot() -> None:
    h = Harness(s("a"), s("b"), max_concurrency=1)
    assert h.initial() == ["a"]
    assert h.finish("a", SKIPPED) == ["b"]


# --- pause, resume, cancel, restore ------------------------------------------------


def test_a_paused_scheduler_holds_ready_steps_until_resumed() -> None:
    h = Harness(s("a"), s("b", "a"), s("c", "a"))
    h.initial()
    h.scheduler.pause()
    assert h.finish("a") == []
    assert h.scheduler.is_idle
    assert h.scheduler.outcome() is WorkflowStatus.PAUSED
    assert h.resume() == ["b", "c"]
    assert h.scheduler.outcome() is WorkflowStatus.RUNNING


def test_pausing_before_the_start_holds_every_root() -> None:
    h = Harness(s("a"), s("b"))
    h.scheduler.pause()
    assert h.initial() == []
    assert h.resume() == ["a", "b"]


def test_cancel_stops_new_starts_and_the_run_ends_cancelled() -> None:
    h = Harness(s("a"), s("b", "a"))
    h.initial()
    h.scheduler.cancel()
    assert h.finish("a", CANCELLED) == []
    assert h.scheduler.is_idle
    assert h.scheduler.outcome() is WorkflowStatus.CANCELLED


def test_resuming_a_run_cancelled_while_paused_starts_nothing() -> None:
    h = Harness(s("a"), s("b"))
    h.scheduler.pause()
    h.initial()
    h.scheduler.cancel()
    assert h.resume() == []
    assert h.scheduler.outcome() is WorkflowStatus.CANCELLED


def test_restored_outcomes_start_only_the_steps_after_them() -> None:
    h = Harness(s("a"), s("b", "a"), s("c", "b"), s("d", "a"))
    h.scheduler.restore(h.plan.index_of["a"], OK)
    h.scheduler.restore(h.plan.index_of["d"], OK)
    assert h.initial() == ["b"]
    assert h.finish("b") == ["c"]
