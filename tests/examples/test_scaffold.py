"""plait.scaffold: the guide's two templates become runnable, tested projects."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from plait.engine import WorkflowEngine
from plait.loader import load_workflow
from plait.scaffold import TEMPLATES, init_project


def test_both_guide_templates_are_offered() -> None:
    assert set(TEMPLATES) == {"analysis", "decision"}


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_a_scaffolded_project_has_a_workflow_its_agents_and_a_test(
    template: str, tmp_path: Path
) -> None:
    written = init_project("fleet_check", template, tmp_path)

    project = tmp_path / "fleet_check"
    assert written == [
        project / "fleet_check.yaml",
        project / "fleet_check_agents.py",
        project / "test_fleet_check.py",
    ]
    for path in written:
        assert "__NAME__" not in path.read_text(encoding="utf-8")
    assert load_workflow(written[0]).workflow_id == "fleet_check"


async def test_the_analysis_project_runs_and_reports_the_sample_spike(tmp_path: Path) -> None:
    workflow, _, _ = init_project("tickets", "analysis", tmp_path)
    report = tmp_path / "out" / "tickets.md"
    engine = WorkflowEngine()
    try:
        result = await engine.execute_workflow(
            load_workflow(workflow), {"output_path": str(report)}
        )
    finally:
        engine.close()

    assert result["status"] == "completed", result["error"]
    assert result["output"]["anomalies"] == [8]
    assert report.read_text(encoding="utf-8").startswith("# tickets analysis")


async def test_the_decision_project_runs_and_decides_within_budget(tmp_path: Path) -> None:
    workflow, _, _ = init_project("vendors", "decision", tmp_path)
    engine = WorkflowEngine()
    try:
        result = await engine.execute_workflow(load_workflow(workflow), {})
    finally:
        engine.close()

    assert result["status"] == "completed", result["error"]
    assert result["output"]["decision"] == "Atlas Routing"
    assert 0.5 <= result["output"]["confidence"] <= 1.0


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_the_generated_tests_pass_with_pytest(template: str, tmp_path: Path) -> None:
    init_project("starter", template, tmp_path)

    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "starter"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "5 passed" in completed.stdout


def test_existing_files_are_never_overwritten_and_nothing_is_half_written(
    tmp_path: Path,
) -> None:
    project = tmp_path / "mine"
    project.mkdir()
    (project / "test_mine.py").write_text("# my own tests\n")

    with pytest.raises(FileExistsError, match=r"test_mine\.py already exists"):
        init_project("mine", "analysis", tmp_path)

    assert (project / "test_mine.py").read_text() == "# my own tests\n"
    assert sorted(p.name for p in project.iterdir()) == ["test_mine.py"]


@pytest.mark.parametrize(
    ("name", "template", "message"),
    [
        ("my-project", "analysis", "try 'my_project'"),
        ("2024_report", "analysis", "starting with a letter"),
        ("report", "forecast", "choose one of: analysis, decision"),
    ],
)
def test_bad_names_and_unknown_templates_are_refused(
    name: str, template: str, message: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match=message):
        init_project(name, template, tmp_path)
    assert list(tmp_path.iterdir()) == []
