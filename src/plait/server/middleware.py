"""Checks every request passes before any route sees it: host, body size, content type.

Plain ASGI, so an oversize body is refused (413) by its Content-Length before it
is read, or as soon as a chunked body passes the limit. A JSON endpoint refuses
other content types (415), which also keeps a page on another site from posting
to a token-less local server with a "simple" cross-site request.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
TEXT_BODY_PATHS = frozenset({"/api/workflows/validate"})
"""Endpoints that also take YAML or plain text."""
TEXT_TYPES = ("text/plain", "text/yaml", "application/yaml", "application/x-yaml", "text/x-yaml")


async def _reply(send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def is_loopback_host(host: str) -> bool:
    """Whether `host` (a name or address, without port) names this machine's loopback."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_of(header: str) -> str:
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class RequestGuard:
    """Refuses requests a route should never see; passes the rest through unchanged."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, loopback_only: bool) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.loopback_only = loopback_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.loopback_only and not is_loopback_host(_host_of(headers.get("host", ""))):
            # Without a token only local clients may call; a foreign Host header is what a
            # DNS-rebinding page would send.
            await _reply(send, 421, "this server answers only to localhost (no API token set)", [])
            return
        if scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        length_text = headers.get("content-length")
        if length_text is not None:
            if not length_text.isdigit():
                await _reply(send, 400, "invalid Content-Length header", [])
                return
            if int(length_text) > self.max_body_bytes:
                await _reply(send, 413, self._too_large(), [(b"connection", b"close")])
                return
        has_body = (length_text is not None and int(length_text) > 0) or (
            "chunked" in headers.get("transfer-encoding", "")
        )
        if has_body and not self._acceptable_type(scope["path"], headers.get("content-type", "")):
            allowed = "application/json"
            if scope["path"] in TEXT_BODY_PATHS:
                allowed += ", text/yaml or text/plain"
            await _reply(send, 415, f"send the body as {allowed}", [])
            return
        if length_text is None and has_body:
            # Chunked: no declared length, so read it here, up to the limit (h11 already
            # holds a declared length to its word).
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                more = bool(message.get("more_body"))
                if size > self.max_body_bytes:
                    await _reply(send, 413, self._too_large(), [(b"connection", b"close")])
                    return
            body = b"".join(chunks)
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)

    def _too_large(self) -> str:
        return f"request body too large: the limit is {self.max_body_bytes} bytes"

    @staticmethod
    def _acceptable_type(path: str, content_type: str) -> bool:
        media = content_type.split(";", 1)[0].strip().lower()
        if media == "application/json" or media.endswith("+json"):
            return True
        return path in TEXT_BODY_PATHS and media in TEXT_TYPES
