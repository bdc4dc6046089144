"""Driving the real `plait` command in child processes, and reading its store from outside.

The tests here treat plait as a user does: a workflow file and an actions file in
a folder, `plait run` in a subprocess, signals and other `plait` commands from
other processes. Every action writes `run_id step_id attempt key` to a log file
when it starts, flushed and fsynced, so the log is the ground truth of what ran,
even for a process killed a microsecond later.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACTIONS = '''\
"""Actions for plait's integration tests."""

import asyncio
import hashlib
import json
import os
import random
import signal
import time
from pathlib import Path


def log_start(context, note=""):
    """Record that this step started, durably, before doing anything else."""
    line = f"{context.run_id} {context.step_id} {context.attempt} {context.idempotency_key}"
    path = os.environ.get("PLAIT_TEST_LOG", "actions.log")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + (" " + note if note else "") + "\\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def digest(label, deps):
    text = json.dumps([label, deps], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def work(label, deps=None, context=None):
    """Log, sleep 0-30 ms (seeded by the step and attempt), return a value of the inputs."""
    log_start(context)
    pause = random.Random(f"{context.idempotency_key}:{context.attempt}").uniform(0, 0.03)
    time.sleep(pause)
    return {"step": label, "digest": digest(label, deps)}


def die(context=None):
    """Kill this whole process, on every attempt (a poison step)."""
    log_start(context)
    os.kill(os.getpid(), signal.SIGKILL)


def die_once(label, marker, deps=None, context=None):
    """Kill the process the first time; later attempts work."""
    log_start(context)
    if not Path(marker).exists():
        Path(marker).write_text("died once")
        os.kill(os.getpid(), signal.SIGKILL)
    return {"step": label, "digest": digest(label, deps)}


def wait_for_file(label, path, deps=None, context=None):
    """Log, then wait (at most 60 s) until `path` exists."""
    log_start(context)
    deadline = time.monotonic() + 60
    while not Path(path).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return {"step": label, "digest": digest(label, deps)}


async def wait_for_pause(label, context=None):
    """Log, then wait (at most 30 s) until this run has taken in a pause request.

    Reading the run's scheduler is a test's privilege: it lets the test know the
    pause took effect while this step still ran, with no timing guesswork.
    """
    log_start(context)
    deadline = time.monotonic() + 30
    while not context._run.scheduler.paused and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return {"step": label, "saw_pause": context._run.scheduler.paused}


async def wait_to_be_cancelled(label, context=None):
    """Log, then sleep (at most 30 s); log again if cancelled."""
    log_start(context)
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        log_start(context, "cancelled")
        raise
    return {"step": label}


def analyze(content, context=None):
    log_start(context)
    unsure = "maybe" in content
    return {"is_safe": "spam" not in content, "confidence": 0.5 if unsure else 0.99}


def publish(approved=None, rejected=None, reviewed=None, context=None):
    log_start(context)
    return {"approved": approved, "rejected": rejected, "reviewed": reviewed}
'''


def plait_command() -> list[str]:
    script = shutil.which("plait", path=str(Path(sys.executable).parent))
    if script is not None:
        return [script]
    return [sys.executable, "-c", "import sys; from plait.cli import main; main()"]


@dataclass
class Proc:
    """A `plait` child process whose output goes to files (no pipes to drain or leak)."""

    popen: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    def wait(self, timeout: float = 60) -> int:
        return self.popen.wait(timeout)

    def kill(self) -> bool:
        """SIGKILL the process; False if it had already exited."""
        if self.popen.poll() is not None:
            return False
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(30)
        return True

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8")


class Plait:
    """The `plait` CLI, run in `folder` against one SQLite file."""

    def __init__(self, folder: Path, db: Path | None = None) -> None:
        self.folder = folder
        self.db = db or folder / "plait.db"
        self.log = folder / "actions.log"
        self._outputs = 0
        self._procs: list[Proc] = []
        self.env = {k: v for k, v in os.environ.items() if k != "PLAIT_STORE"}
        self.env["PLAIT_TEST_LOG"] = str(self.log)

    @property
    def url(self) -> str:
        return f"sqlite:///{self.db}"

    def __call__(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run one command to its end."""
        return subprocess.run(
            [*plait_command(), *args, "--store", self.url],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, *args: str) -> Proc:
        """Start one command in the background."""
        self._outputs += 1
        out = self.folder / f"out-{self._outputs}.txt"
        err = self.folder / f"err-{self._outputs}.txt"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            popen = subprocess.Popen(
                [*plait_command(), *args, "--store", self.url, "--quiet"],
                cwd=self.folder,
                env=self.env,
                stdout=stdout,
                stderr=stderr,
            )
        proc = Proc(popen, out, err)
        self._procs.append(proc)
        return proc

    def close(self) -> None:
        """Kill whatever a failed test left running."""
        for proc in self._procs:
            proc.kill()

    # --- the action log -----------------------------------------------------------------

    def log_lines(self) -> list[list[str]]:
        """Each started step as [run_id, step_id, attempt, idempotency_key, note...]."""
        if not self.log.exists():
            return []
        return [line.split() for line in self.log.read_text().splitlines() if line]

    def started(self, run_id: str | None = None) -> list[str]:
        """Step ids in the order they started (every attempt), for one run or all."""
        return [
            parts[1]
            for parts in self.log_lines()
            if (run_id is None or parts[0] == run_id) and len(parts) == 4
        ]

    # --- the store, read from outside ---------------------------------------------------

    @contextmanager
    def read_only(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        conn.row_factory = sqlite3.Row
        with closing(conn):
            yield conn

    def query(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        if not self.db.exists():
            return []
        with self.read_only() as conn:
            return conn.execute(sql, params).fetchall()

    def run_ids(self) -> list[str]:
        return [r["run_id"] for r in self.query("SELECT run_id FROM runs ORDER BY created_at")]

    def only_run(self) -> str:
        [run_id] = self.run_ids()
        return run_id

    def run_row(self, run_id: str) -> sqlite3.Row:
        [row] = self.query("SELECT * FROM runs WHERE run_id = ?", run_id)
        return row

    def status(self, run_id: str) -> str:
        return str(self.run_row(run_id)["status"])

    def steps(self, run_id: str) -> dict[str, sqlite3.Row]:
        rows = self.query("SELECT * FROM steps WHERE run_id = ?", run_id)
        return {r["step_id"]: r for r in rows}

    def completed(self, run_id: str) -> set[str]:
        return {sid for sid, row in self.steps(run_id).items() if row["status"] == "completed"}


def wait_until(check: Callable[[], Any], *, what: str, timeout: float = 30) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
