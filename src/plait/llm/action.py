"""`chat`, the built-in LLM action (`action: "plait.llm:chat"`).

One step attempt is one conversation: the call, and when the reply does not
match `response_schema`, up to `max_fix_attempts` follow-ups that show the model
what was wrong. Every call is checked against the run's budget before it is sent
and accounted (tokens and cost) after it returns. Endpoint failures become the
typed errors of `plait.llm.errors` and propagate, so the step's `RetryPolicy`
is the only retry loop: the SDK's own retries are off.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from plait.llm import local, schema
from plait.llm.errors import (
    LLMAuthError,
    LLMError,
    LLMReplyError,
    LLMRequestError,
    LLMTimeoutError,
    LLMUnavailableError,
)
from plait.llm.prices import PRICES_ENV, find_price

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from plait.context import StepContext

log = logging.getLogger("plait.llm")

DEFAULT_BASE_URL: Final = "https://api.openai.com/v1"
DEFAULT_KEY_ENV: Final = "OPENAI_API_KEY"
_NO_KEY: Final = "no-key"  # the SDK insists on some key; local servers ignore it
_RETRYABLE_STATUS: Final = frozenset({408, 409, 429})
_TRANSPORT: Final = frozenset({"httpx", "httpx2", "httpcore", "httpcore2", "h11", "anyio"})


@dataclass(slots=True)
class _Reply:
    """One model call's outcome, however it arrived (whole or streamed)."""

    content: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    model: str = ""
    finish_reason: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


async def chat(
    *,
    model: str,
    prompt: str | None = None,
    system: str | None = None,
    messages: Sequence[Mapping[str, Any]] | None = None,
    response_schema: Any = None,
    max_fix_attempts: int = 2,
    temperature: float | None = None,
    max_tokens: int | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    tool_choice: str | Mapping[str, Any] | None = None,
    response_format: Mapping[str, Any] | None = None,
    base_url: str | None = None,
    api_key_env: str | None = DEFAULT_KEY_ENV,
    timeout_seconds: float = 120.0,
    stream: bool = False,
    prices: Mapping[str, Mapping[str, float]] | None = None,
    context: StepContext | None = None,
) -> dict[str, Any]:
    """Ask a chat model, through any OpenAI-compatible endpoint.

    Args:
        model: The model name the endpoint knows, or `local:smollm2` for the offline model.
        prompt: The user message.
        system: The system message.
        messages: A whole chat (`[{role, content}, ...]`); `system` goes first and
            `prompt` last if they are given too.
        response_schema: A JSON schema, a pydantic model (or any type pydantic can
            validate), or `"module:Model"` text. The reply must be JSON of that shape.
        max_fix_attempts: How many times an invalid reply is sent back for fixing,
            within the same step attempt.
        temperature: Sampling temperature, passed through.
        max_tokens: Upper bound on the reply's tokens; also counted before the call
            against the run's budget.
        tools: OpenAI tool definitions; the model's tool calls come back in `tool_calls`.
        tool_choice: Passed through with `tools`.
        response_format: Passed through (e.g. `{"type": "json_object"}`) for
            endpoints that constrain their output.
        base_url: The endpoint; default `$OPENAI_BASE_URL`, else OpenAI's.
        api_key_env: The NAME of the environment variable holding the key. Loopback
            endpoints need none; None sends no key anywhere.
        timeout_seconds: Bound on each call, streamed replies included.
        stream: Stream the reply, reporting its text through `context.progress`.
        prices: `{model: {input, output}}` in USD per million tokens, over the built-in table.
        context: Given by the engine.

    Returns:
        `content`, `parsed` (the validated value, JSON-serialisable, or None),
        `tool_calls`, `model`, `usage` (`prompt_tokens`, `completion_tokens`,
        `total_tokens`, `cost_usd`, summed over the fix-up calls), `finish_reason`,
        and `notes` (e.g. that the model has no known price).

    Raises:
        LLMUnavailableError: the endpoint is unreachable, overloaded or failing.
        LLMTimeoutError: no complete reply within `timeout_seconds`.
        LLMAuthError: no key, or the key was refused.
        LLMRequestError: the inputs or the request are invalid.
        LLMReplyError: the reply still did not match `response_schema` after the fixes.
        BudgetExceededError: the call would pass, or has passed, the run's budget.
    """
    _check_inputs(model, max_fix_attempts, max_tokens, timeout_seconds)
    chat_messages = _build_messages(system, messages, prompt, model)
    shape = schema.resolve_schema(response_schema) if response_schema is not None else None
    if shape is not None:
        _add_instruction(chat_messages, shape.instruction())
    notes: list[str] = []
    price = find_price(model, prices)
    if price is None:
        notes.append(
            f"no price known for model {model!r}: its cost is counted as 0; "
            f"add it with the step's prices input or {PRICES_ENV}"
        )

    if model.startswith("local:"):
        name = model.removeprefix("local:")
        url = await local.base_url(name)
        key, sent_model = _NO_KEY, name
    else:
        url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        key, sent_model = _api_key(api_key_env, url, model), model

    request: dict[str, Any] = {"model": sent_model}
    for name_, value in (
        ("temperature", temperature),
        ("max_tokens", max_tokens),
        ("tools", [dict(t) for t in tools] if tools else None),
        ("tool_choice", tool_choice if tools else None),
        ("response_format", dict(response_format) if response_format else None),
    ):
        if value is not None:
            request[name_] = value

    import openai  # lazy: `import plait` stays fast, and only LLM steps need the SDK

    client = openai.AsyncOpenAI(base_url=url, api_key=key, max_retries=0, timeout=timeout_seconds)
    totals = [0, 0, 0.0]  # prompt tokens, completion tokens, cost
    parsed: Any = None
    async with client:
        fix = 0
        while True:
            estimate = _estimate_tokens(chat_messages, tools)
            if context is not None:
                ceiling = estimate + (max_tokens or 0)
                context.check_budget(
                    tokens=ceiling,
                    cost_usd=price.cost(estimate, max_tokens or 0) if price else 0.0,
                )
            request["messages"] = chat_messages
            log.debug("calling %s at %s (fix %d)", model, url, fix)
            reply = await _call(client, request, stream, timeout_seconds, context, model, key)
            if reply.prompt_tokens is None or reply.completion_tokens is None:
                reply.prompt_tokens = estimate
                reply.completion_tokens = _estimate_text(reply.content)
                note = "the endpoint reported no token usage: the counts are estimates"
                if note not in notes:
                    notes.append(note)
            cost = price.cost(reply.prompt_tokens, reply.completion_tokens) if price else 0.0
            totals[0] += reply.prompt_tokens
            totals[1] += reply.completion_tokens
            totals[2] += cost
            if context is not None:
                context.record_usage(
                    model=model,
                    prompt_tokens=reply.prompt_tokens,
                    completion_tokens=reply.completion_tokens,
                    cost_usd=cost,
                )
            if shape is None or reply.tool_calls:
                break
            try:
                parsed = shape.parse(reply.content)
                break
            except schema.ReplyInvalid as invalid:
                if fix >= max_fix_attempts:
                    raise LLMReplyError(
                        f"the reply did not match response_schema after {fix} fix "
                        f"request{'s' if fix != 1 else ''}: {invalid}",
                        model=model,
                        content=reply.content,
                        problems=invalid.problems,
                    ) from None
                fix += 1
                if context is not None and stream:
                    context.progress("\n[the reply did not match the schema; asking for a fix]\n")
                chat_messages = [
                    *chat_messages,
                    {"role": "assistant", "content": reply.content},
                    {"role": "user", "content": schema.fix_request(invalid.problems)},
                ]
    return {
        "content": reply.content,
        "parsed": parsed,
        "tool_calls": reply.tool_calls,
        "model": model if model.startswith("local:") else (reply.model or model),
        "usage": {
            "prompt_tokens": totals[0],
            "completion_tokens": totals[1],
            "total_tokens": totals[0] + totals[1],
            "cost_usd": totals[2],
        },
        "finish_reason": reply.finish_reason,
        "notes": notes,
    }


