"""Every error a client can cause, answered as JSON `{"error": message}` with a 4xx status.

Messages name the problem (the field, the input, the run) so a client can fix
its request; anything unexpected is a 500 whose details stay in the server log.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from plait.engine import ResumeRefusedError
from plait.errors import DefinitionError, ExpressionError
from plait.store.base import RunNotFoundError, StoreError

log = logging.getLogger("plait.server")


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "body"


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            where = err.get("loc", ())
            position = f" at character {where[1]}" if len(where) > 1 else ""
            reason = ctx.get("error", "not valid JSON")
            return error(400, f"malformed JSON{position}: {reason}")
        problems.append({"field": _field(tuple(err.get("loc", ()))), "message": err["msg"]})
    text = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return error(422, f"invalid request: {text}", problems=problems)


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(
        {"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
    )


def _definition(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DefinitionError)
    problems = [
        {"field": p.location.field, "line": p.location.line, "message": p.message}
        for p in exc.problems
    ]
    return error(422, str(exc), problems=problems)


def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return error(404, str(exc))


def _conflict(request: Request, exc: Exception) -> JSONResponse:
    return error(409, str(exc))


def _expression(request: Request, exc: Exception) -> JSONResponse:
    return error(422, str(exc))


def _store(request: Request, exc: Exception) -> JSONResponse:
    log.warning("store error on %s %s: %s", request.method, request.url.path, exc)
    return error(503, f"the store cannot be used right now: {exc}")


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error(500, f"internal error ({type(exc).__name__}); see the server log")


def install(app: FastAPI) -> None:
    """Register the handlers; the most specific class wins, as Starlette looks them up."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(DefinitionError, _definition)
    app.add_exception_handler(ExpressionError, _expression)
    app.add_exception_handler(RunNotFoundError, _not_found)
    app.add_exception_handler(ResumeRefusedError, _conflict)
    app.add_exception_handler(StoreError, _store)
    app.add_exception_handler(Exception, _unexpected)
