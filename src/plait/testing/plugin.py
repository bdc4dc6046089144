"""pytest plugin (registered by plait's `pytest11` entry point): the kit as fixtures.

- `plait_kit`: a `WorkflowKit` on an in-memory store, with virtual time.
- `plait_sqlite_kit`: the same on an SQLite file in the test's `tmp_path`.

Both are async fixtures (pytest-asyncio), and the test runs in the loop they put
on virtual time. Every pytest session of a project that has plait installed loads
this module, so the kit itself is imported only when a fixture is first used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from plait.testing.kit import WorkflowKit


def _async_fixture(fn: Callable[..., Any]) -> Any:
    try:
        import pytest_asyncio
    except ImportError:  # no pytest-asyncio: say so when the fixture is asked for

        @pytest.fixture(name=fn.__name__)
        def missing() -> None:
            pytest.fail(f"{fn.__name__} needs pytest-asyncio: pip install 'plait[testing]'")

        return missing
    return pytest_asyncio.fixture(fn)


@_async_fixture
async def plait_kit() -> AsyncIterator[WorkflowKit]:
    """A `WorkflowKit` on an in-memory store, with virtual time."""
    from plait.testing.kit import WorkflowKit

    async with WorkflowKit() as kit:
        yield kit


@_async_fixture
async def plait_sqlite_kit(tmp_path: Path) -> AsyncIterator[WorkflowKit]:
    """A `WorkflowKit` on an SQLite file in the test's `tmp_path`, with virtual time."""
    from plait.testing.kit import WorkflowKit

    async with WorkflowKit(store="sqlite", path=tmp_path / "plait.db") as kit:
        yield kit
