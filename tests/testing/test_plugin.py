"""The pytest plugin: a project that installs plait gets the kit's fixtures, nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

USER_TEST = """
import pytest
from plait import WorkflowDefinition, WorkflowStep

def hello(name: str) -> str:
    return f"hello {name}"

FLOW = WorkflowDefinition("hi", "Hi", "", [WorkflowStep("hello", action=hello,
                          inputs={"name": "{{ inputs.name }}"})], inputs=["name"])

@pytest.mark.asyncio
async def test_in_memory(plait_kit):
    result = await plait_kit.run(FLOW, {"name": "ada"})
    assert result.results["hello"] == "hello ada"

@pytest.mark.asyncio
async def test_on_sqlite(plait_sqlite_kit, tmp_path):
    assert (await plait_sqlite_kit.run(FLOW, {"name": "bob"})).ok
    assert (tmp_path / "plait.db").exists()
"""


def test_a_users_tests_get_the_fixtures_from_the_plugin(tmp_path: Path):
    (tmp_path / "test_user.py").write_text(USER_TEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = strict\n")
    # Only the plugins named here: the one under test, and pytest-asyncio it builds on.
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
            *("-p", "pytest_asyncio.plugin", "-p", "plait.testing.plugin", str(tmp_path)),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
