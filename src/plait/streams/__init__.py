"""Event streams: window events by time or count and run a workflow per window, exactly once.

See docs/streams.md. Modules: `windows` (pure assignment), `definition` (stream files),
`state` (SQLite tables), `processor` (ingest, fire, recover), `sources` (files, driver),
`broker` (Redis Streams), `analysis` (built-in steps), `sinks` (alerts), `cli`, `views`.
"""

from __future__ import annotations

from plait.streams.definition import SinkSpec, SourceSpec, StreamDefinition, load_stream
from plait.streams.processor import IngestReport, StreamProcessor, WindowResult
from plait.streams.sources import feed, feed_file, open_processor
from plait.streams.windows import Span, WindowPolicy

__all__ = [
    "IngestReport",
    "SinkSpec",
    "SourceSpec",
    "Span",
    "StreamDefinition",
    "StreamProcessor",
    "WindowPolicy",
    "WindowResult",
    "feed",
    "feed_file",
    "load_stream",
    "open_processor",
]
