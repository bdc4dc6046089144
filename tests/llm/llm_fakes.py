"""A scripted OpenAI-compatible server on loopback, for the LLM step's tests.

The server speaks POST /v1/chat/completions: whole JSON replies, server-sent
events when the request asks for `stream: true` (with a final usage chunk when
`stream_options.include_usage` is set), tool calls, error statuses and delays.
Each test queues the replies it wants and reads back the requests it caused.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from plait import events

TEST_KEY = "sk-plait-test-5up3r-s3cr3t-k3y"
KEY_ENV = "PLAIT_TEST_LLM_KEY"


@dataclass
class Reply:
    """One scripted answer of the fake server."""

    content: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    error: str = "scripted failure"
    delay: float = 0.0
    """Seconds to wait before answering (cut short when the server closes)."""
    usage: tuple[int, int] | None = (12, 5)
    finish_reason: str | None = None
    model: str = "served-model"
    echo_key: bool = False
    """Quote the request's Authorization header in the error, as careless endpoints do."""


@dataclass
class Seen:
    """One request the server received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads: no stray sockets
    block_on_close = True


class FakeOpenAI:
    """The scripted server; `url` is its OpenAI base URL."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._closing.set()
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()

    def _next(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            if self.replies:
                return self.replies.popleft()
        return Reply(status=500, error="the test queued no reply for this request")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                if self.path != "/v1/chat/completions":
                    self._json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                reply = fake._next(seen)
                if reply.delay:
                    fake._closing.wait(reply.delay)
                try:
                    if reply.status != 200:
                        message = reply.error
                        if reply.echo_key:
                            message += f" (got {seen.headers.get('authorization', '')})"
                        self._json(reply.status, {"error": {"message": message, "type": "test"}})
                    elif body.get("stream"):
                        self._stream(reply, body)
                    else:
                        self._json(200, _completion(reply))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, reply: Reply, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for chunk in _chunks(reply, body):
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        return Handler


def _usage(reply: Reply) -> dict[str, int] | None:
    if reply.usage is None:
        return None
    prompt, completion = reply.usage
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _finish(reply: Reply) -> str:
    return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")


def _completion(reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
    if reply.tool_calls:
        message["tool_calls"] = reply.tool_calls
    payload: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": reply.model,
        "choices": [{"index": 0, "message": message, "finish_reason": _finish(reply)}],
    }
    usage = _usage(reply)
    if usage is not None:
        payload["usage"] = usage
    return payload


def _chunks(reply: Reply, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    def chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": reply.model,
            "choices": choices,
            **extra,
        }

    yield chunk([{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}])
    for token in re.findall(r"\S+\s*|\s+", reply.content):
        yield chunk([{"index": 0, "delta": {"content": token}, "finish_reason": None}])
    for k, call in enumerate(reply.tool_calls):
        head = {
            "index": k,
            "id": call["id"],
            "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
        yield chunk([{"index": 0, "delta": {"tool_calls": [head]}, "finish_reason": None}])
        arguments = call["function"]["arguments"]
        for start in range(0, len(arguments), 7):
            piece = {"index": k, "function": {"arguments": arguments[start : start + 7]}}
            yield chunk([{"index": 0, "delta": {"tool_calls": [piece]}, "finish_reason": None}])
    yield chunk([{"index": 0, "delta": {}, "finish_reason": _finish(reply)}])
    usage = _usage(reply)
    if usage is not None and (body.get("stream_options") or {}).get("include_usage"):
        yield chunk([], usage=usage)


class Recorder:
    """A listener that keeps every event of the runs it watches."""

    def __init__(self) -> None:
        self.events: list[events.Event] = []

    def on_event(self, event: events.Event) -> None:
        self.events.append(event)

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]
