"""What a server is told at start: store, workflows folder, token, limits, clock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from plait.clock import SYSTEM_CLOCK, Clock

MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ServerConfig:
    """Settings of one server; `cli.serve` builds it from options and the environment."""

    store_url: str
    """Where runs and events are kept (`sqlite:///path.db` or `memory://`)."""
    workflows_dir: Path | None = None
    """Folder searched recursively for *.yaml, *.yml and *.json workflows."""
    reload: bool = False
    """Re-read changed, new and deleted workflow files whenever they are looked up."""
    token: str | None = None
    """With a token, every API call needs `Authorization: Bearer <token>`; never logged."""
    clock: Clock = SYSTEM_CLOCK
    """Time for runs and the cron scheduler (tests inject one that they advance)."""
    max_body_bytes: int = MAX_BODY_BYTES
    """Larger request bodies are refused with 413 before they are read in full."""
    cron_max_sleep: float = 60.0
    """The cron scheduler wakes at least this often (seconds) to notice new schedules."""
    detach: bool = False
    """Enqueue runs for a fleet of `plait worker`s (PostgreSQL store) instead of running
    them in this process."""

    def __repr__(self) -> str:  # keep the token out of logs and tracebacks
        token = "set" if self.token else "none"
        return (
            f"ServerConfig(store_url={self.store_url!r}, workflows_dir={self.workflows_dir!r}, "
            f"reload={self.reload}, token={token})"
        )
