"""Pausing, resuming and cancelling a run from another process, through the store.

`plait run` executes in a child process; the test acts as the other process and
uses `plait pause`, `plait resume` and `plait cancel`. The first step reports,
from inside the running process, when the request took effect, so nothing here
guesses how long the watcher takes to notice.
"""

from __future__ import annotations

import json
from pathlib import Path

from integration_harness import Plait, Proc, wait_until, write

EXIT_FAILED, EXIT_PAUSED = 1, 3

PAUSABLE = """\
workflow_id: pausable
steps:
  - step_id: first
    action: acts.py:wait_for_pause
    inputs: {label: first}
  - step_id: second
    action: acts.py:work
    inputs: {label: second, deps: {first: "{{ first.result }}"}}
  - step_id: third
    action: acts.py:work
    inputs: {label: third, deps: {second: "{{ second.result }}"}}
"""

CANCELLABLE = """\
workflow_id: cancellable
steps:
  - step_id: first
    action: acts.py:wait_to_be_cancelled
    inputs: {label: first}
  - step_id: second
    action: acts.py:work
    inputs: {label: second, deps: {first: "{{ first.result }}"}}
"""


def start_and_wait_for_the_first_step(plait: Plait, text: str, tmp_path: Path) -> tuple[Proc, str]:
    write(tmp_path, "wf.yaml", text)
    proc = plait.start("run", "wf.yaml")
    wait_until(lambda: "first" in plait.started(), what="the first step to start")
    return proc, plait.only_run()


def test_a_pause_from_another_process_lets_the_running_step_finish_and_starts_nothing_new(
    plait: Plait, tmp_path: Path
) -> None:
    proc, run_id = start_and_wait_for_the_first_step(plait, PAUSABLE, tmp_path)

    asked = plait("pause", run_id)
    code = proc.wait()

    assert asked.returncode == 0, asked.stderr
    assert f"asked the process running {run_id}" in asked.stdout
    assert code == EXIT_PAUSED, proc.stderr
    assert f"run {run_id} paused" in proc.stdout
    assert plait.status(run_id) == "paused"
    assert plait.started(run_id) == ["first"]
    steps = plait.steps(run_id)
    assert steps["first"]["status"] == "completed"
    assert json.loads(steps["first"]["result"])["saw_pause"] is True
    assert set(steps) == {"first"}
    assert plait.run_row(run_id)["control"] is None  # the request was used up


def test_a_paused_run_resumed_from_another_process_completes_without_repeating_steps(
    plait: Plait, tmp_path: Path
) -> None:
    proc, run_id = start_and_wait_for_the_first_step(plait, PAUSABLE, tmp_path)
    plait("pause", run_id)
    assert proc.wait() == EXIT_PAUSED

    resumed = plait("resume", run_id, "--quiet")

    assert resumed.returncode == 0, resumed.stderr
    assert f"run {run_id} completed" in resumed.stdout
    assert plait.status(run_id) == "completed"
    assert plait.started(run_id) == ["first", "second", "third"]
    assert plait.run_row(run_id)["recoveries"] == 0  # a pause is not a crash


def test_a_cancel_from_another_process_stops_the_running_step_and_ends_the_run(
    plait: Plait, tmp_path: Path
) -> None:
    proc, run_id = start_and_wait_for_the_first_step(plait, CANCELLABLE, tmp_path)

    asked = plait("cancel", run_id)
    code = proc.wait()

    assert asked.returncode == 0, asked.stderr
    assert code == EXIT_FAILED, proc.stderr
    assert f"run {run_id} cancelled" in proc.stdout
    assert plait.status(run_id) == "cancelled"
    assert plait.run_row(run_id)["finished_at"] is not None
    notes = [line[4:] for line in plait.log_lines()]
    assert notes == [[], ["cancelled"]]  # the step saw its cancellation; nothing else ran
    assert plait.steps(run_id)["first"]["status"] == "cancelled"
    assert "second" not in plait.steps(run_id)


def test_a_cancelled_run_cannot_be_resumed(plait: Plait, tmp_path: Path) -> None:
    proc, run_id = start_and_wait_for_the_first_step(plait, CANCELLABLE, tmp_path)
    plait("cancel", run_id)
    proc.wait()

    resumed = plait("resume", run_id)

    assert resumed.returncode != 0
    assert "already ended (cancelled)" in resumed.stderr
    assert "Traceback" not in resumed.stderr
    assert plait.started(run_id) == ["first"]


def test_a_paused_run_with_no_process_is_cancelled_directly(plait: Plait, tmp_path: Path) -> None:
    proc, run_id = start_and_wait_for_the_first_step(plait, PAUSABLE, tmp_path)
    plait("pause", run_id)
    proc.wait()

    cancelled = plait("cancel", run_id)

    assert cancelled.returncode == 0, cancelled.stderr
    assert f"run {run_id} cancelled" in cancelled.stdout
    assert plait.status(run_id) == "cancelled"


def test_a_run_still_executing_elsewhere_is_not_resumed_twice(plait: Plait, tmp_path: Path) -> None:
    proc, run_id = start_and_wait_for_the_first_step(plait, CANCELLABLE, tmp_path)

    second = plait("resume", run_id)
    plait("cancel", run_id)
    proc.wait()

    assert second.returncode != 0
    assert f"still being executed by process {plait.run_row(run_id)['owner']}" in second.stderr
    assert plait.started(run_id) == ["first"]


def test_pausing_a_run_that_has_ended_is_refused(plait: Plait, tmp_path: Path) -> None:
    proc, run_id = start_and_wait_for_the_first_step(plait, CANCELLABLE, tmp_path)
    plait("cancel", run_id)
    proc.wait()

    paused = plait("pause", run_id)

    assert paused.returncode != 0
    assert "already ended (cancelled)" in paused.stderr
    assert plait.status(run_id) == "cancelled"
