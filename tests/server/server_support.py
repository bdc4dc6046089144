"""A real `plait serve` app on a loopback port, in a thread, and the workflows it serves.

Tests talk to it over HTTP with httpx (or a browser), as a client would. The
server's clock can be a `SteppedClock` that the test advances by hand, so cron
schedules fire without waiting.
"""

from __future__ import annotations

import asyncio
import socket
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn

from plait.server import ServerConfig, create_app

T = TypeVar("T")

ACTIONS = '''
import asyncio
from pathlib import Path


def echo(**kwargs):
    kwargs.pop("context", None)
    return kwargs


def shout(text):
    return {"text": str(text).upper(), "length": len(str(text))}


def total(a, b):
    return {"sum": a + b}


async def hold(gate, value=None):
    """Wait until the file `gate` exists: a step the test finishes when it wants."""
    for _ in range(12000):
        if Path(gate).exists():
            return {"value": value}
        await asyncio.sleep(0.01)
    raise TimeoutError(f"gate {gate} never opened")


def explode(message="boom"):
    raise ValueError(message)
'''

WORKFLOWS: dict[str, str] = {
    "greet.yaml": """
        workflow_id: greet
        name: Greet
        description: Say hello, then shout it.
        inputs:
          name: {type: string, required: true, description: Who to greet}
          times: {type: integer, default: 1}
          loud: {type: boolean, default: false}
          tags: {type: array, default: []}
        steps:
          - step_id: hello
            agent: writer
            action: acts.py:echo
            inputs: {text: "hello {{ inputs.name }}", times: "{{ inputs.times }}"}
          - step_id: shout
            agent: writer
            action: acts.py:shout
            inputs: {text: "{{ hello.result.text }}"}
          - step_id: measure
            action: acts.py:echo
            inputs: {length: "{{ shout.result.length }}", loud: "{{ inputs.loud }}"}
        output: "{{ shout.result.text }}"
    """,
    "review.yaml": """
        workflow_id: review
        name: Review
        description: A person approves a draft before it is published.
        inputs:
          draft: {type: string, default: "a draft"}
        steps:
          - step_id: write
            action: acts.py:echo
            inputs: {draft: "{{ inputs.draft }}"}
          - step_id: approve
            kind: approval
            approval: {prompt: "Publish this draft?", assignees: [editors]}
            inputs: {draft: "{{ write.result.draft }}"}
          - step_id: publish
            action: acts.py:echo
            inputs: {published: "{{ write.result.draft }}", answer: "{{ approve.result }}"}
    """,
    "gated.yaml": """
        workflow_id: gated
        name: Gated
        description: A step that waits for a file, then one more step.
        inputs:
          gate: {type: string, required: true}
        steps:
          - step_id: wait
            action: acts.py:hold
            inputs: {gate: "{{ inputs.gate }}", value: 1}
          - step_id: after
            action: acts.py:echo
            inputs: {got: "{{ wait.result.value }}"}
    """,
    "failing.yaml": """
        workflow_id: failing
        name: Failing
        description: Always fails, once.
        steps:
          - step_id: bad
            action: acts.py:explode
            retry_count: 1
    """,
    "signup.yaml": """
        workflow_id: on_signup
        name: On signup
        description: Greets enterprise customers when they sign up.
        inputs:
          customer: {type: string, required: true}
          plan: {type: string, required: true}
          event: {type: object, default: {}}
        triggers:
          - event: customer_signup
            filter: "data.plan == 'enterprise'"
            inputs:
              customer: "{{ event.data.customer_id }}"
              plan: "{{ event.data.plan }}"
              event: "{{ event }}"
        steps:
          - step_id: welcome
            action: acts.py:echo
            inputs: {to: "{{ inputs.customer }}", note: "plan {{ inputs.plan }}"}
    """,
    "audit.yaml": """
        workflow_id: audit
        name: Audit
        description: Records every signup, whatever the plan.
        inputs:
          who: {type: string, required: true}
        triggers:
          - event: customer_signup
            inputs: {who: "{{ event.data.customer_id }}"}
          - event: typed_signup
            inputs: {who: "{{ event.data.count }}"}
        steps:
          - step_id: record
            action: acts.py:echo
            inputs: {who: "{{ inputs.who }}"}
    """,
    "notes/readme.json": '{"not": "a workflow"}',
    "broken.yaml": """
        workflow_id: broken
        name: Broken
        steps:
          - step_id: a
            action: acts.py:nowhere
    """,
}


def write_workflows(folder: Path, workflows: dict[str, str] | None = None) -> Path:
    """The served folder: `acts.py` and the workflow files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "acts.py").write_text(ACTIONS, encoding="utf-8")
    for name, text in (WORKFLOWS if workflows is None else workflows).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return folder


class SteppedClock:
    """A `Clock` that moves only when a test calls `advance`, from any thread."""

    def __init__(self, start: float) -> None:
        self.now = start
        self._lock = threading.Lock()
        self._sleepers: list[tuple[float, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (self.now + seconds, loop, future)
        with self._lock:
            self._sleepers.append(entry)
        try:
            await future
        finally:
            with self._lock:
                if entry in self._sleepers:
                    self._sleepers.remove(entry)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds
            due = [e for e in self._sleepers if e[0] <= self.now]
            for e in due:
                self._sleepers.remove(e)
        for _, loop, future in due:
            loop.call_soon_threadsafe(_wake, future)

    def sleepers(self) -> int:
        """How many sleeps are waiting for a later time (the scheduler is idle when > 0)."""
        with self._lock:
            return len(self._sleepers)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Server:
    """`create_app(config)` served by uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.app = create_app(config)
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say they are
        # TCP, and without it every keep-alive response waits ~40 ms on delayed ACKs.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, log_level="warning", lifespan="on", ws="none")
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> Server:
        self._thread.start()
        wait_for(lambda: self._server.started or not self._thread.is_alive(), "server start")
        if not self._server.started:
            raise RuntimeError("the server did not start (see the log above)")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._socket.close()

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@contextmanager
def serving(config: ServerConfig) -> Iterator[Server]:
    server = Server(config).start()
    try:
        yield server
    finally:
        server.stop()


def config_for(folder: Path, store: Path, **changes: Any) -> ServerConfig:
    return replace(ServerConfig(store_url=f"sqlite:///{store}", workflows_dir=folder), **changes)


def wait_for(check: Callable[[], T], what: str, *, patience: float = 30.0) -> T:
    """Poll `check` until it returns something truthy (10 ms apart; gives up after `patience` s).

    The bound only keeps a broken test from hanging; no test asserts on how long it took.
    """
    give_up = time.monotonic() + patience
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > give_up:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def run_status(client: httpx.Client, run_id: str) -> str:
    status: str = client.get(f"/api/runs/{run_id}").json()["run"]["status"]
    return status


def wait_status(client: httpx.Client, run_id: str, *statuses: str) -> dict[str, Any]:
    """The run's detail once its status is one of `statuses`."""

    def check() -> dict[str, Any] | None:
        detail: dict[str, Any] = client.get(f"/api/runs/{run_id}").json()
        return detail if detail["run"]["status"] in statuses else None

    return wait_for(check, f"run {run_id} to be {' or '.join(statuses)}")
