"""An in-process store: the same contract as SQLite, kept in dicts (tests, `memory://`)."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from typing import Any

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
    StoreError,
    Write,
)
from plait.store.codec import lenient_dumps, loads

replace = dataclasses.replace


class MemoryStore:
    """Everything in memory; values still pass through JSON so behaviour matches SQLite."""

    def __init__(self) -> None:
        self.url = "memory://"
        self._runs: dict[str, RunRow] = {}
        self._steps: dict[str, dict[str, StepRow]] = {}
        self._attempts: dict[tuple[str, str, int], AttemptRow] = {}
        self._requests: dict[tuple[str, str], HumanRequest] = {}
        self._cache: dict[str, tuple[str, str, str, float, float | None]] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def _run(self, run_id: str) -> RunRow:
        try:
            return self._runs[run_id]
        except KeyError:
            raise RunNotFoundError(f"no run {run_id!r} in {self.url}") from None

    async def create_run(self, run: RunRow) -> None:
        if run.run_id in self._runs:
            raise StoreError(f"run {run.run_id!r} exists already")
        self._runs[run.run_id] = replace(run, inputs=loads(lenient_dumps(run.inputs)))
        self._steps[run.run_id] = {}

    async def get_run(self, run_id: str) -> RunRow:
        return self._run(run_id)

    async def list_runs(
        self,
        *,
        status: str | None = None,
        workflow_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[RunRow]:
        rows = [
            r
            for r in self._runs.values()
            if (status is None or r.status == status)
            and (workflow_id is None or r.workflow_id == workflow_id)
        ]
        rows.sort(key=lambda r: (-r.created_at, r.run_id))
        return rows[offset : offset + limit]

    async def claim_run(self, run_id: str, *, owner: str, at: float, recovered: bool) -> None:
        run = self._run(run_id)
        self._runs[run_id] = replace(
            run,
            owner=owner,
            heartbeat_at=at,
            updated_at=at,
            status="running",
            control=None,
            recoveries=run.recoveries + (1 if recovered else 0),
        )

    async def set_control(self, run_id: str, control: str | None) -> None:
        self._runs[run_id] = replace(self._run(run_id), control=control, updated_at=time.time())

    async def read_controls(self, run_ids: Sequence[str]) -> dict[str, str | None]:
        return {r: self._runs[r].control for r in run_ids if r in self._runs}

    async def heartbeat(self, run_ids: Sequence[str], *, owner: str, at: float) -> None:
        for r in run_ids:
            run = self._runs.get(r)
            if run is not None and run.owner == owner:
                self._runs[r] = replace(run, heartbeat_at=at)

    async def apply(self, writes: Sequence[Write]) -> None:
        # Validate everything first so a batch applies whole or not at all.
        for w in writes:
            self._run(w.run_id)
        for w in writes:
            steps = self._steps[w.run_id]
            if isinstance(w, AttemptStarted):
                old = steps.get(w.step_id)
                steps[w.step_id] = StepRow(
                    w.run_id,
                    w.step_id,
                    "running",
                    w.attempt,
                    inputs=loads(w.inputs_json)
                    if w.inputs_json is not None
                    else (old.inputs if old else None),
                    started_at=old.started_at if old and old.started_at else w.at,
                    crashes=old.crashes if old else 0,
                    result=old.result if old else None,
                    agent=w.agent if w.agent is not None else (old.agent if old else None),
                    seq=w.seq if w.seq is not None else (old.seq if old else None),
                )
                self._attempts[(w.run_id, w.step_id, w.attempt)] = AttemptRow(
                    w.run_id, w.step_id, w.attempt, w.at, strategy=w.strategy
                )
            elif isinstance(w, StepSettled):
                old = steps.get(w.step_id)
                steps[w.step_id] = StepRow(
                    w.run_id,
                    w.step_id,
                    w.status,
                    w.attempts,
                    loads(w.result_json),
                    w.error,
                    w.error_type,
                    old.inputs if old else None,
                    old.started_at if old else None,
                    w.at,
                    w.duration_s,
                    w.reason,
                    old.crashes if old else 0,
                    w.strategy,
                    agent=old.agent if old else None,
                    seq=old.seq if old else None,
                )
                key = (w.run_id, w.step_id, w.attempts)
                attempt = self._attempts.get(key)
                if attempt is not None and attempt.outcome == "running":
                    self._attempts[key] = replace(
                        attempt,
                        finished_at=w.at,
                        outcome=w.status,
                        error=w.error,
                        error_type=w.error_type,
                    )
            elif isinstance(w, AttemptFailed):
                key = (w.run_id, w.step_id, w.attempt)
                if key in self._attempts:
                    self._attempts[key] = replace(
                        self._attempts[key],
                        finished_at=w.at,
                        outcome="failed",
                        error=w.error,
                        error_type=w.error_type,
                        retry_delay=w.delay,
                    )
            elif isinstance(w, RunUpdated):
                run = self._runs[w.run_id]
                self._runs[w.run_id] = replace(
                    run,
                    status=w.status,
                    updated_at=w.at,
                    error=w.error if w.error is not None else run.error,
                    failed_step=w.failed_step if w.failed_step is not None else run.failed_step,
                    output=loads(w.output_json) if w.output_json is not None else run.output,
                    duration_s=w.duration_s if w.duration_s is not None else run.duration_s,
                    finished_at=w.at if w.finished else run.finished_at,
                    control=None if (w.finished or w.status == "paused") else run.control,
                )

    async def get_steps(self, run_id: str) -> list[StepRow]:
        self._run(run_id)
        return list(self._steps[run_id].values())

    async def get_attempts(self, run_id: str) -> list[AttemptRow]:
        rows = [a for k, a in self._attempts.items() if k[0] == run_id]
        return sorted(rows, key=lambda a: (a.started_at, a.step_id, a.attempt))

    async def mark_crashed(self, run_id: str, step_ids: Sequence[str]) -> dict[str, int]:
        counts = {}
        steps = self._steps[run_id]
        for sid in step_ids:
            row = steps.get(sid)
            if row is None:
                continue
            steps[sid] = replace(row, status="pending", crashes=row.crashes + 1)
            counts[sid] = row.crashes + 1
            for key, attempt in list(self._attempts.items()):
                if key[:2] == (run_id, sid) and attempt.outcome == "running":
                    self._attempts[key] = replace(attempt, outcome="crashed")
        return counts

    async def copy_steps(self, from_run: str, to_run: str, step_ids: Sequence[str]) -> None:
        source, target = self._steps[from_run], self._steps[to_run]
        for sid in step_ids:
            if sid in source:
                target[sid] = replace(
                    source[sid], run_id=to_run, crashes=0, reason=f"reused from run {from_run}"
                )

    async def export(
        self, *, workflow_id: str | None = None, since: float | None = None
    ) -> tuple[list[RunRow], list[StepRow], list[AttemptRow]]:
        runs = [
            r
            for r in self._runs.values()
            if (workflow_id is None or r.workflow_id == workflow_id)
            and (since is None or r.created_at >= since)
        ]
        ids = {r.run_id for r in runs}
        steps = [s for rid in ids for s in self._steps[rid].values()]
        attempts = [a for k, a in self._attempts.items() if k[0] in ids]
        return runs, steps, attempts

    async def cache_get(self, key: str) -> tuple[bool, Any, float]:
        entry = self._cache.get(key)
        if entry is None or (entry[4] is not None and entry[4] < time.time()):
            return False, None, 0.0
        return True, loads(entry[2]), entry[3]

    async def cache_put(
        self,
        key: str,
        *,
        workflow_id: str,
        step_id: str,
        result_json: str,
        created_at: float,
        expires_at: float | None,
    ) -> None:
        self._cache[key] = (workflow_id, step_id, result_json, created_at, expires_at)

    async def cache_clear(
        self, *, workflow_id: str | None = None, step_id: str | None = None
    ) -> int:
        doomed = [
            k
            for k, e in self._cache.items()
            if (workflow_id is None or e[0] == workflow_id) and (step_id is None or e[1] == step_id)
        ]
        for k in doomed:
            del self._cache[k]
        return len(doomed)

    async def create_human_request(self, request: HumanRequest) -> None:
        key = (request.run_id, request.step_id)
        if key not in self._requests:
            self._requests[key] = replace(
                request, data=loads(lenient_dumps(request.data)), assignees=tuple(request.assignees)
            )

    async def get_human_request(self, run_id: str, step_id: str) -> HumanRequest | None:
        return self._requests.get((run_id, step_id))

    async def answer_human_request(
        self,
        run_id: str,
        step_id: str,
        *,
        status: str,
        answer: Any,
        reason: str | None,
        by: str | None,
        at: float,
    ) -> HumanRequest:
        key = (run_id, step_id)
        request = self._requests.get(key)
        if request is None:
            raise StoreError(
                f"run {run_id!r} has no request for a person at step {step_id!r}; see `plait inbox`"
            )
        if request.status != "pending":
            raise StoreError(
                f"the request of run {run_id!r} at step {step_id!r} was "
                f"already answered ({request.status})"
            )
        answered = replace(
            request,
            status=status,
            answer=json.loads(lenient_dumps(answer)),
            reason=reason,
            answered_by=by,
            answered_at=at,
        )
        self._requests[key] = answered
        return answered

    async def list_human_requests(self, *, status: str | None = "pending") -> list[HumanRequest]:
        rows = [r for r in self._requests.values() if status is None or r.status == status]
        return sorted(rows, key=lambda r: r.created_at)
