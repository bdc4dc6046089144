"""Request bodies of the API, as pydantic models: unknown fields and wrong types are 422s."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartRun(_Body):
    """`POST /api/workflows/{id}/runs`: inputs are checked against the declared ones."""

    inputs: dict[str, Any] = Field(default_factory=dict)


class EventIn(_Body):
    """`POST /events`: the guide's event, `{type, data, id?}`."""

    type: str = Field(min_length=1, max_length=200)
    data: Any = None
    id: str | None = Field(default=None, min_length=1, max_length=200)
    """The sender's id: an event whose id was seen before is not processed twice."""
    occurred_at: str | None = Field(default=None, max_length=64)
    """When it happened (ISO 8601); defaults to when it was received."""


class Approve(_Body):
    data: Any = None
    """Becomes part of the approval step's result."""
    by: str | None = Field(default=None, max_length=200)
    reason: str | None = Field(default=None, max_length=10_000)


class Reject(_Body):
    reason: str = Field(min_length=1, max_length=10_000)
    """Why; the approval step fails with this message."""
    by: str | None = Field(default=None, max_length=200)


class ValidateText(_Body):
    """`POST /api/workflows/validate` with JSON; YAML may also be posted as the raw body."""

    text: str
