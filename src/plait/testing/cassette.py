"""Record a run's step inputs and outputs to a cassette (JSON), and replay chosen steps from it.

Record a production run (`plait run --record run.json`, or a listener from
`record_to(path)` on any engine); in a test, replay the expensive or
nondeterministic steps, the model calls say, from the cassette while the rest
run live, and the production run becomes a deterministic regression test:

    cassette = Cassette.load("run.json")
    result = await kit.run(WORKFLOW, cassette.inputs, replay=cassette.replay(agents=["llm"]))

A replayed step first checks that its inputs are the ones recorded; if not, it
fails with a diff of the two, and the kit call raises `CassetteMismatchError`,
because an answer recorded for other inputs would make the test pass for the
wrong reason.
"""

from __future__ import annotations

import copy
import difflib
import fnmatch
import importlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, final

from plait import events
from plait.errors import PlaitError, StepFailedError
from plait.types import StepStatus

FORMAT = "plait-cassette/1"


class CassetteMismatchError(PlaitError, AssertionError):
    """A replayed step's inputs differ from the recording (the message holds the diff)."""

    retryable = False
    """The engine does not retry it: the inputs will not change on a second try."""


def as_json(value: Any) -> Any:
    """`value` as the JSON data a cassette holds (what is not JSON becomes its repr)."""
    from plait.store.codec import lenient_dumps

    return json.loads(lenient_dumps(value))


def pretty(value: Any) -> str:
    """Canonical, line-per-key JSON: what two inputs are diffed as."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


@final
@dataclass(slots=True)
class RecordedStep:
    """One step as it ended in the recorded run."""

    step_id: str
    status: str
    agent: str | None = None
    attempts: int = 0
    inputs: Any = None
    result: Any = None
    error: str | None = None
    """The last error's message."""
    error_type: str | None = None
    """`module.QualifiedName` of the last error, to raise the same type on replay."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "status": self.status,
            "attempts": self.attempts,
            "inputs": self.inputs,
            "result": self.result,
            "error": self.error,
            "error_type": self.error_type,
        }


@final
@dataclass(slots=True)
class Cassette:
    """A recorded run: its inputs, and every step's inputs and outcome, as JSON data."""

    workflow_id: str
    run_id: str
    inputs: dict[str, Any] = field(default_factory=dict)
    status: str = "running"
    steps: dict[str, RecordedStep] = field(default_factory=dict)
    """Step id -> record, in the order the steps started."""

    @classmethod
    def load(cls, path: str | Path) -> Cassette:
        """Read a cassette file.

        Raises:
            ValueError: the file is not a plait cassette.
        """
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{path} is not a plait cassette (format {FORMAT!r})")
        steps = {
            sid: RecordedStep(sid, **{k: v for k, v in raw.items() if k != "step_id"})
            for sid, raw in data["steps"].items()
        }
        return cls(
            data["workflow_id"],
            data["run_id"],
            data.get("inputs") or {},
            data.get("status", "running"),
            steps,
        )

    def save(self, path: str | Path) -> None:
        data = {
            "format": FORMAT,
            "workflow_id": self.workflow_id,
            "run_id": self.run_id,
            "status": self.status,
            "inputs": self.inputs,
            "steps": {sid: step.as_dict() for sid, step in self.steps.items()},
        }
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(data, indent=2, ensure_ascii=False)  # steps stay in start order
        target.write_text(text + "\n", encoding="utf-8")

    def replay(self, *steps: str, agents: Sequence[str] = ()) -> Replay:
        """Replay the steps whose id matches one of `steps`, or whose agent one of `agents`.

        Both are globs (`"synthesize_*"`, `"*"`); the other steps run live.
        """
        if not steps and not agents:
            raise ValueError("name the steps to replay (ids or globs), or their agents")
        return Replay(self, tuple(steps), tuple(agents))


