"""Fixtures for running the shipped examples as a user would, without writing into the repo.

`sandbox` makes a temporary directory look like the repository root: ``examples`` is a
symlink to the real folder, so the workflows' relative defaults
(``examples/data/...``) resolve, while everything they write (``.plait/...``) lands in
the temporary directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from example_support import EXAMPLES

from plait.engine import WorkflowEngine


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "examples").symlink_to(EXAMPLES, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def engine() -> Iterator[WorkflowEngine]:
    engine = WorkflowEngine()
    yield engine
    engine.close()
