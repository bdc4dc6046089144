"""The `plait` command, driven as a user drives it: a subprocess on real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ACTIONS = """
import time

def shout(text: str) -> str:
    return text.upper()

def count(text: str) -> int:
    return len(text)

def explode(text: str) -> int:
    raise ValueError(f"cannot count {text!r}")
"""

WORKFLOW = """\
workflow_id: shouting
name: Shouting
inputs:
  text: {type: string, default: hello}
  times: {type: integer, default: 1}
steps:
  - step_id: shout
    action: actions.py:shout
    inputs: {text: "{{ inputs.text }}"}
  - step_id: count
    action: actions.py:count
    inputs: {text: "{{ shout.result }}"}
output: "{{ count.result }}"
"""


def plait(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PLAIT_STORE": f"sqlite:///{cwd / 'runs.db'}"}
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run(
        [sys.executable, "-m", "plait", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "actions.py").write_text(ACTIONS)
    (tmp_path / "flow.yaml").write_text(WORKFLOW)
    return tmp_path


def test_run_prints_one_json_object_and_exits_0_when_the_run_completes(project: Path) -> None:
    done = plait("run", "flow.yaml", "-i", "text=plait", "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["status"] == "completed"
    assert outcome["workflow_id"] == "shouting"
    assert outcome["results"] == {"shout": "PLAIT", "count": 5}
    assert outcome["output"] == 5
    assert set(outcome["steps"]["count"]) == {"status", "attempts", "duration_s", "error"}
    assert outcome["steps"]["count"]["attempts"] == 1
    assert len(outcome["run_id"]) >= 8


def test_run_off_a_terminal_logs_plain_lines_with_run_and_step_ids(project: Path) -> None:
    done = plait("run", "flow.yaml", cwd=project)
    assert done.returncode == 0
    lines = done.stderr.splitlines()
    assert any("step shout: attempt 1 started" in line for line in lines)
    assert any("step count: completed" in line for line in lines)
    run_id = done.stdout.split()[1]
    assert all(run_id in line for line in lines)
    assert done.stdout.splitlines()[-1] == "5"


def test_a_failed_run_exits_1_and_names_the_step_and_error(project: Path) -> None:
    (project / "flow.yaml").write_text(
        WORKFLOW.replace("actions.py:count", "actions.py:explode") + "\n"
    )
    done = plait("run", "flow.yaml", "--quiet", cwd=project)
    assert done.returncode == 1
    assert "error in step count: ValueError: cannot count 'HELLO'" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_invalid_workflow_exits_2_with_file_line_and_field_and_no_traceback(
    project: Path,
) -> None:
    broken = WORKFLOW.replace("{{ shout.result }}", "{{ shuot.result }}").replace(
        "action: actions.py:shout", "action: actions.py:shout\n    retry_count: many"
    )
    (project / "flow.yaml").write_text(broken)
    done = plait("run", "flow.yaml", cwd=project)
    assert done.returncode == 2
    assert "flow.yaml:9: steps[0].retry_count" in done.stderr
    assert "Traceback" not in done.stderr
    fixed_count = broken.replace("\n    retry_count: many", "")
    (project / "flow.yaml").write_text(fixed_count)
    done = plait("validate", "flow.yaml", cwd=project)
    assert done.returncode == 2
    assert "flow.yaml:12: steps[1].inputs.text: unknown step 'shuot'" in done.stderr
    assert "did you mean 'shout'?" in done.stderr


def test_debug_shows_the_traceback(project: Path) -> None:
    (project / "flow.yaml").write_text(WORKFLOW.replace("actions.py:count", "nowhere:count"))
    done = plait("run", "flow.yaml", "--debug", cwd=project)
    assert done.returncode != 0
    assert "Traceback" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-i", "times=often"], "input 'times' must be an integer, got 'often'"),
        (["-i", "colour=red"], "unknown input 'colour' (declared inputs: text, times)"),
        (["-i", "novalue"], "write inputs as NAME=VALUE"),
    ],
)
def test_bad_inputs_exit_2_with_a_message_naming_the_input(
    project: Path, args: list[str], message: str
) -> None:
    done = plait("run", "flow.yaml", *args, cwd=project)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_inputs_file_values_keep_their_json_types_and_the_command_line_wins(
    project: Path,
) -> None:
    (project / "in.json").write_text(json.dumps({"text": "from file", "times": 3}))
    done = plait(
        "run", "flow.yaml", "--inputs-file", "in.json", "-i", "text=cli", "--json", cwd=project
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["results"]["shout"] == "CLI"


def test_a_missing_file_is_a_usage_error(project: Path) -> None:
    done = plait("run", "nope.yaml", cwd=project)
    assert done.returncode == 2
    assert "nope.yaml: no such file" in done.stderr


def test_validate_accepts_a_good_file(project: Path) -> None:
    done = plait("validate", "flow.yaml", cwd=project)
    assert done.returncode == 0
    assert "ok (2 steps, workflow shouting)" in done.stdout


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("mermaid", ["flowchart LR", "    shout --> count"]),
        ("dot", ['digraph "shouting" {', '    "shout" -> "count";']),
    ],
)
def test_graph_prints_the_dag_as_text(project: Path, fmt: str, expected: list[str]) -> None:
    done = plait("graph", "flow.yaml", "--format", fmt, cwd=project)
    assert done.returncode == 0
    for line in expected:
        assert line in done.stdout.splitlines()


def test_every_command_has_help(project: Path) -> None:
    top = plait("--help", cwd=project)
    assert top.returncode == 0
    commands = [
        line.split()[0] for line in top.stdout.split("Commands:")[1].splitlines() if line.strip()
    ]
    assert {"run", "validate", "graph", "resume", "inbox", "show"} <= set(commands)
    for command in commands:
        done = plait(command, "--help", cwd=project)
        assert done.returncode == 0, command
        assert "Usage:" in done.stdout


def test_runs_and_show_list_what_run_recorded(project: Path) -> None:
    done = plait("run", "flow.yaml", "--json", "--quiet", cwd=project)
    run_id = json.loads(done.stdout)["run_id"]
    listed = plait("runs", "--json", cwd=project)
    assert [r["run_id"] for r in json.loads(listed.stdout)] == [run_id]
    shown = plait("show", run_id, cwd=project)
    assert shown.returncode == 0
    assert (
        textwrap.dedent("""\
          shout: completed, 1 attempt(s)""")
        in shown.stdout
    )
    assert 'result: "HELLO"' in shown.stdout


CACHED_WORKFLOW = """\
workflow_id: cached
name: Cached
inputs:
  text: {type: string, default: hello}
