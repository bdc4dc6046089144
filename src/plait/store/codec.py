"""JSON text in and out of the store, shared by every implementation."""

from __future__ import annotations

import json
from typing import Any

from plait.jsonable import dumps


def lenient_dumps(value: Any) -> str:
    """JSON for values shown to people (inputs): anything unencodable becomes its repr."""
    try:
        return dumps(value)
    except (TypeError, ValueError):
        return json.dumps(value, default=repr, ensure_ascii=False)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)
