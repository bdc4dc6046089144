"""The public surface of `plait`: `__all__` is complete, sorted, and importable."""

from __future__ import annotations

import inspect

import plait


def test_all_is_sorted() -> None:
    assert plait.__all__ == sorted(plait.__all__)


def test_all_has_no_duplicates() -> None:
    assert len(plait.__all__) == len(set(plait.__all__))


def test_every_name_in_all_exists() -> None:
    missing = [name for name in plait.__all__ if not hasattr(plait, name)]
    assert missing == []


def test_all_lists_every_public_name_of_the_package() -> None:
    public = {
        name
        for name, value in vars(plait).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and type(value).__module__ != "__future__"  # `from __future__ import annotations`
    }
    assert public == set(plait.__all__) - {"__version__"}


def test_the_guides_names_are_importable_from_the_package() -> None:
    from plait import WorkflowDefinition, WorkflowEngine, WorkflowStatus, WorkflowStep

    assert [WorkflowStep, WorkflowDefinition, WorkflowEngine, WorkflowStatus]
    assert {s.value for s in WorkflowStatus} >= {
        "pending",
        "running",
        "completed",
        "failed",
        "paused",
    }


def test_the_version_is_a_string() -> None:
    assert isinstance(plait.__version__, str)
    assert "__version__" in plait.__all__
