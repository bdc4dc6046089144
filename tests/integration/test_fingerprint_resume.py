"""A run resumes only with the workflow it began with; `rerun --from` is the way to change course.

The run dies at `c` (its action kills the process once), leaving `a` and `b`
completed in the store. Then the workflow file changes, and the test checks what
`plait resume` and `plait rerun` do with the interrupted run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from integration_harness import Plait, write

CHAIN = """\
workflow_id: chain
steps:
  - step_id: a
    action: acts.py:work
    inputs: {label: a}
  - step_id: b
    action: acts.py:work
    inputs: {label: b, deps: {a: "{{ a.result }}"}}
  - step_id: c
    action: acts.py:die_once
    inputs: {label: c, marker: died.txt, deps: {b: "{{ b.result }}"}}
  - step_id: d
    action: acts.py:work
    inputs: {label: d, deps: {c: "{{ c.result }}"}}
"""


@pytest.fixture
def interrupted(plait: Plait, tmp_path: Path) -> str:
    """A run killed while `c` ran: `a` and `b` are completed in the store."""
    write(tmp_path, "wf.yaml", CHAIN)
    died = plait("run", "wf.yaml", "--quiet")
    assert died.returncode == -9
    run_id = plait.only_run()
    assert plait.completed(run_id) == {"a", "b"}
    return run_id


def change(tmp_path: Path, old: str, new: str) -> None:
    path = tmp_path / "wf.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_resuming_after_a_step_changed_is_refused_naming_it_and_pointing_to_rerun(
    plait: Plait, tmp_path: Path, interrupted: str
) -> None:
    change(tmp_path, "{label: c,", "{label: c2,")

    refused = plait("resume", interrupted)

    assert refused.returncode != 0
    assert "Traceback" not in refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert "the workflow changed" in line
    assert "(c)" in line
    assert f"plait rerun {interrupted} --from c" in line
    assert plait.started(interrupted) == ["a", "b", "c"]  # nothing ran
    assert plait.status(interrupted) == "running"  # and it can still be rerun


def test_a_refused_resume_exits_2(plait: Plait, tmp_path: Path, interrupted: str) -> None:
    change(tmp_path, "{label: c,", "{label: c2,")

    assert plait("resume", interrupted).returncode == 2


def test_rerun_from_the_changed_step_reuses_upstream_results_and_runs_the_rest(
    plait: Plait, tmp_path: Path, interrupted: str
) -> None:
    change(tmp_path, "{label: c,", "{label: c2,")

    rerun = plait("rerun", interrupted, "--from", "c", "--quiet")

    assert rerun.returncode == 0, rerun.stderr
    [_, new_run] = plait.run_ids()
    assert plait.status(new_run) == "completed"
    assert plait.run_row(new_run)["parent_run_id"] == interrupted
    assert plait.run_row(new_run)["rerun_from"] == "c"
    assert plait.started(new_run) == ["c", "d"]  # a and b were not run again
    old, new = plait.steps(interrupted), plait.steps(new_run)
    for sid in ("a", "b"):
        assert new[sid]["result"] == old[sid]["result"]
        assert new[sid]["reason"] == f"reused from run {interrupted}"
    assert json.loads(new["c"]["result"])["step"] == "c2"
    assert json.loads(new["d"]["result"])["step"] == "d"


def test_rerun_is_refused_when_a_step_upstream_of_it_changed(
    plait: Plait, tmp_path: Path, interrupted: str
) -> None:
    change(tmp_path, "{label: b,", "{label: b2,")

    refused = plait("rerun", interrupted, "--from", "c")

    assert refused.returncode != 0
    assert "upstream of 'c' changed" in refused.stderr
    assert "b" in refused.stderr.split("changed since")[1]
    assert plait.run_ids() == [interrupted]  # no new run


def test_an_unchanged_workflow_resumes_and_only_the_interrupted_step_runs_again(
    plait: Plait, interrupted: str
) -> None:
    resumed = plait("resume", interrupted, "--quiet")

    assert resumed.returncode == 0, resumed.stderr
    assert plait.started(interrupted) == ["a", "b", "c", "c", "d"]
    assert plait.run_row(interrupted)["recoveries"] == 1
    assert plait.steps(interrupted)["c"]["crashes"] == 1
