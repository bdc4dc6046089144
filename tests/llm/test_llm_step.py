"""The LLM step run by the real engine against a scripted OpenAI-compatible server."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from llm_fakes import KEY_ENV, TEST_KEY, FakeOpenAI, Recorder, Reply
from pydantic import BaseModel

import plait
import plait.llm
from plait import events
from plait.definition import Budget
from plait.loader import parse_workflow

FAST = plait.RetryPolicy(initial_delay=0.01, max_delay=0.05, jitter=0)
PRICE = {"served-model": {"input": 1000.0, "output": 2000.0}}  # USD per million tokens


class Person(BaseModel):
    name: str
    age: int


PERSON_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


def llm_step(
    server: FakeOpenAI, step_id: str = "ask", retry_count: int = 3, **inputs: Any
) -> plait.WorkflowStep:
    base = {
        "model": "served-model",
        "prompt": "Hello?",
        "base_url": server.url,
        "api_key_env": KEY_ENV,
        "timeout_seconds": 10,
    }
    return plait.WorkflowStep(
        step_id=step_id,
        action=plait.llm.chat,
        inputs={**base, **inputs},
        retry_count=retry_count,
        retry=FAST,
    )


async def run(
    *steps: plait.WorkflowStep, budget: Budget | None = None, recorder: Recorder | None = None
) -> dict[str, Any]:
    workflow = plait.WorkflowDefinition(
        workflow_id="llm", name="llm", description="", steps=list(steps), budget=budget
    )
    engine = plait.WorkflowEngine(listeners=[recorder] if recorder else [])
    return await engine.execute_workflow(workflow)


async def spent(context: Any) -> dict[str, Any]:
    """A plain step that reports what the run has spent so far."""
    return dict(context.usage)


# --- replies ------------------------------------------------------------------------


async def test_plain_reply(llm_server: FakeOpenAI) -> None:
    llm_server.queue(Reply(content="Hi there."))
    result = await run(llm_step(llm_server, system="Be brief.", temperature=0.2, max_tokens=50))

    assert result["status"] == "completed", result["error"]
    answer = result["results"]["ask"]
    assert answer == {
        "content": "Hi there.",
        "parsed": None,
        "tool_calls": [],
        "model": "served-model",
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17, "cost_usd": 0.0},
        "finish_reason": "stop",
        "notes": [
            "no price known for model 'served-model': its cost is counted as 0; "
            "add it with the step's prices input or PLAIT_LLM_PRICES"
        ],
    }
    json.dumps(answer)  # results are stored as JSON
    (seen,) = llm_server.requests
    assert seen.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert seen.body["model"] == "served-model"
    assert seen.body["temperature"] == 0.2
    assert seen.body["max_tokens"] == 50
    assert seen.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello?"},
    ]


async def test_yaml_step_interpolates_and_chains(llm_server: FakeOpenAI) -> None:
    llm_server.queue(Reply(content="Cats sleep a lot."), Reply(content="Sleepy cats."))
    text = f"""
workflow_id: summarise
inputs:
  text: {{type: string}}
steps:
  - step_id: extract
    action: "plait.llm:chat"
    inputs:
      model: served-model
      base_url: "{llm_server.url}"
      api_key_env: {KEY_ENV}
      prompt: "Extract the facts: {{{{ inputs.text }}}}"
  - step_id: summarise
    action: "plait.llm:chat"
    inputs:
      model: served-model
      base_url: "{llm_server.url}"
      api_key_env: {KEY_ENV}
      messages:
        - {{role: system, content: "You summarise."}}
      prompt: "Summarise: {{{{ extract.result.content }}}}"
