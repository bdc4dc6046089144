"""What `plait run` shows while a run executes: a live table on a terminal, log lines elsewhere."""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from plait import events
from plait.types import StepStatus

_ICONS = {
    StepStatus.PENDING: "[dim]○ pending[/]",
    StepStatus.RUNNING: "[yellow]● running[/]",
    StepStatus.COMPLETED: "[green]✔ completed[/]",
    StepStatus.FAILED: "[red]✘ failed[/]",
    StepStatus.SKIPPED: "[dim]↷ skipped[/]",
    StepStatus.CANCELLED: "[red]■ cancelled[/]",
}


class LogLines:
    """One plain line per state change, for logs and pipes."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr

    def on_event(self, event: events.Event) -> None:
        line = describe(event)
        if line:
            stamp = time.strftime("%H:%M:%S", time.localtime(event.at))
            self.stream.write(f"{stamp} {line}\n")
            self.stream.flush()


def describe(event: events.Event) -> str:
    """One line of text for a state change, with the run and step ids."""
    if isinstance(event, events.RunStarted):
        steps = len(event.steps)
        return f"run {event.run_id} started: workflow {event.workflow_id} ({steps} steps)"
    if isinstance(event, events.StepStarted):
        return f"run {event.run_id} step {event.step_id}: attempt {event.attempt} started"
    if isinstance(event, events.StepRetrying):
        return (
            f"run {event.run_id} step {event.step_id}: attempt {event.attempt} failed "
            f"({type(event.error).__name__}: {event.error}); retrying in {event.delay:.2f}s"
        )
    if isinstance(event, events.StepFinished):
        tail = f" after {event.duration:.2f}s" if event.duration else ""
        why = f" ({event.reason})" if event.reason else ""
        err = ""
        if event.error is not None:
            cause = event.error.__cause__ or event.error
            err = f": {type(cause).__name__}: {cause}"
        return f"run {event.run_id} step {event.step_id}: {event.status.value}{tail}{why}{err}"
    if isinstance(event, events.RunFinished):
        return f"run {event.run_id} {event.status.value} in {event.duration:.2f}s"
    return ""


class JsonLines:
    """One JSON object per state change (`--log-format json`), for log pipelines."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr

    def on_event(self, event: events.Event) -> None:
        import json

        record: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(event.at))
            + f".{int(event.at % 1 * 1000):03d}Z",
            "event": type(event).__name__,
            "run_id": event.run_id,
        }
        for name in ("workflow_id", "step_id", "attempt", "delay", "duration", "reason"):
            value = getattr(event, name, None)
            if value not in (None, ""):
                record[name] = value
        status = getattr(event, "status", None)
        if status is not None:
            record["status"] = status.value
        error = getattr(event, "error", None)
        if error is not None:
            cause = error.__cause__ or error
            record["error"] = f"{type(cause).__name__}: {cause}"
        record["message"] = describe(event)
        self.stream.write(json.dumps(record) + "\n")
        self.stream.flush()


class LiveTable:
    """A rich table of every step, redrawn as steps move (terminal only)."""

    def __init__(self, step_ids: tuple[str, ...], title: str) -> None:
        from rich.live import Live

        self.rows: dict[str, dict[str, Any]] = {
            sid: {
                "status": StepStatus.PENDING,
                "attempts": 0,
                "start": None,
                "end": None,
                "note": "",
            }
            for sid in step_ids
        }
        self.title = title
        self.began = time.monotonic()
        self.live = Live(self._render(), refresh_per_second=8, transient=False)

    def __enter__(self) -> LiveTable:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.update(self._render())
        self.live.__exit__(None, None, None)

    def on_event(self, event: events.Event) -> None:
        step_id = getattr(event, "step_id", "")
        if step_id and step_id not in self.rows and isinstance(event, events.StepStarted):
            # Code-first workflows reveal their steps as they call them.
            self.rows[step_id] = {
                "status": StepStatus.PENDING,
                "attempts": 0,
                "start": None,
                "end": None,
                "note": "",
            }
        row = self.rows.get(step_id)
        if row is not None:
            if isinstance(event, events.StepStarted):
                row.update(status=StepStatus.RUNNING, attempts=event.attempt)
                row["start"] = row["start"] or time.monotonic()
            elif isinstance(event, events.StepRetrying):
                row["note"] = f"retry in {event.delay:.1f}s: {type(event.error).__name__}"
            elif isinstance(event, events.StepFinished):
                row.update(status=event.status, end=time.monotonic())
                row["note"] = event.reason or (
                    f"{type(event.error.__cause__ or event.error).__name__}" if event.error else ""
                )
        self.live.update(self._render())

    def _render(self) -> Any:
        from rich.table import Table

        counts: dict[StepStatus, int] = {}
        for row in self.rows.values():
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        summary = "  ".join(f"{s.value} {n}" for s, n in counts.items())
        table = Table(
            title=f"{self.title}  ·  {time.monotonic() - self.began:.1f}s  ·  {summary}",
            title_justify="left",
            expand=False,
        )
        for name in ("step", "status", "attempts", "time", "note"):
            table.add_column(name)
        now = time.monotonic()
        for sid, row in self.rows.items():
            start, end = row["start"], row["end"]
            took = f"{(end or now) - start:.2f}s" if start else ""
            table.add_row(sid, _ICONS[row["status"]], str(row["attempts"] or ""), took, row["note"])
        return table
