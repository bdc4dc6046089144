"""The benchmark suite's entry point; `bench/run` calls it (see docs/benchmarks.md).

Benchmarks report, they do not pass or fail: the exit status is 0 whenever every
section ran, whether or not its targets were met.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import critical_path
import durable
import overhead
import plait
import scale
import startup
from harness import Config, Section, table_lines

ROOT = Path(__file__).resolve().parent.parent

SECTIONS: dict[str, Callable[[Config], Any]] = {
    "overhead": overhead.run,
    "critical_path": critical_path.run,
    "durable": durable.run,
    "scale": scale.run,
    "startup": startup.run,
}


def machine() -> dict[str, Any]:
    """What the figures came from, printed above them and stored in the JSON."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "plait": plait.__version__,
        "commit": commit,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(terse=True),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "load_average": _load(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _load() -> str:
    """The 1-minute load average: on a shared machine, what else was running."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/run", description="plait's benchmark suite: ratios against references."
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes; seconds, not minutes")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write figures as JSON")
    parser.add_argument(
        "--markdown", action="store_true", help="print tables as Markdown (for the docs)"
    )
    parser.add_argument(
        "--only",
        metavar="SECTION",
        action="append",
        choices=list(SECTIONS),
        help="run only this section (repeatable)",
    )
    parser.add_argument("--rounds", type=int, help="interleaved rounds per comparison")
    args = parser.parse_args(argv)
    config = Config(quick=args.quick, rounds=args.rounds or (2 if args.quick else 7))

    meta = machine()
    meta["mode"] = "quick" if config.quick else "full"
    meta["rounds"] = config.rounds
    print(
        f"plait {meta['plait']} (commit {meta['commit']}), {meta['implementation']} "
        f"{meta['python']}, {meta['cpu_count']} CPUs ({meta['cpu']}), {meta['platform']}, "
        f"{meta['mode']} mode, {meta['date']}, load average {meta['load_average']}\n",
        flush=True,
    )
    sections: list[Section] = []
    began = time.perf_counter()
    for key in args.only or SECTIONS:
        t0 = time.perf_counter()
        outcome = SECTIONS[key](config)
        section: Section = asyncio.run(outcome) if asyncio.iscoroutine(outcome) else outcome
        sections.append(section)
        print("\n".join(table_lines(section, markdown=args.markdown)), flush=True)
        print(f"({key}: {time.perf_counter() - t0:.1f} s)\n", flush=True)
    meta["seconds"] = round(time.perf_counter() - began, 1)
    meta["load_average_at_end"] = _load()
    print(f"total: {meta['seconds']} s, load average at the end {meta['load_average_at_end']}")
    if args.json:
        payload = {"meta": meta, "sections": [s.to_json() for s in sections]}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
