"""The LLM step: `action: "plait.llm:chat"` asks any OpenAI-compatible chat endpoint.

Layering, from the bottom: `errors` (what can go wrong, by what a retry can do);
`prices` (USD per million tokens, overridable); `schema` (checking structured
replies and wording what is wrong with them); `local` (the embedded llama.cpp
server behind `local:` models); `action` (`chat` itself, the only module that
imports the `openai` SDK, and only when a step runs). Importing this package
loads none of the optional libraries.
"""

from __future__ import annotations

from plait.llm.action import chat
from plait.llm.errors import (
    LLMAuthError,
    LLMError,
    LLMReplyError,
    LLMRequestError,
    LLMTimeoutError,
    LLMUnavailableError,
)
from plait.llm.prices import PRICES, Price, find_price

__all__ = [
    "PRICES",
    "LLMAuthError",
    "LLMError",
    "LLMReplyError",
    "LLMRequestError",
    "LLMTimeoutError",
    "LLMUnavailableError",
    "Price",
    "chat",
    "find_price",
]
