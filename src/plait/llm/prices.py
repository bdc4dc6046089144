"""What a model call costs: USD per million input and output tokens.

The built-in table holds providers' public list prices as last checked (see
`CHECKED`). Prices change and discounts (batch, cached input, contracts) are not
modelled, so treat these figures as defaults to check and override: per step
with the `prices` input, or for every run with a JSON file named by the
`PLAIT_LLM_PRICES` environment variable; both take `{model: {input, output}}`.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from plait.llm.errors import LLMRequestError

CHECKED: Final = "2025-06"
"""When the built-in figures were last compared with the providers' price pages."""

PRICES_ENV: Final = "PLAIT_LLM_PRICES"
"""Environment variable naming a JSON file of price overrides."""


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """USD for this many tokens in and out."""
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1_000_000


FREE: Final = Price(0.0, 0.0)

PRICES: Final[Mapping[str, Price]] = {
    # OpenAI
    "gpt-5": Price(1.25, 10.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano": Price(0.05, 0.40),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4-turbo": Price(10.00, 30.00),
    "gpt-4": Price(30.00, 60.00),
    "gpt-3.5-turbo": Price(0.50, 1.50),
    "o1": Price(15.00, 60.00),
    "o1-mini": Price(1.10, 4.40),
    "o3": Price(2.00, 8.00),
    "o3-mini": Price(1.10, 4.40),
    "o4-mini": Price(1.10, 4.40),
    # Anthropic (through an OpenAI-compatible endpoint)
    "claude-opus-4": Price(15.00, 75.00),
    "claude-sonnet-4": Price(3.00, 15.00),
    "claude-3-7-sonnet": Price(3.00, 15.00),
    "claude-3-5-sonnet": Price(3.00, 15.00),
    "claude-3-5-haiku": Price(0.80, 4.00),
    "claude-3-haiku": Price(0.25, 1.25),
    # Google
    "gemini-2.5-pro": Price(1.25, 10.00),
    "gemini-2.5-flash": Price(0.30, 2.50),
    "gemini-2.5-flash-lite": Price(0.10, 0.40),
    "gemini-2.0-flash": Price(0.10, 0.40),
    "gemini-1.5-pro": Price(1.25, 5.00),
    "gemini-1.5-flash": Price(0.075, 0.30),
    # Mistral
    "mistral-large": Price(2.00, 6.00),
    "mistral-small": Price(0.10, 0.30),
    # DeepSeek
    "deepseek-chat": Price(0.27, 1.10),
    "deepseek-reasoner": Price(0.55, 2.19),
}
"""Built-in list prices (USD per million tokens); check them against your provider's."""


def find_price(model: str, overrides: Mapping[str, Any] | None = None) -> Price | None:
    """The price of `model`, or None when no table knows it.

    Step overrides win over the `PLAIT_LLM_PRICES` file, which wins over the
    built-in table. In each, an exact name wins over a dated or suffixed one:
    `gpt-4o-2024-08-06` is priced as `gpt-4o`, and `openai/gpt-4o` as `gpt-4o`.
    `local:` models are free.
    """
    if model.startswith("local:"):
        return FREE
    tables: list[Mapping[str, Price]] = []
    if overrides:
        tables.append(parse_prices(overrides, "the step's prices input"))
    path = os.environ.get(PRICES_ENV)
    if path:
        tables.append(_load_file(path))
    tables.append(PRICES)
    names = [model.lower()]
    if "/" in model:
        names.append(model.rsplit("/", 1)[1].lower())
    for table in tables:
        for name in names:
            found = _lookup(table, name)
            if found is not None:
                return found
    return None


def parse_prices(raw: Mapping[str, Any], where: str) -> dict[str, Price]:
    """Check `{model: {input: x, output: y}}` and turn it into `Price` values."""
    table: dict[str, Price] = {}
    for model, spec in raw.items():
        if isinstance(spec, Price):
            table[str(model).lower()] = spec
            continue
        if not isinstance(spec, Mapping) or set(spec) != {"input", "output"}:
            raise LLMRequestError(
                f"{where}: the price of {model!r} must be {{input: USD, output: USD}} "
                "per million tokens"
            )
        values = [spec["input"], spec["output"]]
        if not all(_is_price(v) for v in values):
            raise LLMRequestError(
                f"{where}: the price of {model!r} must be two non-negative numbers"
            )
        table[str(model).lower()] = Price(float(values[0]), float(values[1]))
    return table


def _is_price(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _lookup(table: Mapping[str, Price], name: str) -> Price | None:
    found = table.get(name)
    if found is not None:
        return found
    best = ""
    for key in table:  # the longest key that `name` extends with "-suffix"
        if len(key) > len(best) and name.startswith(key + "-"):
            best = key
    return table[best] if best else None


def _load_file(path: str) -> Mapping[str, Price]:
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise LLMRequestError(f"{PRICES_ENV}={path!r}: cannot read the file: {exc}") from None
    return _load_cached(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, _mtime_ns: int, _size: int) -> Mapping[str, Price]:
    # Keyed on mtime and size too, so an edited file is read again.
    where = f"{PRICES_ENV}={path!r}"
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LLMRequestError(f"{where}: cannot read the file as JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise LLMRequestError(f"{where}: the file must hold {{model: {{input, output}}}}")
    return parse_prices(raw, where)