@final
@dataclass(frozen=True, slots=True)
class Replay:
    """Which steps of a run answer from a cassette instead of running their action."""

    cassette: Cassette
    steps: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()

    def selects(self, step_id: str, agent: str | None) -> bool:
        if any(fnmatch.fnmatchcase(step_id, pattern) for pattern in self.steps):
            return True
        label = agent if agent is not None else self._recorded_agent(step_id)
        return label is not None and any(fnmatch.fnmatchcase(label, p) for p in self.agents)

    def _recorded_agent(self, step_id: str) -> str | None:
        step = self.cassette.steps.get(step_id)
        return step.agent if step is not None else None

    def answer(self, step_id: str, inputs: Mapping[str, Any], fn: Callable[..., Any]) -> Any:
        """The recorded outcome of `step_id`: its result (typed as `fn` returns it), or its error.

        Raises:
            CassetteMismatchError: the step was not recorded, or with other inputs.
        """
        recorded = self.cassette.steps.get(step_id)
        if recorded is None or recorded.status in ("skipped", "cancelled", "running"):
            state = "not recorded" if recorded is None else f"{recorded.status} when recorded"
            raise CassetteMismatchError(
                f"step {step_id!r} cannot be replayed: it was {state} in run "
                f"{self.cassette.run_id} (recorded steps that ran: "
                f"{', '.join(s for s, r in self.cassette.steps.items() if r.inputs is not None)})"
            )
        live = as_json(dict(inputs))
        if live != recorded.inputs:
            diff = "\n".join(
                difflib.unified_diff(
                    pretty(recorded.inputs).splitlines(),
                    pretty(live).splitlines(),
                    f"{step_id} inputs (recorded)",
                    f"{step_id} inputs (this run)",
                    lineterm="",
                )
            )
            raise CassetteMismatchError(
                f"step {step_id!r} was replayed with inputs that differ from the recording "
                f"(run {self.cassette.run_id}):\n{diff}"
            )
        if StepStatus(recorded.status).succeeded:
            from plait.jsonable import restore

            return restore(fn, copy.deepcopy(recorded.result))
        raise _recorded_error(recorded)


def _recorded_error(recorded: RecordedStep) -> BaseException:
    kind: Any = RuntimeError
    if recorded.error_type:
        module_name, _, name = recorded.error_type.rpartition(".")
        try:
            found = importlib.import_module(module_name or "builtins")
            for part in name.split("."):
                found = getattr(found, part)
            kind = found
        except (ImportError, AttributeError):
            pass
    if not (isinstance(kind, type) and issubclass(kind, Exception)):
        kind = RuntimeError
    try:
        return kind(recorded.error or "failed when recorded")  # type: ignore[no-any-return]
    except TypeError:
        return RuntimeError(f"{recorded.error_type}: {recorded.error}")


# --- recording ---------------------------------------------------------------------------


@final
class CassetteRecorder:
    """An engine listener that records the first run it hears of into a cassette file.

    The file is written whenever the run stops (ends, or pauses for a person), so a
    run resumed in the same engine extends the same cassette.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.cassette: Cassette | None = None
        self._agents: dict[str, str | None] = {}

    def on_event(self, event: events.Event) -> None:
        cassette = self.cassette
        if isinstance(event, events.RunStarted):
            if cassette is None:
                self.cassette = Cassette(event.workflow_id, event.run_id, as_json(event.inputs))
            if self.cassette is not None and event.run_id == self.cassette.run_id:
                self._agents.update(zip(event.steps, event.agents, strict=False))
            return
        if cassette is None or getattr(event, "run_id", None) != cassette.run_id:
            return
        if isinstance(event, events.StepStarted):
            step = cassette.steps.setdefault(
                event.step_id,
                RecordedStep(event.step_id, "running", self._agents.get(event.step_id)),
            )
            step.status, step.attempts = "running", event.attempt
            step.inputs = as_json(event.inputs)
        elif isinstance(event, events.StepFinished):
            step = cassette.steps.setdefault(
                event.step_id,
                RecordedStep(event.step_id, "running", self._agents.get(event.step_id)),
            )
            step.status, step.attempts = event.status.value, event.attempts
            step.result = as_json(event.result) if event.status.succeeded else None
            error = event.error
            if isinstance(error, StepFailedError) and error.__cause__ is not None:
                error = error.__cause__
            if error is not None:
                step.error = str(error)
                step.error_type = f"{type(error).__module__}.{type(error).__qualname__}"
        elif isinstance(event, events.RunFinished):
            cassette.status = event.status.value
            cassette.save(self.path)


def record_to(path: str | Path) -> CassetteRecorder:
    """A listener that records a run into the cassette at `path`.

    `WorkflowEngine(listeners=[record_to("run.json")])`, or `engine.add_listener(...)`.
    """
    return CassetteRecorder(path)
