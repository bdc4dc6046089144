"""Keeps the benchmark suite runnable: `bench/run --quick` must finish and print every section.

Benchmarks report figures; they are not timed tests, so nothing here looks at a
number. A benchmark that crashes (an API it uses changed) fails this test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HEADINGS = (
    "1. Per-step overhead",
    "2. Critical-path efficiency",
    "3. Durable throughput",
    "4. Scale",
    "5. Start-up",
)


def test_quick_suite_runs_and_prints_every_section(tmp_path: Path) -> None:
    figures = tmp_path / "bench.json"
    done = subprocess.run(
        [str(ROOT / "bench" / "run"), "--quick", "--json", str(figures)],
        env={**os.environ, "PYTHON": sys.executable},  # the interpreter running the tests
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for heading in HEADINGS:
        assert f"## {heading}" in done.stdout
    payload = json.loads(figures.read_text())
    assert [s["key"] for s in payload["sections"]] == [
        "overhead",
        "critical_path",
        "durable",
        "scale",
        "startup",
    ]
    assert payload["meta"]["plait"]
