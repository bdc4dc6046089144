"""The store seam: what the engine persists, as plain records, and `open_store(url)`.

Every implementation (memory, SQLite, later PostgreSQL) passes the same contract
tests. Writes arrive in batches (`apply`), each applied in one transaction, which
is how parallel steps that finish together share a commit. Values are JSON text;
nothing is pickled.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from plait.errors import PlaitError

DEFAULT_STORE_PATH = Path(".plait") / "plait.db"


class StoreError(PlaitError):
    """The store cannot be used; the message says which file or URL and why."""


class RunNotFoundError(StoreError, KeyError):
    """No run has this id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "run not found"


class MigrationError(StoreError):
    """The database's schema cannot be used by this version of plait."""


@dataclass(frozen=True, slots=True)
class RunRow:
    run_id: str
    workflow_id: str
    status: str
    created_at: float
    updated_at: float
    workflow_name: str = ""
    source: str | None = None
    """The workflow file (or `module:function`) the run came from, for resume."""
    fingerprint: str = ""
    step_fingerprints: Mapping[str, str] = field(default_factory=dict)
    inputs: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    failed_step: str | None = None
    output: Any = None
    finished_at: float | None = None
    duration_s: float | None = None
    owner: str | None = None
    """`host:pid` of the process executing the run."""
    heartbeat_at: float | None = None
    control: str | None = None
    """A request from another process: `pause` or `cancel`."""
    recoveries: int = 0
    parent_run_id: str | None = None
    rerun_from: str | None = None
    usage: Any = None


@dataclass(frozen=True, slots=True)
class StepRow:
    run_id: str
    step_id: str
    status: str
    attempts: int = 0
    result: Any = None
    error: str | None = None
    error_type: str | None = None
    inputs: Any = None
    started_at: float | None = None
    finished_at: float | None = None
    duration_s: float | None = None
    reason: str = ""
    crashes: int = 0
    strategy: str | None = None
    usage: Any = None
    agent: str | None = None
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class AttemptRow:
    run_id: str
    step_id: str
    attempt: int
    started_at: float
    finished_at: float | None = None
    outcome: str = "running"
    error: str | None = None
    error_type: str | None = None
    retry_delay: float | None = None
    strategy: str | None = None


@dataclass(frozen=True, slots=True)
class HumanRequest:
    run_id: str
    step_id: str
    created_at: float
    prompt: str = ""
    data: Any = None
    assignees: Sequence[str] = ()
    status: Literal["pending", "approved", "rejected", "expired"] = "pending"
    answer: Any = None
    reason: str | None = None
    answered_by: str | None = None
    answered_at: float | None = None
    expires_at: float | None = None
    default_outcome: str | None = None


# --- writes, applied in batches -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttemptStarted:
    run_id: str
    step_id: str
    attempt: int
    at: float
    inputs_json: str | None
    strategy: str | None = None
    """The recovery strategy that made this attempt, if any."""
    agent: str | None = None
    seq: int | None = None
    """Position of the call in a code-first workflow's call sequence."""


@dataclass(frozen=True, slots=True)
class AttemptFailed:
    """An attempt failed and will be retried after `delay` seconds."""

    run_id: str
    step_id: str
    attempt: int
    at: float
    error: str
    error_type: str
    delay: float


@dataclass(frozen=True, slots=True)
class StepSettled:
    """A step reached a state that sticks: completed, failed, skipped, cancelled, waiting."""

    run_id: str
    step_id: str
    status: str
    attempts: int
    at: float
    result_json: str | None = None
    error: str | None = None
    error_type: str | None = None
    duration_s: float | None = None
    reason: str = ""
    strategy: str | None = None


@dataclass(frozen=True, slots=True)
class RunUpdated:
    run_id: str
    status: str
    at: float
    error: str | None = None
    failed_step: str | None = None
    output_json: str | None = None
    duration_s: float | None = None
    finished: bool = False


Write = AttemptStarted | AttemptFailed | StepSettled | RunUpdated


class Store(Protocol):
    """Durable state of runs. All methods are coroutines; `apply` is one transaction."""

    url: str

    async def open(self) -> None: ...
    async def close(self) -> None: ...

    async def create_run(self, run: RunRow) -> None: ...
    async def get_run(self, run_id: str) -> RunRow: ...
    async def list_runs(
        self,
        *,
        status: str | None = None,
        workflow_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[RunRow]: ...
    async def claim_run(self, run_id: str, *, owner: str, at: float, recovered: bool) -> None: ...
    async def set_control(self, run_id: str, control: str | None) -> None: ...
    async def read_controls(self, run_ids: Sequence[str]) -> dict[str, str | None]: ...
    async def heartbeat(self, run_ids: Sequence[str], *, owner: str, at: float) -> None: ...

    async def apply(self, writes: Sequence[Write]) -> None: ...
    async def get_steps(self, run_id: str) -> list[StepRow]: ...
    async def get_attempts(self, run_id: str) -> list[AttemptRow]: ...
    async def mark_crashed(self, run_id: str, step_ids: Sequence[str]) -> dict[str, int]: ...
    async def copy_steps(self, from_run: str, to_run: str, step_ids: Sequence[str]) -> None: ...

    async def export(
        self, *, workflow_id: str | None = None, since: float | None = None
    ) -> tuple[list[RunRow], list[StepRow], list[AttemptRow]]: ...

    async def cache_get(self, key: str) -> tuple[bool, Any, float]: ...
    async def cache_put(
        self,
        key: str,
        *,
        workflow_id: str,
        step_id: str,
        result_json: str,
        created_at: float,
        expires_at: float | None,
    ) -> None: ...
    async def cache_clear(
        self, *, workflow_id: str | None = None, step_id: str | None = None
    ) -> int: ...

    async def create_human_request(self, request: HumanRequest) -> None: ...
    async def get_human_request(self, run_id: str, step_id: str) -> HumanRequest | None: ...
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
    ) -> HumanRequest: ...
    async def list_human_requests(
        self, *, status: str | None = "pending"
    ) -> list[HumanRequest]: ...


def default_store_url() -> str:
    """`PLAIT_STORE`, else the SQLite file `./.plait/plait.db`."""
    return os.environ.get("PLAIT_STORE") or f"sqlite:///{DEFAULT_STORE_PATH}"


def open_store(url: str | None = None) -> Store:
    """A store for `url`: `sqlite:///path`, a bare `.db` path, `postgresql://...`, or `memory://`.

    The store still has to be opened (`await store.open()`).
    """
    url = url or default_store_url()
    if url.startswith("memory:"):
        from plait.store.memory import MemoryStore

        return MemoryStore()
    if url.startswith("sqlite:"):
        from plait.store.sqlite import SQLiteStore

        rest = url.removeprefix("sqlite:")
        # As in SQLAlchemy: sqlite:///relative.db, sqlite:////absolute/path.db
        path = rest[3:] if rest.startswith("///") else rest.removeprefix("//")
        return SQLiteStore(path)
    if url.startswith(("postgresql://", "postgres://")):
        from plait.store.postgres import PostgresStore

        return PostgresStore(url)
    if "://" not in url:
        from plait.store.sqlite import SQLiteStore

        return SQLiteStore(url)
    scheme = url.split("://", 1)[0]
    raise StoreError(
        f"unknown store URL scheme {scheme!r} in {url!r}: use sqlite:///path/to/file.db "
        "postgresql://user@host/db or memory://"
    )
