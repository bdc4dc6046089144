"""Durable state of runs. `base` holds the seam and records; `memory` and `sqlite` implement it.

Layering: the runner journals writes through `plait.journal`, which batches them
into `Store.apply` calls; nothing else in the engine writes to a store.
"""

from __future__ import annotations

from plait.store.base import (
    MigrationError,
    RunNotFoundError,
    Store,
    StoreError,
    default_store_url,
    open_store,
)

__all__ = [
    "MigrationError",
    "RunNotFoundError",
    "Store",
    "StoreError",
    "default_store_url",
    "open_store",
]