"""
    workflow = parse_workflow(text)
    result = await plait.WorkflowEngine().execute_workflow(workflow, {"text": "Cats nap."})

    assert result["status"] == "completed", result["error"]
    assert result["results"]["summarise"]["content"] == "Sleepy cats."
    first, second = llm_server.requests
    assert first.messages == [{"role": "user", "content": "Extract the facts: Cats nap."}]
    assert second.messages == [
        {"role": "system", "content": "You summarise."},
        {"role": "user", "content": "Summarise: Cats sleep a lot."},
    ]


async def test_messages_without_a_prompt(llm_server: FakeOpenAI) -> None:
    llm_server.queue(Reply(content="4"))
    chat = [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "And again?"},
    ]
    result = await run(llm_step(llm_server, prompt=None, messages=chat))
    assert result["status"] == "completed", result["error"]
    assert llm_server.requests[0].messages == chat


# --- structured replies -------------------------------------------------------------


@pytest.mark.parametrize(
    "response_schema",
    [
        pytest.param(PERSON_SCHEMA, id="json-schema"),
        pytest.param(Person, id="pydantic-model"),
        pytest.param(f"{__name__}:Person", id="module-text"),
    ],
)
async def test_schema_validated_reply(llm_server: FakeOpenAI, response_schema: Any) -> None:
    llm_server.queue(Reply(content='```json\n{"name": "Ada", "age": 36}\n```'))
    result = await run(llm_step(llm_server, response_schema=response_schema))

    assert result["status"] == "completed", result["error"]
    assert result["results"]["ask"]["parsed"] == {"name": "Ada", "age": 36}
    system = llm_server.requests[0].messages[0]
    assert system["role"] == "system"
    assert "JSON schema" in system["content"] and '"age"' in system["content"]


async def test_invalid_reply_is_sent_back_and_fixed(llm_server: FakeOpenAI) -> None:
    bad = '{"name": "Ada", "age": "thirty-six"}'
    llm_server.queue(Reply(content=bad, usage=(20, 8)), Reply(content='{"name": "Ada", "age": 36}'))
    recorder = Recorder()
    result = await run(
        llm_step(llm_server, response_schema=PERSON_SCHEMA, prices=PRICE), recorder=recorder
    )

    assert result["status"] == "completed", result["error"]
    assert result["steps"]["ask"]["attempts"] == 1  # fixed within the same attempt
    answer = result["results"]["ask"]
    assert answer["parsed"] == {"name": "Ada", "age": 36}
    assert answer["usage"]["prompt_tokens"] == 20 + 12
    assert answer["usage"]["completion_tokens"] == 8 + 5
    first, second = llm_server.requests
    assert second.messages[: len(first.messages)] == first.messages
    assert second.messages[-2] == {"role": "assistant", "content": bad}
    follow_up = second.messages[-1]
    assert follow_up["role"] == "user"
    assert "at $.age: 'thirty-six' is not of type 'integer'" in follow_up["content"]
    assert [(u.attempt, u.prompt_tokens) for u in recorder.of(events.StepUsage)] == [
        (1, 20),
        (1, 12),
    ]


async def test_reply_never_fixed_fails_the_attempt(llm_server: FakeOpenAI) -> None:
    llm_server.queue(Reply(content="not json"), Reply(content="[1, 2]"))
    result = await run(
        llm_step(llm_server, retry_count=1, response_schema=Person, max_fix_attempts=1)
    )

    assert result["status"] == "failed"
    assert result["error"].startswith("LLMReplyError: the reply did not match response_schema")
    assert len(llm_server.requests) == 2
    assert "the reply is not JSON" in llm_server.requests[1].messages[-1]["content"]


# --- usage, cost and budget ---------------------------------------------------------


async def test_usage_and_cost_per_attempt_and_per_run(llm_server: FakeOpenAI) -> None:
    # Attempt 1 gets an unfixable reply (no fixes allowed); attempt 2 a good one.
    llm_server.queue(
        Reply(content="nope", usage=(100, 10)),
        Reply(content='{"name": "Ada", "age": 36}', usage=(100, 20)),
        Reply(content="done", usage=(50, 5)),
    )
    recorder = Recorder()
    result = await run(
        llm_step(llm_server, response_schema=Person, max_fix_attempts=0, prices=PRICE),
        llm_step(llm_server, step_id="more", prompt="{{ ask.result.content }}", prices=PRICE),
        plait.WorkflowStep(step_id="total", action=spent, dependencies=["more"]),
        recorder=recorder,
    )

    assert result["status"] == "completed", result["error"]
    usages = [
        (u.step_id, u.attempt, u.model, u.prompt_tokens, u.completion_tokens, u.cost_usd)
        for u in recorder.of(events.StepUsage)
    ]
    assert usages == [
        ("ask", 1, "served-model", 100, 10, pytest.approx((100 * 1000 + 10 * 2000) / 1e6)),
        ("ask", 2, "served-model", 100, 20, pytest.approx((100 * 1000 + 20 * 2000) / 1e6)),
        ("more", 1, "served-model", 50, 5, pytest.approx((50 * 1000 + 5 * 2000) / 1e6)),
    ]
    assert result["results"]["ask"]["usage"]["cost_usd"] == pytest.approx(0.14)
    assert result["results"]["ask"]["notes"] == []
    total = result["results"]["total"]
    assert total["prompt_tokens"] == 250
    assert total["completion_tokens"] == 35
    assert total["total_tokens"] == 285
    assert total["cost_usd"] == pytest.approx(0.12 + 0.14 + 0.06)


async def test_prices_file_from_the_environment(
    llm_server: FakeOpenAI, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    prices_file = tmp_path / "prices.json"
    prices_file.write_text(json.dumps({"served-model": {"input": 10, "output": 20}}))
    monkeypatch.setenv("PLAIT_LLM_PRICES", str(prices_file))
    llm_server.queue(Reply(content="ok", usage=(1000, 500)))
    result = await run(llm_step(llm_server))
    assert result["results"]["ask"]["usage"]["cost_usd"] == pytest.approx(0.02)


async def test_token_budget_stops_the_call_before_it_is_sent(llm_server: FakeOpenAI) -> None:
    result = await run(llm_step(llm_server, max_tokens=500), budget=Budget(max_tokens=100))

    assert result["status"] == "failed"
    assert result["error"].startswith("BudgetExceededError: step 'ask': the run would spend")
    assert "budget.max_tokens" in result["error"]
    assert llm_server.requests == []


async def test_budget_stop_is_not_retried(llm_server: FakeOpenAI) -> None:
    result = await run(llm_step(llm_server, max_tokens=500), budget=Budget(max_tokens=100))
    assert result["steps"]["ask"]["attempts"] == 1


async def test_cost_budget_stops_a_later_call(llm_server: FakeOpenAI) -> None:
    llm_server.queue(Reply(content="a", usage=(10, 5)), Reply(content="never sent"))
    result = await run(
        llm_step(llm_server, step_id="first", prices=PRICE),
        llm_step(
            llm_server,
            step_id="second",
            prompt="{{ first.result.content }}",
            prices=PRICE,
            max_tokens=10,
        ),
        budget=Budget(max_cost_usd=0.03),
    )

    assert result["status"] == "failed"
    assert result["failed_step"] == "second"
    assert "budget.max_cost_usd" in result["error"]
    assert len(llm_server.requests) == 1  # the over-budget call never reached the server
    assert result["results"]["first"]["usage"]["cost_usd"] == pytest.approx(0.02)


# --- failures and retries -----------------------------------------------------------


async def test_server_error_is_retried_then_succeeds(llm_server: FakeOpenAI) -> None:
    llm_server.queue(Reply(status=500, error="overloaded"), Reply(content="fine now"))
    recorder = Recorder()
    result = await run(llm_step(llm_server), recorder=recorder)

    assert result["status"] == "completed", result["error"]
    assert result["steps"]["ask"]["attempts"] == 2
    assert result["results"]["ask"]["content"] == "fine now"
    (retrying,) = recorder.of(events.StepRetrying)
    assert isinstance(retrying.error, plait.llm.LLMUnavailableError)
    assert retrying.error.status_code == 500
    assert "overloaded" in str(retrying.error)


async def test_rate_limit_is_retried(llm_server: FakeOpenAI) -> None:
    llm_server.queue(Reply(status=429, error="slow down"), Reply(content="ok"))
    result = await run(llm_step(llm_server))
    assert result["status"] == "completed", result["error"]
    assert result["steps"]["ask"]["attempts"] == 2


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_timeout_is_retried(llm_server: FakeOpenAI, stream: bool) -> None:
    llm_server.queue(Reply(content="late", delay=30), Reply(content="on time"))
    recorder = Recorder()
    result = await run(llm_step(llm_server, timeout_seconds=0.3, stream=stream), recorder=recorder)

    assert result["status"] == "completed", result["error"]
    assert result["steps"]["ask"]["attempts"] == 2
    assert result["results"]["ask"]["content"] == "on time"
    (retrying,) = recorder.of(events.StepRetrying)
    assert isinstance(retrying.error, plait.llm.LLMTimeoutError)
    assert isinstance(retrying.error, TimeoutError)


async def test_unreachable_endpoint_is_retried_until_attempts_run_out() -> None:
    server = FakeOpenAI()  # bound but never serving, then closed: its port refuses
    url = server.url
    server.close()
    step = plait.WorkflowStep(
        step_id="ask",
        action=plait.llm.chat,
        inputs={"model": "m", "prompt": "hi", "base_url": url, "timeout_seconds": 5},
        retry_count=2,
        retry=FAST,
    )
    result = await run(step)
    assert result["status"] == "failed"
    assert result["steps"]["ask"]["attempts"] == 2
    assert result["error"].startswith("LLMUnavailableError: m: cannot reach")


async def test_refused_key_fails_at_once_with_no_retry_on(llm_server: FakeOpenAI) -> None:
    llm_server.queue(Reply(status=401, error="invalid key", echo_key=True), Reply(content="x"))
    text = f"""
