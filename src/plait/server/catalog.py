"""The workflows a server offers: every workflow file under a folder, reloaded on change.

A file that fails to load does not stop the others: its problems are kept and
shown by the API. Files that are not workflows at all (data files beside them,
such as sample events) are passed over silently. With `reload`, each lookup
re-checks modification times, so an edited file is served on the next request
without a watcher thread.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from plait.definition import WorkflowDefinition
from plait.errors import DefinitionError
from plait.loader import load_workflow
from plait.triggers import CompiledTrigger, compile_triggers

SUFFIXES = (".yaml", ".yml", ".json")
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})


@dataclass(frozen=True, slots=True)
class Entry:
    """One served workflow, with its checked triggers."""

    definition: WorkflowDefinition
    path: Path
    triggers: tuple[CompiledTrigger, ...]


@dataclass(frozen=True, slots=True)
class _Loaded:
    mtime_ns: int
    entry: Entry | None
    problem: str | None


class WorkflowCatalog:
    """Workflow files under `folder`, by workflow id."""

    def __init__(self, folder: Path | None, *, reload: bool = False) -> None:
        self.folder = folder
        self.reload = reload
        self._files: dict[Path, _Loaded] = {}
        self._by_id: dict[str, Entry] = {}
        self._problems: dict[str, str] = {}
        self._loaded = False
        self._elsewhere: dict[Path, _Loaded] = {}

    def refresh(self, *, force: bool = False) -> None:
        """Load the folder (once, or on every call with `reload`)."""
        if self._loaded and not (self.reload or force):
            return
        self._loaded = True
        seen: dict[Path, _Loaded] = {}
        for path in self._scan():
            try:
                mtime = path.stat().st_mtime_ns
            except OSError:
                continue  # deleted between listing and reading
            known = self._files.get(path)
            seen[path] = known if known and known.mtime_ns == mtime else _load(path, mtime)
        self._files = seen
        by_id: dict[str, Entry] = {}
        problems: dict[str, str] = {}
        for path, loaded in sorted(seen.items()):
            if loaded.problem:
                problems[str(path)] = loaded.problem
            entry = loaded.entry
            if entry is None:
                continue
            wid = entry.definition.workflow_id
            if wid in by_id:
                problems[str(path)] = (
                    f"workflow id {wid!r} is already served from {by_id[wid].path}; "
                    "this file is ignored"
                )
                continue
            by_id[wid] = entry
        self._by_id = by_id
        self._problems = problems

    def _scan(self) -> Iterator[Path]:
        if self.folder is None:
            return
        for root, dirs, files in os.walk(self.folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
            for name in sorted(files):
                if name.endswith(SUFFIXES) and not name.startswith("."):
                    yield Path(root, name).resolve()

    def get(self, workflow_id: str) -> Entry | None:
        self.refresh()
        return self._by_id.get(workflow_id)

    def entries(self) -> list[Entry]:
        self.refresh()
        return sorted(self._by_id.values(), key=lambda e: e.definition.workflow_id)

    def problems(self) -> Mapping[str, str]:
        """File -> why it is not served (or served without its triggers)."""
        self.refresh()
        return dict(self._problems)

    def definition_for(self, workflow_id: str, source: str | None) -> WorkflowDefinition | None:
        """The workflow a run came from: the served one, else its source file if readable.

        Files outside the folder are cached by modification time, since the dashboard
        asks again every second while it shows a run.
        """
        entry = self.get(workflow_id)
        if entry is not None and (source is None or str(entry.path) == source):
            return entry.definition
        if source and source.endswith(SUFFIXES):
            path = Path(source)
            try:
                mtime = path.stat().st_mtime_ns
            except OSError:
                mtime = None
            if mtime is not None:
                known = self._elsewhere.get(path)
                if known is None or known.mtime_ns != mtime:
                    known = self._elsewhere[path] = _load(path, mtime)
                if known.entry is not None:
                    return known.entry.definition
        return entry.definition if entry is not None else None

    def triggers(self) -> list[CompiledTrigger]:
        return [t for entry in self.entries() for t in entry.triggers]


def _load(path: Path, mtime_ns: int) -> _Loaded:
    try:
        definition = load_workflow(path)
    except DefinitionError as exc:
        if not _looks_like_workflow(path):
            return _Loaded(mtime_ns, None, None)
        return _Loaded(mtime_ns, None, str(exc))
    except Exception as exc:  # an action module that fails on import, for instance
        return _Loaded(mtime_ns, None, f"cannot load: {type(exc).__name__}: {exc}")
    try:
        triggers = tuple(compile_triggers(definition))
    except DefinitionError as exc:
        entry = Entry(definition, path, ())
        return _Loaded(mtime_ns, entry, f"served without its triggers: {exc}")
    return _Loaded(mtime_ns, Entry(definition, path, triggers), None)


def _looks_like_workflow(path: Path) -> bool:
    """A mapping with a workflow_id or steps: meant as a workflow, so its errors matter."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return path.suffix != ".json"  # a broken YAML file is most likely a workflow
    return isinstance(data, dict) and ("workflow_id" in data or "steps" in data)
