"""`executor: process` and `executor: ray` run actions elsewhere with the results of local runs."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

import pytest
from fleet_support import HERE

from plait import executors
from plait.definition import WorkflowDefinition
from plait.engine import WorkflowEngine
from plait.loader import load_workflow

CRUNCH = HERE / "executors.yaml"


@pytest.fixture(autouse=True)
def _stop_pools() -> Iterator[None]:
    yield
    executors.shutdown()


def on(definition: WorkflowDefinition, executor: str | None) -> WorkflowDefinition:
    return dataclasses.replace(definition, executor=executor)


async def test_a_process_executor_gives_the_results_of_a_local_run() -> None:
    definition = load_workflow(CRUNCH)
    async with WorkflowEngine() as engine:
        remote = await engine.execute_workflow(definition)
        local = await engine.execute_workflow(on(definition, "local"))

    assert remote["status"] == local["status"] == "completed"
    assert remote["output"] == local["output"] == {"sum": 2666466670000, "double": 5332933340000}
    assert remote["results"]["square_sum"] == local["results"]["square_sum"]
    assert remote["results"]["who"]["pid"] != os.getpid()  # it ran in another process
    assert remote["results"]["here"]["pid"] == os.getpid()  # `executor: local` stayed here


async def test_an_unknown_executor_is_a_definition_error() -> None:
    from plait.errors import DefinitionError

    with pytest.raises(DefinitionError, match="executor must be local, process or ray"):
        on(load_workflow(CRUNCH), "gpu").compile()


@pytest.mark.slow
async def test_a_ray_executor_gives_the_results_of_a_local_run() -> None:
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'plait[ray]'")
    definition = load_workflow(CRUNCH)
    async with WorkflowEngine() as engine:
        remote = await engine.execute_workflow(on(definition, "ray"))
        local = await engine.execute_workflow(on(definition, "local"))

    assert remote["status"] == "completed", remote["error"]
    assert remote["output"] == local["output"]
    assert remote["results"]["who"]["pid"] != os.getpid()