# --- one call -------------------------------------------------------------------------


async def _call(
    client: AsyncOpenAI,
    request: dict[str, Any],
    stream: bool,
    timeout_seconds: float,
    context: StepContext | None,
    model: str,
    key: str,
) -> _Reply:
    import openai

    try:
        async with asyncio.timeout(timeout_seconds):
            if stream:
                return await _streamed(client, request, context)
            response = await client.chat.completions.create(**request)
            return _whole(response)
    except TimeoutError:
        raise LLMTimeoutError(
            f"{model}: no complete reply within timeout_seconds={timeout_seconds:g}", model=model
        ) from None
    except openai.OpenAIError as exc:
        error = _translate(exc, model, key)
        if _redact(str(exc), key) == str(exc):
            raise error from exc
        # The endpoint quoted the key in its error: raise ours outside this block so
        # the SDK's error is not even its __context__.
    except Exception as exc:
        # A connection broken mid-stream surfaces from the HTTP library, unwrapped.
        if isinstance(exc, OSError) or type(exc).__module__.split(".")[0] in _TRANSPORT:
            raise LLMUnavailableError(
                _redact(f"{model}: the connection failed: {type(exc).__name__}: {exc}", key),
                model=model,
            ) from None
        raise
    raise error


def _redact(text: str, key: str) -> str:
    return text.replace(key, "[redacted]") if key and key != _NO_KEY else text


def _whole(response: Any) -> _Reply:
    reply = _Reply(model=str(response.model or ""))
    if response.choices:
        choice = response.choices[0]
        reply.content = choice.message.content or ""
        reply.finish_reason = str(choice.finish_reason or "")
        reply.tool_calls = [
            call.model_dump(mode="json", exclude_none=True)
            for call in (choice.message.tool_calls or ())
        ]
    if response.usage is not None:
        reply.prompt_tokens = response.usage.prompt_tokens
        reply.completion_tokens = response.usage.completion_tokens
    return reply


