"""The examples folder as a whole: every workflow is valid and listed in its README."""

from __future__ import annotations

from pathlib import Path

import pytest
from example_support import EXAMPLES

from plait.loader import load_workflow

WORKFLOWS = sorted(p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*.yaml"))


def test_every_workflow_the_guide_describes_is_here() -> None:
    assert WORKFLOWS == [
        "bi_etl.yaml",
        "content_moderation.yaml",
        "data_pipeline.yaml",
        "document_analysis.yaml",
        "events/customer_signup.yaml",
        "events/purchase_completed.yaml",
        "events/support_ticket.yaml",
        "events/system_alert.yaml",
        "investment_decision.yaml",
        "market_research.yaml",
        "realtime_analytics.yaml",
    ]


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_each_workflow_loads_and_is_listed_in_the_readme(workflow: str) -> None:
    definition = load_workflow(EXAMPLES / workflow)

    assert definition.description
    assert f"[`{workflow}`]({workflow})" in (EXAMPLES / "README.md").read_text(encoding="utf-8")


def test_the_readme_run_commands_name_real_files() -> None:
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for line in readme.splitlines():
        if line.startswith("| [`"):
            command = line.rsplit("|", 2)[-2].strip().strip("`")
            target = command.split()[2] if command.startswith("plait run") else command.split()[1]
            assert Path(EXAMPLES.parent / target).is_file(), line
