"""Crash and resume: `plait run` and `plait resume` killed with SIGKILL at random moments.

For each workflow shape the test starts `plait run`, kills it at a random moment,
resumes with `plait resume RUN_ID` (killed at random too), and so on until the
run completes; then it starts another run until enough kills have landed. After
every kill, with the process dead, it reads which steps the store holds as
completed. The promise under test: such a step never starts again, and the final
results equal those of an uninterrupted in-memory run.

Kill moments come from a seeded generator; where they land also depends on the
machine, which is the point. No assertion depends on timing.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from integration_harness import Plait, Proc, wait_until, write

from plait import WorkflowEngine
from plait.engine import MAX_CRASHES_PER_STEP
from plait.loader import load_workflow

pytestmark = pytest.mark.slow

KILLS_PER_WORKFLOW = 12
"""Three shapes, so 36 kills in all (plus the resumes that complete)."""

SHAPES: dict[str, dict[str, list[str]]] = {
    # step id -> the steps whose results it takes
    "chain": {f"s{k}": ([f"s{k - 1}"] if k > 1 else []) for k in range(1, 9)},
    "fan": {
        "source": [],
        **{f"w{k}": ["source"] for k in range(1, 7)},
        "join": [f"w{k}" for k in range(1, 7)],
    },
    "diamond": {
        "top": [],
        "left1": ["top"],
        "left2": ["left1"],
        "middle": ["top"],
        "right1": ["top"],
        "right2": ["right1"],
        "bottom": ["left2", "middle", "right2"],
    },
}


def workflow_text(workflow_id: str, shape: dict[str, list[str]]) -> str:
    steps = [
        {
            "step_id": sid,
            "action": "acts.py:work",
            "retry_count": 1,
            "inputs": {"label": sid, "deps": {d: f"{{{{ {d}.result }}}}" for d in after}},
        }
        for sid, after in shape.items()
    ]
    return json.dumps({"workflow_id": workflow_id, "steps": steps}, indent=2)  # JSON is YAML


@dataclass
class Kill:
    run_id: str | None
    log_length: int
    """Lines in the action log once the process was dead."""
    completed: set[str]
    """Steps the store held as completed once the process was dead."""


@dataclass
class Campaign:
    plait: Plait
    workflow: Path
    rng: random.Random
    kills: list[Kill] = field(default_factory=list)
    finished_runs: list[str] = field(default_factory=list)
    processes: int = 0

    def near_poison(self, run_id: str | None) -> bool:
        """Whether one more crash could fail a step as poison (tested on its own below)."""
        if run_id is None:
            return False
        for row in self.plait.steps(run_id).values():
            if row["crashes"] + (row["status"] == "running") >= MAX_CRASHES_PER_STEP - 1:
                return True
        return False

    def wait_for_a_random_moment(self, proc: Proc) -> None:
        before = len(self.plait.log_lines())
        steps_to_wait_for = self.rng.randint(0, 3)
        if steps_to_wait_for == 0:
            time.sleep(self.rng.uniform(0, 0.5))  # start-up, opening the store, first steps
        else:
            wait_until(
                lambda: (
                    len(self.plait.log_lines()) >= before + steps_to_wait_for
                    or proc.popen.poll() is not None
                ),
                what="steps to start",
            )
        time.sleep(self.rng.uniform(0, 0.03))

    def step(self, run_id: str | None, kill: bool) -> str | None:
        """Start or resume once, maybe kill it; the run still to finish, if any."""
        known = set(self.plait.run_ids())
        proc = self.plait.start("resume", run_id) if run_id else self.plait.start("run", "wf.yaml")
        self.processes += 1
        if kill:
            self.wait_for_a_random_moment(proc)
            killed = proc.kill()
        else:
            killed = False
            proc.wait()
        if run_id is None:
            new = [r for r in self.plait.run_ids() if r not in known]
            run_id = new[0] if new else None
        if killed:
            done = self.plait.completed(run_id) if run_id else set()
            self.kills.append(Kill(run_id, len(self.plait.log_lines()), done))
            if run_id is None:
                return None  # killed before the run was stored: start afresh
        else:
            assert proc.popen.returncode == 0, proc.stderr
        assert run_id is not None
        status = self.plait.status(run_id)
        if status == "completed":
            self.finished_runs.append(run_id)
            return None
        assert status == "running", f"run {run_id} ended {status}: {proc.stderr}"
        return run_id

    def go(self, kills_wanted: int) -> None:
        run_id: str | None = None
        while len(self.kills) < kills_wanted or run_id is not None:
            kill = len(self.kills) < kills_wanted and not self.near_poison(run_id)
            run_id = self.step(run_id, kill)


async def reference_results(
    workflow: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """Results of the same workflow run once, uninterrupted, in memory."""
    monkeypatch.setenv("PLAIT_TEST_LOG", str(tmp_path / "reference.log"))
    async with WorkflowEngine() as engine:
        summary = await engine.execute_workflow(load_workflow(workflow))
    assert summary["status"] == "completed"
    results: dict[str, Any] = summary["results"]
    return results


@pytest.mark.parametrize("shape", list(SHAPES))
async def test_a_step_committed_before_a_kill_never_runs_again(
    plait: Plait, shape: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow = write(tmp_path, "wf.yaml", workflow_text(shape, SHAPES[shape]))
    campaign = Campaign(plait, workflow, random.Random(f"crash-resume:{shape}"))

    campaign.go(KILLS_PER_WORKFLOW)

    log = plait.log_lines()
    for kill in campaign.kills:
        if kill.run_id is None:
            continue
        again = [
            line[1]
            for line in log[kill.log_length :]
            if line[0] == kill.run_id and line[1] in kill.completed
        ]
        assert again == [], f"committed steps ran again after a kill: {again}"
    expected = await reference_results(workflow, tmp_path, monkeypatch)
    for run_id in campaign.finished_runs:
        rows = plait.steps(run_id)
        assert {sid: row["status"] for sid, row in rows.items()} == dict.fromkeys(
            SHAPES[shape], "completed"
        )
        assert {sid: json.loads(row["result"]) for sid, row in rows.items()} == expected
    starts = Counter((line[0], line[1]) for line in log)
    mid_run = [k for k in campaign.kills if k.run_id and k.completed != set(SHAPES[shape])]
    print(
        f"\n{shape}: {len(campaign.kills)} kills ({len(mid_run)} with steps still to commit) "
        f"over {campaign.processes} processes, {len(campaign.finished_runs)} runs completed, "
        f"{sum(starts.values()) - len(starts)} re-executions of in-flight steps"
    )
    assert len(campaign.kills) == KILLS_PER_WORKFLOW
    assert len(mid_run) >= KILLS_PER_WORKFLOW // 2  # the kills did interrupt runs
    assert campaign.finished_runs  # every run the campaign started ended completed


async def test_every_attempt_of_a_step_across_kills_has_the_same_idempotency_key(
    plait: Plait, tmp_path: Path
) -> None:
    write(tmp_path, "wf.yaml", workflow_text("chain", SHAPES["chain"]))
    campaign = Campaign(plait, tmp_path / "wf.yaml", random.Random("idempotency"))

    campaign.go(5)

    attempts: dict[tuple[str, str], list[int]] = {}
    for run_id, step_id, attempt, key in plait.log_lines():
        assert key == f"{run_id}:{step_id}"
        attempts.setdefault((run_id, step_id), []).append(int(attempt))
    # Each execution after a crash is a new attempt of the same step: numbers only grow.
    for numbers in attempts.values():
        assert numbers == sorted(set(numbers))


POISON = """\
workflow_id: poison
steps:
  - step_id: fine
    action: acts.py:work
    inputs: {label: fine}
  - step_id: poison
    action: acts.py:die
    dependencies: [fine]
"""


async def test_a_step_that_kills_its_process_every_time_ends_failed_as_poison(
    plait: Plait, tmp_path: Path
) -> None:
    write(tmp_path, "poison.yaml", POISON)

    first = plait("run", "poison.yaml", "--quiet")
    run_id = plait.only_run()
    resumes = []
    while plait.status(run_id) == "running" and len(resumes) < MAX_CRASHES_PER_STEP + 2:
        resumes.append(plait("resume", run_id, "--quiet"))

    assert first.returncode == -9  # SIGKILL, by its own hand
    assert plait.status(run_id) == "failed"
    assert len(resumes) == MAX_CRASHES_PER_STEP
    assert [r.returncode for r in resumes] == [-9] * (MAX_CRASHES_PER_STEP - 1) + [1]
    assert plait.started(run_id) == ["fine"] + ["poison"] * MAX_CRASHES_PER_STEP
    poison = plait.steps(run_id)["poison"]
    assert poison["status"] == "failed"
    assert poison["error_type"] == "PoisonStepError"
    assert f"died {MAX_CRASHES_PER_STEP} times" in poison["error"]
    assert "poison step" in resumes[-1].stderr
    assert plait.steps(run_id)["fine"]["status"] == "completed"