async def _streamed(
    client: AsyncOpenAI, request: dict[str, Any], context: StepContext | None
) -> _Reply:
    reply = _Reply()
    parts: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    stream = await client.chat.completions.create(
        **request, stream=True, stream_options={"include_usage": True}
    )
    async with stream:
        async for chunk in stream:
            if chunk.model:
                reply.model = chunk.model
            if chunk.usage is not None:
                reply.prompt_tokens = chunk.usage.prompt_tokens
                reply.completion_tokens = chunk.usage.completion_tokens
            for choice in chunk.choices:
                if choice.index != 0:
                    continue
                delta = choice.delta
                if delta.content:
                    parts.append(delta.content)
                    if context is not None:
                        context.progress(delta.content)
                for piece in delta.tool_calls or ():
                    call = calls.setdefault(
                        piece.index,
                        {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
                    )
                    if piece.id:
                        call["id"] = piece.id
                    if piece.function is not None:
                        call["function"]["name"] += piece.function.name or ""
                        call["function"]["arguments"] += piece.function.arguments or ""
                if choice.finish_reason:
                    reply.finish_reason = choice.finish_reason
    reply.content = "".join(parts)
    reply.tool_calls = [calls[i] for i in sorted(calls)]
    return reply


def _translate(exc: Exception, model: str, key: str) -> LLMError:
    """The plait error for an SDK error, with the key never in its text."""
    import openai

    detail = _redact(getattr(exc, "message", None) or str(exc), key)
    if isinstance(exc, openai.APITimeoutError):
        return LLMTimeoutError(f"{model}: the request timed out", model=model)
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__
        why = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
        return LLMUnavailableError(
            _redact(f"{model}: cannot reach {exc.request.url}{why}", key), model=model
        )
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        text = f"{model}: HTTP {status}: {_redact(_error_message(exc.body) or detail, key)}"
        if status in (401, 403):
            return LLMAuthError(text, model=model, status_code=status)
        if status in _RETRYABLE_STATUS or status >= 500:
            return LLMUnavailableError(text, model=model, status_code=status)
        return LLMRequestError(text, model=model, status_code=status)
    return LLMError(f"{model}: {type(exc).__name__}: {detail}", model=model)


def _error_message(body: object) -> str | None:
    """The `message` of an OpenAI-style error body (`{"error": {"message": ...}}`)."""
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        body = body["error"]
    if isinstance(body, Mapping) and body.get("message"):
        return str(body["message"])
    return None


# --- inputs ---------------------------------------------------------------------------


def _check_inputs(model: Any, max_fix_attempts: Any, max_tokens: Any, timeout_seconds: Any) -> None:
    if not isinstance(model, str) or not model.strip():
        raise LLMRequestError("the model input must be a non-empty model name")
    if not _is_int(max_fix_attempts) or max_fix_attempts < 0:
        raise LLMRequestError("max_fix_attempts must be a whole number, 0 or more")
    if max_tokens is not None and (not _is_int(max_tokens) or max_tokens < 1):
        raise LLMRequestError("max_tokens must be a whole number, 1 or more")
    if (
        not isinstance(timeout_seconds, int | float)
        or isinstance(timeout_seconds, bool)
        or not timeout_seconds > 0
    ):
        raise LLMRequestError("timeout_seconds must be a positive number")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _build_messages(
    system: str | None,
    messages: Sequence[Mapping[str, Any]] | None,
    prompt: str | None,
    model: str,
) -> list[dict[str, Any]]:
    chat: list[dict[str, Any]] = []
    if system:
        chat.append({"role": "system", "content": str(system)})
    for k, message in enumerate(messages or ()):
        if not isinstance(message, Mapping) or "role" not in message:
            raise LLMRequestError(
                f"messages[{k}] must be a mapping with a role and content", model=model
            )
        chat.append(dict(message))
    if prompt is not None and prompt != "":
        chat.append({"role": "user", "content": str(prompt)})
    if not any(m.get("role") != "system" for m in chat):
        raise LLMRequestError("the step needs a prompt or messages to send", model=model)
    return chat


def _add_instruction(chat: list[dict[str, Any]], instruction: str) -> None:
    first = chat[0]
    if first.get("role") == "system" and isinstance(first.get("content"), str):
        chat[0] = {**first, "content": f"{first['content']}\n\n{instruction}"}
    else:
        chat.insert(0, {"role": "system", "content": instruction})


def _api_key(env: str | None, url: str, model: str) -> str:
    if env is None:
        return _NO_KEY
    key = os.environ.get(env, "")
    if key:
        return key
    if _is_loopback(url):
        return _NO_KEY
    raise LLMAuthError(
        f"no API key for {url}: set the environment variable {env} "
        "(or name another one with the step's api_key_env input)",
        model=model,
    )


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- token estimates ------------------------------------------------------------------


def _estimate_text(text: str) -> int:
    # About four characters a token in English; a budget guard, not a tokenizer.
    return math.ceil(len(text) / 4)


def _estimate_tokens(
    chat: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None
) -> int:
    total = 3  # the reply's priming
    for message in chat:
        content = message.get("content")
        text = content if isinstance(content, str) else json.dumps(content, default=str)
        total += 4 + _estimate_text(text or "")
    if tools:
        total += _estimate_text(json.dumps(list(tools), default=str))
    return total
