"""The built-in agents follow the engine's calling convention."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

from plait.agents import BUILTIN_AGENTS


@pytest.mark.parametrize("name", sorted(BUILTIN_AGENTS))
def test_agents_take_keyword_arguments_only_and_no_context(name: str) -> None:
    agent = BUILTIN_AGENTS[name]
    parameters = inspect.signature(agent).parameters.values()

    assert parameters
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)
    assert "context" not in {p.name for p in parameters}


@pytest.mark.parametrize("name", sorted(BUILTIN_AGENTS))
def test_agents_resolve_from_module_colon_function_references(name: str) -> None:
    agent = BUILTIN_AGENTS[name]
    module_name, function_name = agent.__module__, agent.__name__

    assert module_name.startswith("plait.agents.")
    assert getattr(importlib.import_module(module_name), function_name) is agent


def test_importing_the_agents_does_not_load_heavy_libraries() -> None:
    code = (
        "import sys, plait.agents\n"
        "heavy = {'bs4', 'pypdf', 'vaderSentiment', 'markdown_it'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout

    assert output.strip() == "[]"
