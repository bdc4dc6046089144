"""Section 5: how long a fresh process takes to get plait ready.

A CLI that takes half a second to print its help feels broken, and every
worker process pays the import. Each command runs in a fresh subprocess, the
commands interleaved, and the reference is the interpreter doing nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from harness import Config, Row, Section, median, paired_ratio

IMPORT_TARGET = 0.15
HELP_TARGET = 0.30


def plait_script() -> str | None:
    """The `plait` console script of this interpreter's environment, if installed."""
    beside = Path(sys.executable).with_name("plait")
    return str(beside) if beside.exists() else shutil.which("plait")


def _time(command: list[str]) -> float | None:
    """Seconds to run `command` to completion; None if it fails."""
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, check=False)
    elapsed = time.perf_counter() - t0
    return elapsed if done.returncode == 0 else None


def run(config: Config) -> Section:
    reps = 3 if config.quick else 15
    script = plait_script()
    commands: dict[str, list[str] | None] = {
        "reference": [sys.executable, "-c", "pass"],
        "import": [sys.executable, "-c", "import plait"],
        "help": [script, "--help"] if script else None,
    }
    samples: dict[str, list[float]] = {key: [] for key in commands}
    failed: set[str] = {key for key, command in commands.items() if command is None}
    for r in range(reps + 1):  # round 0 warms the OS file cache and is dropped
        keys = list(commands)
        shift = r % len(keys)
        for key in keys[shift:] + keys[:shift]:
            command = commands[key]
            if key in failed or command is None:
                continue
            elapsed = _time(command)
            if elapsed is None:
                failed.add(key)
            elif r:
                samples[key].append(elapsed)
    ref = samples["reference"]
    section = Section(
        "startup",
        f"5. Start-up (fresh subprocess, median of {reps})",
        columns=("command", "python -c pass"),
        unit="ms",
    )
    for key, label, target in (
        ("import", 'python -c "import plait"', IMPORT_TARGET),
        ("help", "plait --help", HELP_TARGET),
    ):
        if key in failed or not samples[key]:
            section.rows.append(
                Row(
                    label,
                    None,
                    median(ref) * 1e3,
                    None,
                    f"< {target * 1e3:.0f} ms",
                    None,
                    "(command missing or failed)",
                )
            )
            continue
        value = median(samples[key])
        section.rows.append(
            Row(
                label,
                value * 1e3,
                median(ref) * 1e3,
                paired_ratio(samples[key], ref),
                f"< {target * 1e3:.0f} ms",
                value < target,
            )
        )
    section.notes.append(
        "targets are absolute wall times; the ratio to a bare interpreter start shows "
        "how much of it is plait's"
    )
    return section
