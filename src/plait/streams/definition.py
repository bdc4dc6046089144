"""`StreamDefinition`: what a stream is, built in Python or read from YAML.

A stream file names its events' id, time and key fields, a window policy, the
workflow to run for each due window, how much history that workflow sees, and where
alerts go. It is checked when loaded, and every problem is reported at once with the
file and field, like workflow files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from plait.definition import WorkflowDefinition
from plait.errors import DefinitionError, Location, Problem
from plait.streams.windows import WindowPolicy

SinkKind = Literal["log", "webhook", "table"]
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True, slots=True)
class SinkSpec:
    """Where a window's alerts go: `log`, `webhook` (HTTP POST of JSON) or `table` (dashboard)."""

    kind: SinkKind
    url: str | None = None
    """The webhook's address (webhook only)."""


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A broker the stream reads from when no file is given (`redis` streams)."""

    kind: Literal["redis"]
    url: str = "redis://127.0.0.1:6379/0"
    topic: str = ""
    """The Redis stream key; defaults to `plait:NAME`."""
    group: str = "plait"
    """Consumer group: entries are acknowledged once stored, so a restart resumes."""


@dataclass(frozen=True)
class StreamDefinition:
    """One stream: events in, one workflow run per due window out."""

    name: str
    window: WindowPolicy
    workflow: WorkflowDefinition
    """Runs once per due window (again when late events change it), with the inputs
    `events`, `start`, `end`, `key`, `stream` and `history` it declares."""
    time_field: str = "timestamp"
    """Field holding the event time: ISO 8601 text or epoch seconds (not used by count windows)."""
    id_field: str = "id"
    """Field holding the event id; an event without one is identified by its content."""
    key_field: str | None = None
    """Field whose value splits the stream into independent windows per key."""
    history: int = 20
    """How many previous windows' outputs (same key) the workflow gets as `history`."""
    sinks: tuple[SinkSpec, ...] = (SinkSpec("table"),)
    source: SourceSpec | None = None
    description: str = ""
    path: str | None = None
    """The file it was loaded from."""
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not NAME.match(self.name):
            raise DefinitionError(
                [Problem(f"stream name {self.name!r}: use letters, digits, _ . -")]
            )


# --- YAML ---------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Window(_Model):
    type: Literal["tumbling", "sliding", "count"]
    size: str | int | float
    slide: str | int | float | None = None
    lateness: str | int | float = 0


class _Event(_Model):
    id: str = "id"
    time: str = "timestamp"
    key: str | None = None


class _Sink(_Model):
    type: SinkKind
    url: str | None = None


class _Source(_Model):
    type: Literal["redis"]
    url: str = "redis://127.0.0.1:6379/0"
    topic: str | None = None
    group: str = "plait"


class _Stream(_Model):
    stream: str
    description: str = ""
    event: _Event = _Event()
    window: _Window
    workflow: str
    history: int = 20
    sinks: list[_Sink] = [_Sink(type="table")]
    source: _Source | None = None


def is_stream_file(data: Any) -> bool:
    return isinstance(data, Mapping) and "stream" in data and "window" in data


def parse_duration(value: str | int | float, what: str) -> timedelta:
    """Seconds as a number, or text such as `500ms`, `30s`, `5m`, `1h`, `1d`."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*", str(value))
    if not found:
        raise ValueError(f"{what}: {value!r} is not a duration such as 30s, 5m or 1h")
    amount, unit = float(found[1]), found[2]
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    return timedelta(seconds=amount * scale)


def load_stream(path: str | Path) -> StreamDefinition:
    """Read and check a stream file; its workflow path is relative to the file.

    Raises:
        DefinitionError: every problem, with file and field.
    """
    from plait.loader import load_workflow

    path = Path(path)
    where = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problem = Problem(f"cannot read the stream file: {exc}", Location(where))
        raise DefinitionError([problem]) from None
    try:
        spec = _Stream.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(
            [
                Problem(e["msg"], Location(where, None, ".".join(str(p) for p in e["loc"])))
                for e in exc.errors()
            ]
        ) from None
    problems: list[Problem] = []
    window = _window(spec.window, where, problems)
    sinks = []
    for k, sink in enumerate(spec.sinks):
        if (sink.type == "webhook") != (sink.url is not None):
            problems.append(
                Problem(
                    "a webhook sink needs `url`, other sinks none",
                    Location(where, None, f"sinks[{k}]"),
                )
            )
        sinks.append(SinkSpec(sink.type, sink.url))
    if problems or window is None:
        raise DefinitionError(problems)
    workflow = load_workflow(path.parent / spec.workflow)
    source = None
    if spec.source is not None:
        source = SourceSpec(
            "redis", spec.source.url, spec.source.topic or f"plait:{spec.stream}", spec.source.group
        )
    return StreamDefinition(
        name=spec.stream,
        window=window,
        workflow=workflow,
        time_field=spec.event.time,
        id_field=spec.event.id,
        key_field=spec.event.key,
        history=spec.history,
        sinks=tuple(sinks),
        source=source,
        description=spec.description,
        path=str(path.resolve()),
    )


def _window(spec: _Window, where: str, problems: list[Problem]) -> WindowPolicy | None:
    at = Location(where, None, "window")
    try:
        if spec.type == "count":
            if not isinstance(spec.size, int) or isinstance(spec.size, bool):
                raise ValueError("window.size of a count window is a whole number of events")
            return WindowPolicy.count(spec.size)
        size = parse_duration(spec.size, "window.size")
        lateness = parse_duration(spec.lateness, "window.lateness")
        if spec.type == "tumbling":
            return WindowPolicy.tumbling(size, lateness=lateness)
        if spec.slide is None:
            raise ValueError("a sliding window needs `slide`")
        slide = parse_duration(spec.slide, "window.slide")
        return WindowPolicy.sliding(size, slide, lateness=lateness)
    except ValueError as exc:
        problems.append(Problem(str(exc), at))
        return None


def find_stream(name: str, folder: Path) -> StreamDefinition:
    """A stream by file path, else by name among the stream files under `folder`."""
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return load_stream(candidate)
    for found in stream_files(folder):
        try:
            data = yaml.safe_load(found.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if is_stream_file(data) and data.get("stream") == name:
            return load_stream(found)
    raise DefinitionError([Problem(f"no stream named {name!r} under {folder}")])


def stream_files(folder: Path) -> list[Path]:
    """YAML files under `folder` that declare a stream (hidden folders and venvs skipped)."""
    found = []
    for path in sorted(folder.rglob("*.y*ml")):
        parts = path.relative_to(folder).parts
        if any(p.startswith(".") or p in ("node_modules", "venv", "site-packages") for p in parts):
            continue
        try:
            head = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if re.search(r"^stream:", head, re.MULTILINE) and re.search(r"^window:", head, re.M):
            found.append(path)
    return found
