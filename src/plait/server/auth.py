"""Bearer-token check for the API, when `PLAIT_API_TOKEN` is set.

The comparison is constant-time (`hmac.compare_digest`), and the token is never
logged or echoed. Without a token the server listens on loopback only
(`cli.serve` refuses other hosts, `RequestGuard` other Host headers).
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from plait.server.services import Services


def services(request: Request) -> Services:
    """The running server's services (a FastAPI dependency)."""
    found: Services = request.app.state.services
    return found


def token_matches(header: str | None, token: str) -> bool:
    """Whether an `Authorization` header carries `token` as a bearer token."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def require_token(request: Request) -> None:
    """Refuse the request with 401 unless it carries the configured token."""
    token = services(request).config.token
    if token is None:
        return
    if not token_matches(request.headers.get("authorization"), token):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong API token: send the header Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
