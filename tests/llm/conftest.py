"""Fixtures of the LLM step's tests: a scripted server, and a clean environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from llm_fakes import KEY_ENV, TEST_KEY, FakeOpenAI


@pytest.fixture
def llm_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(autouse=True)
def _llm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test sees the test key and none of the developer's own LLM settings."""
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "PLAIT_LLM_PRICES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(KEY_ENV, TEST_KEY)