steps:
  - step_id: shout
    action: actions.py:logged_shout
    inputs: {text: "{{ inputs.text }}"}
    cache: {ttl_seconds: 3600, version: "VERSION"}
"""

LOGGED = """

def logged_shout(text: str) -> str:
    with open("calls.log", "a") as log:
        log.write(text + "\\n")
    return text.upper()
"""


def test_a_cached_step_does_not_run_again_in_another_process(project: Path) -> None:
    (project / "actions.py").write_text(ACTIONS + LOGGED)

    def run(version: str, *args: str) -> dict[str, object]:
        (project / "cached.yaml").write_text(CACHED_WORKFLOW.replace("VERSION", version))
        done = plait("run", "cached.yaml", "--json", "--quiet", *args, cwd=project)
        assert done.returncode == 0, done.stderr
        outcome: dict[str, object] = json.loads(done.stdout)
        return outcome

    first = run("1")
    second = run("1")
    assert first["steps"]["shout"]["status"] == "completed"  # type: ignore[index]
    assert second["steps"]["shout"]["status"] == "cached"  # type: ignore[index]
    assert second["results"] == {"shout": "HELLO"}
    assert (project / "calls.log").read_text().splitlines() == ["hello"]
    run("1", "-i", "text=other")  # other inputs run it
    run("2")  # so does a new version
    assert (project / "calls.log").read_text().splitlines() == ["hello", "other", "hello"]
    cleared = plait("cache", "clear", "--workflow", "cached", cwd=project)
    assert cleared.stdout.strip() == "removed 3 cached results"
    run("2")
    assert (project / "calls.log").read_text().splitlines()[-1] == "hello"
    assert len((project / "calls.log").read_text().splitlines()) == 4