workflow_id: auth
steps:
  - step_id: ask
    action: "plait.llm:chat"
    retry: {{initial_delay: 0.01, jitter: 0, no_retry_on: [plait.llm.LLMRequestError]}}
    inputs:
      model: served-model
      prompt: hi
      base_url: "{llm_server.url}"
      api_key_env: {KEY_ENV}
"""
    result = await plait.WorkflowEngine().execute_workflow(parse_workflow(text))

    assert result["status"] == "failed"
    assert result["steps"]["ask"]["attempts"] == 1
    assert result["error"].startswith("LLMAuthError: served-model: HTTP 401: invalid key")
    assert "[redacted]" in result["error"] and TEST_KEY not in result["error"]


async def test_missing_key_names_the_variable() -> None:
    step = plait.WorkflowStep(
        step_id="ask",
        action=plait.llm.chat,
        inputs={"model": "gpt-4o-mini", "prompt": "hi", "base_url": "https://llm.invalid/v1"},
        retry_count=1,
    )
    result = await run(step)
    assert result["status"] == "failed"
    assert "set the environment variable OPENAI_API_KEY" in result["error"]
    assert result["error"].startswith("LLMAuthError")


async def test_loopback_endpoint_needs_no_key(
    llm_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    llm_server.queue(Reply(content="no key needed"))
    result = await run(llm_step(llm_server))
    assert result["status"] == "completed", result["error"]
    assert TEST_KEY not in llm_server.requests[0].headers.get("authorization", "")


# --- streaming and tools ------------------------------------------------------------


async def test_streamed_tokens_reach_progress_events(llm_server: FakeOpenAI) -> None:
    llm_server.queue(Reply(content="Streaming works, token by token.", usage=(30, 7)))
    recorder = Recorder()
    result = await run(llm_step(llm_server, stream=True, prices=PRICE), recorder=recorder)

    assert result["status"] == "completed", result["error"]
    answer = result["results"]["ask"]
    assert answer["content"] == "Streaming works, token by token."
    assert answer["finish_reason"] == "stop"
    assert answer["usage"]["prompt_tokens"] == 30
    progress = recorder.of(events.StepProgress)
    assert len(progress) == 5
    assert "".join(p.text for p in progress) == answer["content"]
    assert {(p.step_id, p.attempt) for p in progress} == {("ask", 1)}
    (usage,) = recorder.of(events.StepUsage)
    assert (usage.prompt_tokens, usage.completion_tokens) == (30, 7)
    assert llm_server.requests[0].body["stream_options"] == {"include_usage": True}


async def test_stream_without_usage_is_estimated(llm_server: FakeOpenAI) -> None:
    llm_server.queue(Reply(content="twelve chars", usage=None))
    result = await run(llm_step(llm_server, stream=True))
    answer = result["results"]["ask"]
    assert answer["usage"]["completion_tokens"] == 3
    assert answer["usage"]["prompt_tokens"] > 0
    assert any("estimates" in note for note in answer["notes"])


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
WEATHER_CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris, France"}'},
}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_tool_calls_are_returned(llm_server: FakeOpenAI, stream: bool) -> None:
    llm_server.queue(Reply(tool_calls=[WEATHER_CALL]))
    result = await run(
        llm_step(
            llm_server,
            tools=[WEATHER_TOOL],
            tool_choice="auto",
            stream=stream,
            response_schema=PERSON_SCHEMA,
        )
    )

    assert result["status"] == "completed", result["error"]
    answer = result["results"]["ask"]
    assert answer["tool_calls"] == [WEATHER_CALL]
    assert answer["finish_reason"] == "tool_calls"
    assert answer["content"] == "" and answer["parsed"] is None  # no schema check on tool calls
    assert llm_server.requests[0].body["tools"] == [WEATHER_TOOL]
    assert llm_server.requests[0].body["tool_choice"] == "auto"


# --- the key stays secret -----------------------------------------------------------


def _everything(value: Any, seen: set[int] | None = None) -> str:
    """Text of an event, result or error, following exception causes."""
    seen = seen if seen is not None else set()
    if id(value) in seen:
        return ""
    seen.add(id(value))
    if isinstance(value, BaseException):
        parts = [repr(value), str(value), repr(value.args)]
        for linked in (value.__cause__, value.__context__):
            if linked is not None:
                parts.append(_everything(linked, seen))
        parts.extend(_everything(v, seen) for v in vars(value).values())
        return "\n".join(parts)
    if isinstance(value, Mapping):
        return "\n".join(f"{k}={_everything(v, seen)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "\n".join(_everything(v, seen) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return "\n".join(
            _everything(getattr(value, name), seen) for name in value.__dataclass_fields__
        )
    return repr(value)


async def test_api_key_never_appears_in_events_results_or_logs(
    llm_server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    llm_server.queue(
        Reply(status=503, error="bad gateway", echo_key=True),
        Reply(content="streamed", usage=(3, 1)),
        Reply(status=500, error="boom", echo_key=True),
        Reply(content="ok"),
    )
    recorder = Recorder()
    result = await run(
        llm_step(llm_server, step_id="a", stream=True),
        llm_step(llm_server, step_id="b", prompt="{{ a.result.content }}"),
        recorder=recorder,
    )

    assert result["status"] == "completed", result["error"]
    assert result["steps"]["a"]["attempts"] == 2 and result["steps"]["b"]["attempts"] == 2
    assert any(TEST_KEY in r.headers.get("authorization", "") for r in llm_server.requests)
    assert len(recorder.events) > 10
    for text in (
        _everything(recorder.events),
        _everything(result),
        json.dumps(result, default=str),
        caplog.text,
    ):
        assert TEST_KEY not in text


async def test_a_refused_key_is_final_even_without_no_retry_on(llm_server: FakeOpenAI) -> None:
    # LLMAuthError says retryable = False; the engine honours it under the default policy.
    llm_server.queue(Reply(status=401, error="invalid key"), Reply(content="never asked"))
    result = await run(llm_step(llm_server))
    assert result["status"] == "failed"
    assert result["steps"]["ask"]["attempts"] == 1
    assert len(llm_server.requests) == 1


async def test_the_market_research_example_synthesises_with_the_llm_when_asked(
    llm_server: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plait.loader import load_workflow

    repo = Path(__file__).parents[2]
    monkeypatch.chdir(repo)
    monkeypatch.setenv("OPENAI_BASE_URL", f"{llm_server.url}")
    reply = {
        "headline": "Lead on maintenance",
        "opportunities": ["Bundle alerts"],
        "risks": ["Price war"],
        "actions": ["Ship the add-on"],
    }
    llm_server.queue(Reply(content=json.dumps(reply)))
    definition = load_workflow(repo / "examples" / "market_research.yaml")
    result = await plait.WorkflowEngine().execute_workflow(
        definition,
        {"use_llm": True, "llm_model": "served-model", "output_path": str(tmp_path / "report.md")},
    )

    assert result["status"] == "completed", result["error"]
    assert result["steps"]["synthesize_offline"]["status"] == "skipped"
    assert result["results"]["synthesize_llm"]["parsed"] == reply
    prompt = llm_server.requests[0].messages[-1]["content"]
    assert "Competitors:" in prompt and "Halden Systems" in prompt
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "Lead on maintenance" in report and "Ship the add-on" in report


async def test_the_decision_example_writes_its_recommendation_with_the_llm_when_asked(
    llm_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plait.loader import load_workflow

    repo = Path(__file__).parents[2]
    monkeypatch.chdir(repo)
    monkeypatch.setenv("OPENAI_BASE_URL", f"{llm_server.url}")
    reply = {"headline": "Invest, with a board seat", "next_steps": ["Sign the term sheet"]}
    llm_server.queue(Reply(content=json.dumps(reply)))
    definition = load_workflow(repo / "examples" / "investment_decision.yaml")
    offline = await plait.WorkflowEngine().execute_workflow(definition)
    result = await plait.WorkflowEngine().execute_workflow(
        definition, {"use_llm": True, "llm_model": "served-model"}
    )

    assert result["status"] == "completed", result["error"]
    assert result["steps"]["recommend_offline"]["status"] == "skipped"
    assert result["output"]["recommendation"] == "Invest, with a board seat"
    assert result["output"]["next_steps"] == ["Sign the term sheet"]
    assert result["output"]["decision"] == offline["output"]["decision"] == "invest"
    assert '"decision": "invest"' in llm_server.requests[0].messages[-1]["content"]
