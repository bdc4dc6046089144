"""Shared pieces of the fleet tests: where their workflows live, and worker processes.

Kept out of `conftest.py` so test modules import them by a name no other test
folder uses.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

HERE = Path(__file__).parent
FANOUT = HERE / "fanout.yaml"


class Fleet:
    """Worker processes (`python -m plait worker`) on one store; ended when the test ends."""

    def __init__(self, url: str, log_dir: Path, *, lease_s: float = 2.0) -> None:
        self.url = url
        self.log_dir = log_dir
        self.lease_s = lease_s
        self.procs: list[subprocess.Popen[bytes]] = []
        self._files: list[IO[bytes]] = []
        self.killed: dict[int, float] = {}
        """pid -> time of its SIGKILL."""

    def start(self, concurrency: int = 8) -> subprocess.Popen[bytes]:
        err = open(self.log_dir / f"worker-{len(self.procs)}.err", "wb")
        self._files.append(err)
        env = {**os.environ, "PLAIT_FLEET_LOG": str(self.log_dir), "PYTHONPATH": str(HERE)}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "plait",
                "worker",
                "--store",
                self.url,
                "--concurrency",
                str(concurrency),
                "--lease",
                str(self.lease_s),
                "--grace",
                "5",
            ],
            env=env,
            stderr=err,
        )
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        import time

        self.killed[proc.pid] = time.time()
        proc.kill()
        proc.wait()

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for f in self._files:
            f.close()
