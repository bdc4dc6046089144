"""Moderation outcomes for `examples/content_moderation.yaml`.

`plait.agents.classify:moderate` judges the content; these functions act on its verdict.
Each branch returns the same shape (``route``, ``status``, ``content_id``) so the final
`record` step need not know which branch ran. Files are plain JSON under ``.plait/`` so a
person can read the review queue and the decision log with any editor.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any


def content_id_for(content: str) -> str:
    """A stable id for content that arrives without one (same text, same id)."""
    return "sha1:" + hashlib.sha1(content.encode("utf-8")).hexdigest()[:12]


def approve(*, content: str, analysis: dict[str, Any], content_id: str = "") -> dict[str, Any]:
    """Publish: clear-cut safe content needs no one's time."""
    return {
        "route": "approve",
        "status": "published",
        "content_id": content_id or content_id_for(content),
        "confidence": analysis["confidence"],
        "reasons": analysis["reasons"],
    }


def reject(*, content: str, analysis: dict[str, Any], content_id: str = "") -> dict[str, Any]:
    """Refuse, and tell the author which policy the content broke."""
    labels = [label for label in analysis["labels"] if label != "negative_tone"]
    policies = ", ".join(labels) or "community guidelines"
    return {
        "route": "reject",
        "status": "rejected",
        "content_id": content_id or content_id_for(content),
        "confidence": analysis["confidence"],
        "labels": labels,
        "notice": f"Your post was not published because it breaks our policy on {policies}.",
    }


def queue_for_review(
    *, content: str, analysis: dict[str, Any], queue_path: str, content_id: str = ""
) -> dict[str, Any]:
    """Append the item to the human review queue (a JSON list), once per content id.

    The file is replaced atomically so a reader never sees half a queue. (A durable approval
    step will take over this branch; the queue file is its offline stand-in.)
    """
    path = Path(queue_path)
    queue: list[dict[str, Any]] = (
        json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    )
    item_id = content_id or content_id_for(content)
    if not any(item["content_id"] == item_id for item in queue):
        queue.append(
            {
                "content_id": item_id,
                "content": content,
                "unsafe_probability": analysis["unsafe_probability"],
                "labels": analysis["labels"],
                "reasons": analysis["reasons"],
                "queued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
        )
        _write_json(path, queue)
    return {
        "route": "human_review",
        "status": "pending_review",
        "content_id": item_id,
        "confidence": analysis["confidence"],
        "queue_position": next(
            k for k, item in enumerate(queue, start=1) if item["content_id"] == item_id
        ),
        "queue_path": str(path.resolve()),
    }


def record(
    *,
    approved: dict[str, Any] | None,
    rejected: dict[str, Any] | None,
    reviewed: dict[str, Any] | None,
    log_path: str,
) -> dict[str, Any]:
    """Log the decision of whichever branch ran (the skipped ones arrive as None)."""
    outcomes = [o for o in (approved, rejected, reviewed) if o is not None]
    if len(outcomes) != 1:
        raise ValueError(f"expected exactly one moderation outcome, got {len(outcomes)}")
    outcome = outcomes[0]
    entry = {
        "content_id": outcome["content_id"],
        "route": outcome["route"],
        "status": outcome["status"],
        "confidence": outcome["confidence"],
    }
    path = Path(log_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")
    return entry


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
