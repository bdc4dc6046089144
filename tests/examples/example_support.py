"""Helpers shared by the example tests: where things are, and how to run an example."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from plait.engine import WorkflowEngine
from plait.loader import load_workflow

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
DATA = EXAMPLES / "data"
PLAIT = Path(sys.executable).with_name("plait")


async def run_example(engine: WorkflowEngine, workflow: str, **inputs: Any) -> dict[str, Any]:
    """Run ``examples/<workflow>`` and return the engine's result dict."""
    return await engine.execute_workflow(load_workflow(EXAMPLES / workflow), inputs)


def direct_upstream(workflow: str, step_id: str) -> set[str]:
    """The steps `step_id` waits for, as the compiled plan sees them."""
    plan = load_workflow(EXAMPLES / workflow).compile()
    return {plan.ids[i] for i in plan.preds[plan.index_of[step_id]]}


def load_module(path: Path) -> ModuleType:
    """Import an example's Python file by path (examples/ is not a package)."""
    name = f"example_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
