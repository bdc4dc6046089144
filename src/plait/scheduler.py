"""The scheduler: decides which steps may start, as a pure state machine.

It never awaits and does no I/O. The runner tells it what happened
(`finished(i, status)`, `pause()`, `cancel()`), and it answers with the steps to
start now. Work per event is proportional to the edges of the finished step
(counters, no rescans), and a step becomes startable the moment its last
upstream step finishes, not when a "wave" completes.
"""

from __future__ import annotations

import heapq

from plait.graph import Plan
from plait.types import FailurePolicy, StepStatus, TriggerRule, WorkflowStatus

_OK = frozenset({StepStatus.COMPLETED, StepStatus.CACHED, StepStatus.DEGRADED})
_BAD = frozenset({StepStatus.FAILED, StepStatus.CANCELLED})


class Scheduler:
    """Dependency counting, trigger rules, concurrency limits, pause and cancel."""

    def __init__(self, plan: Plan) -> None:
        n = len(plan.steps)
        self.plan = plan
        self.status: list[StepStatus] = [StepStatus.PENDING] * n
        self.waiting: list[int] = [len(p) for p in plan.preds]
        self.n_ok = [0] * n
        self.n_bad = [0] * n
        self.running = 0
        self.finished_count = 0
        self.paused = False
        self.cancelled = False
        self.failed = False
        self.stopping = False
        """No new steps start: a step failed under `on_failure: cancel`, or a cancel came."""
        self.skip_reasons: dict[int, str] = {}
        self._rules = [s.trigger_rule for s in plan.steps]
        self._agents = [s.agent for s in plan.steps]
        self._limits = plan.agent_limits
        self._max = plan.max_concurrency
        self._agent_running: dict[str, int] = dict.fromkeys(self._limits, 0)
        self._agent_wait: dict[str, list[tuple[int, int]]] = {a: [] for a in self._limits}
        self._global_wait: list[tuple[int, int]] = []
        self._held: list[int] = []
        self._skipped_outbox: list[int] = []
        self._continue = plan.on_failure is FailurePolicy.CONTINUE

    # --- queries ---------------------------------------------------------------------

    @property
    def is_idle(self) -> bool:
        """Nothing runs and nothing more will start without outside help."""
        if self.running:
            return False
        if self.stopping or self.finished_count == len(self.status):
            return True
        return self.paused

    def outcome(self) -> WorkflowStatus:
        if self.cancelled:
            return WorkflowStatus.CANCELLED
        if self.failed:
            return WorkflowStatus.FAILED
        if self.finished_count < len(self.status):
            return WorkflowStatus.PAUSED if self.paused else WorkflowStatus.RUNNING
        return WorkflowStatus.COMPLETED

    def take_skipped(self) -> list[int]:
        """Steps skipped by trigger rules since the last call (for reporting)."""
        out, self._skipped_outbox = self._skipped_outbox, []
        return out

    # --- events ----------------------------------------------------------------------

    def initial(self) -> list[int]:
        """Steps to start when a run begins."""
        out: list[int] = []
        for i, w in enumerate(self.waiting):
            if w == 0 and self.status[i] is StepStatus.PENDING:
                self._offer(i, out)
        return out

    def restore(self, i: int, status: StepStatus) -> None:
        """Replay an outcome recorded earlier (resume): counts it, starts nothing.

        Outcomes must be restored in a topological order.
        """
        if self.status[i].is_terminal:  # already skipped by a trigger rule while replaying
            return
        self.status[i] = status
        self.finished_count += 1
        if status is StepStatus.FAILED:
            self.failed = True
        self._propagate(i, status, None)

    def finished(self, i: int, status: StepStatus) -> list[int]:
        """Step `i` (which was started) reached `status`; returns the steps to start now."""
        self.running -= 1
        agent = self._agents[i]
        if agent in self._agent_running:
            self._agent_running[agent] -= 1
        self.status[i] = status
        self.finished_count += 1
        out: list[int] = []
        if status is StepStatus.FAILED:
            self.failed = True
            if not self._continue:
                self.stopping = True
        if self.stopping:
            return out
        self._propagate(i, status, out)
        if agent in self._agent_running:
            wait = self._agent_wait[agent]
            if wait:
                self._offer(heapq.heappop(wait)[1], out)
        if self._max is not None:
            wait = self._global_wait
            while wait and self.running < self._max:
                self._offer(heapq.heappop(wait)[1], out)
        return out

    def suspend(self, i: int) -> None:
        """Running step `i` now waits for a person: it frees its slot until `resume()`."""
        self.running -= 1
        agent = self._agents[i]
        if agent in self._agent_running:
            self._agent_running[agent] -= 1
        self.status[i] = StepStatus.WAITING
        self.paused = True
        self._held.append(i)

    def pause(self) -> None:
        """Start nothing new; running steps finish."""
        self.paused = True

    def resume(self) -> list[int]:
        """Lift a pause; returns the steps to start now."""
        self.paused = False
        out: list[int] = []
        held, self._held = self._held, []
        if self.stopping:  # cancelled (or failed) while paused: held steps never start
            return out
        for i in held:
            self._offer(i, out)
        return out

    def cancel(self) -> None:
        """Start nothing new; the runner cancels what runs."""
        self.cancelled = True
        self.stopping = True

    # --- internals -------------------------------------------------------------------

    def _propagate(self, i: int, status: StepStatus, out: list[int] | None) -> None:
        succs = self.plan.succs[i]
        if status in _OK and out is not None:  # the common case, kept lean
            waiting = self.waiting
            n_ok = self.n_ok
            pending = StepStatus.PENDING
            for j in succs:
                n_ok[j] += 1
                waiting[j] -= 1
                if not waiting[j] and self.status[j] is pending:
                    if n_ok[j] == len(self.plan.preds[j]) or self._may_run(
                        j, len(self.plan.preds[j])
                    ):
                        self._offer(j, out)
                    else:
                        self._skip(j, out)
            return
        # Worklist rather than recursion: a skip may cascade down a 100k-step chain.
        work = [(i, status)]
        preds = self.plan.preds
        while work:
            k, st = work.pop()
            ok = st in _OK
            bad = st in _BAD
            for j in self.plan.succs[k]:
                if ok:
                    self.n_ok[j] += 1
                elif bad:
                    self.n_bad[j] += 1
                self.waiting[j] -= 1
                if self.waiting[j] or self.status[j] is not StepStatus.PENDING:
                    continue
                if self._may_run(j, len(preds[j])):
                    if out is not None:
                        self._offer(j, out)
                else:
                    self._mark_skipped(j)
                    work.append((j, StepStatus.SKIPPED))

    def _mark_skipped(self, j: int) -> None:
        self.status[j] = StepStatus.SKIPPED
        self.finished_count += 1
        self.skip_reasons[j] = self._skip_reason(j)
        self._skipped_outbox.append(j)

    def _skip(self, j: int, out: list[int]) -> None:
        """Skip `j` by its trigger rule, and whatever that skip cascades to."""
        self._mark_skipped(j)
        self._propagate(j, StepStatus.SKIPPED, out)

    def _may_run(self, j: int, n: int) -> bool:
        rule = self._rules[j]
        if rule is TriggerRule.ALL_SUCCESS:
            return self.n_ok[j] == n
        if rule is TriggerRule.ALL_DONE:
            return True
        if rule is TriggerRule.ONE_SUCCESS:
            return self.n_ok[j] > 0
        return self.n_bad[j] == 0  # NONE_FAILED

    def _skip_reason(self, j: int) -> str:
        rule = self._rules[j].value
        if self.n_bad[j]:
            return f"an upstream step failed ({rule})"
        return f"an upstream step was skipped ({rule})"

    def _offer(self, i: int, out: list[int]) -> None:
        if self.paused:
            self._held.append(i)
            return
        agent = self._agents[i]
        if agent in self._agent_running and self._agent_running[agent] >= self._limits[agent]:
            heapq.heappush(self._agent_wait[agent], (-self.plan.priority[i], i))
            return
        if self._max is not None and self.running >= self._max:
            heapq.heappush(self._global_wait, (-self.plan.priority[i], i))
            return
        self.running += 1
        if agent in self._agent_running:
            self._agent_running[agent] += 1
        self.status[i] = StepStatus.RUNNING
        out.append(i)
