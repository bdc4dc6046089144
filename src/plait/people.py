"""Requests for people: what an `approval` step asks, and how an answer reaches the run.

The request lives in the store, so anyone with access (another process, the CLI,
the dashboard) can answer it. A run whose process is alive hears the answer at
once (same process) or at the next poll (another process); a run whose process
has exited picks the answer up when resumed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from plait.definition import ApprovalPolicy
from plait.errors import PlaitError
from plait.store.base import HumanRequest, Store


class ApprovalRejected(PlaitError):
    """A person rejected the request of an approval step."""

    def __init__(self, step_id: str, reason: str | None, by: str | None) -> None:
        self.reason = reason
        self.by = by
        who = f" by {by}" if by else ""
        super().__init__(f"step {step_id!r} was rejected{who}: {reason or 'no reason given'}")


def answer_as_result(request: HumanRequest) -> dict[str, Any]:
    """What an approved request gives the step as its result."""
    return {
        "approved": True,
        "data": request.answer,
        "by": request.answered_by,
        "reason": request.reason,
        "timed_out": request.status == "expired",
    }


class HumanDesk:
    """Opens requests in the store and delivers answers to the runs waiting on them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._waiters: dict[tuple[str, str], asyncio.Future[HumanRequest]] = {}

    async def open(
        self, run_id: str, step_id: str, policy: ApprovalPolicy, data: Mapping[str, Any], now: float
    ) -> HumanRequest:
        """The request for this step, created if it does not exist yet."""
        existing = await self.store.get_human_request(run_id, step_id)
        if existing is not None:
            return existing
        expires = now + policy.timeout_seconds if policy.timeout_seconds else None
        request = HumanRequest(
            run_id,
            step_id,
            now,
            policy.prompt,
            dict(data),
            policy.assignees,
            expires_at=expires,
            default_outcome=policy.default,
        )
        await self.store.create_human_request(request)
        found = await self.store.get_human_request(run_id, step_id)
        assert found is not None
        return found

    async def answer(
        self,
        run_id: str,
        step_id: str,
        *,
        approve: bool,
        data: Any = None,
        reason: str | None = None,
        by: str | None = None,
        now: float,
    ) -> HumanRequest:
        """Record a person's answer and wake the run if it waits in this process."""
        request = await self.store.answer_human_request(
            run_id,
            step_id,
            status="approved" if approve else "rejected",
            answer=data,
            reason=reason,
            by=by,
            at=now,
        )
        self.deliver(request)
        return request

    async def expire(self, request: HumanRequest, now: float) -> HumanRequest:
        """Close a request whose time is up; its `default_outcome` decides the step.

        The status is `expired` (not `approved`/`rejected`), so the result can say
        `timed_out` and the history shows that no person answered.
        """
        answered = await self.store.answer_human_request(
            request.run_id,
            request.step_id,
            status="expired",
            answer=None,
            reason="no answer before the timeout; default applied",
            by="timeout",
            at=now,
        )
        return answered

    def wait(self, run_id: str, step_id: str) -> asyncio.Future[HumanRequest]:
        key = (run_id, step_id)
        future = self._waiters.get(key)
        if future is None or future.done():
            future = self._waiters[key] = asyncio.get_running_loop().create_future()
        return future

    def stop_waiting(self, run_id: str, step_id: str) -> None:
        self._waiters.pop((run_id, step_id), None)

    def deliver(self, request: HumanRequest) -> None:
        future = self._waiters.pop((request.run_id, request.step_id), None)
        if future is not None and not future.done():
            future.set_result(request)

    def waiting(self) -> list[tuple[str, str]]:
        return list(self._waiters)

    async def poll(self) -> None:
        """Deliver answers given by other processes to the runs waiting here."""
        for run_id, step_id in self.waiting():
            request = await self.store.get_human_request(run_id, step_id)
            if request is not None and request.status != "pending":
                self.deliver(request)
