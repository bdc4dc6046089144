"""A disk that fills up during a run: the run stops cleanly and resumes once space is freed.

The first test puts the store on a small tmpfs mounted for it (this needs root;
elsewhere it is skipped). While step `b` runs, the test fills the disk to the
last byte, so committing `b` fails inside SQLite with "database or disk is full".
The second test runs everywhere: SQLite's `max_page_count` stands in for the disk.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from integration_harness import ACTIONS, Plait, wait_until, write

from plait import WorkflowDefinition, WorkflowEngine, WorkflowStep
from plait.store.sqlite import SQLiteStore

CHAIN = """\
workflow_id: chain
steps:
  - step_id: a
    action: acts.py:work
    inputs: {label: a}
  - step_id: b
    action: acts.py:wait_for_file
    inputs: {label: b, path: release, deps: {a: "{{ a.result }}"}}
  - step_id: c
    action: acts.py:work
    inputs: {label: c, deps: {b: "{{ b.result }}"}}
"""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs, unmounted after the test."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if not sys.platform.startswith("linux") or shutil.which("mount") is None:
        pytest.skip("needs Linux and mount(8) to make a small disk")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True, check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk refuses even one more byte."""
    ballast = disk / "ballast"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (1 << 16, 1 << 12, 1 << 9, 1):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
    finally:
        os.close(fd)
    return ballast


@pytest.fixture
def plait(tmp_path: Path, small_disk: Path) -> Iterator[Plait]:
    """The CLI with its store on the small disk (actions and their log stay off it)."""
    write(tmp_path, "acts.py", ACTIONS)
    cli = Plait(tmp_path, db=small_disk / "plait.db")
    yield cli
    cli.close()


def test_a_full_disk_stops_the_run_cleanly_and_it_resumes_once_space_is_freed(
    plait: Plait, tmp_path: Path, small_disk: Path
) -> None:
    write(tmp_path, "wf.yaml", CHAIN)
    proc = plait.start("run", "wf.yaml")
    wait_until(lambda: "b" in plait.started(), what="step b to start")

    ballast = fill(small_disk)
    (tmp_path / "release").touch()
    code = proc.wait()

    run_id = plait.only_run()
    assert code != 0
    assert "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert "full" in line
    assert f"plait resume {run_id}" in line
    assert plait.status(run_id) == "running"  # not ended: it can be resumed
    assert plait.completed(run_id) == {"a"}
    committed = plait.completed(run_id)

    ballast.unlink()
    resumed = plait("resume", run_id, "--quiet")

    assert resumed.returncode == 0, resumed.stderr
    assert plait.status(run_id) == "completed"
    assert plait.completed(run_id) == {"a", "b", "c"}
    started = plait.started(run_id)
    assert [s for s in started if s in committed] == ["a"]  # no committed step ran again
    assert started == ["a", "b", "b", "c"]  # b's result never reached the disk


# --- the same promise without root: SQLite's own page limit plays the full disk ------

STARTED: list[str] = []


async def first() -> str:
    STARTED.append("first")
    return "small"


class Big:
    """Returns more than fits; first caps the store's file at one page if `fill` is set."""

    fill: SQLiteStore | None = None

    async def __call__(self) -> str:
        STARTED.append("big")
        store = self.fill
        if store is not None:  # both connections: the journal writes through the second
            await store._call(lambda: store._db.execute("PRAGMA max_page_count = 1"))
            assert store._fast is not None
            store._fast.execute("PRAGMA max_page_count = 1")
        return "x" * 100_000


async def last(big: str) -> int:
    STARTED.append("last")
    return len(big)


async def test_a_store_that_cannot_grow_stops_the_run_and_it_resumes_later(
    tmp_path: Path,
) -> None:
    STARTED.clear()
    big = Big()
    workflow = WorkflowDefinition(
        "grow",
        "Grow",
        "",
        [
            WorkflowStep("first", action=first),
            WorkflowStep("big", action=big, dependencies=["first"]),
            WorkflowStep("last", action=last, inputs={"big": "{{ big.result }}"}),
        ],
    )
    store = SQLiteStore(tmp_path / "plait.db")
    big.fill = store
    async with WorkflowEngine(store=store) as engine:
        stopped = await engine.execute_workflow(workflow)
        row = await store.get_run(stopped["run_id"])
        steps = await store.get_steps(row.run_id)

    assert "cannot grow" in stopped["error"]
    assert f"plait resume {row.run_id}" in stopped["error"]
    assert row.status == "running"  # not ended: it can be resumed
    assert {s.step_id for s in steps if s.status == "completed"} == {"first"}

    big.fill = None  # the limit belonged to that connection: space is free again
    async with WorkflowEngine(store=f"sqlite:///{tmp_path / 'plait.db'}") as engine:
        resumed = await engine.resume(row.run_id, workflow)

    assert resumed["status"] == "completed"
    assert resumed["results"]["last"] == 100_000
    assert STARTED == ["first", "big", "big", "last"]  # first was not run again
