"""Window assignment as pure functions of timestamps (integer milliseconds).

Everything here is arithmetic on integers, so assignment never depends on arrival
order, the wall clock or float rounding: the same event always lands in the same
windows. Two moments matter for a time window `[start, end)`:

- it is *due* (its workflow runs) once the largest event time seen reaches `end`;
- it is *closed* once the watermark, `max event time - allowed lateness`, reaches
  `end`. An event that arrives after its window fired but before it closed is
  *late*: it joins the window and the window's workflow runs again. An event whose
  every window is closed is dropped (and counted).

Count windows hold the n-th accepted event of a key in window `n // size`; they are
due when full and never take late events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

WindowKind = Literal["tumbling", "sliding", "count"]
NEVER = -(2**62)
"""The watermark before any event was seen: no window is closed."""


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """One window: `[start, end)` in epoch milliseconds, or in ordinals for count windows."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class WindowPolicy:
    """How events are grouped into windows."""

    kind: WindowKind
    size: int
    """Milliseconds for time windows; events for count windows."""
    slide: int | None = None
    """Milliseconds between the starts of sliding windows (None for the others)."""
    lateness: int = 0
    """Milliseconds an event may trail the largest event time seen and still count."""

    def __post_init__(self) -> None:
        if self.size <= 0:
            raise ValueError(f"a window size must be positive, got {self.size}")
        if self.kind == "sliding" and (self.slide is None or self.slide <= 0):
            raise ValueError("a sliding window needs a positive slide")
        if self.kind != "sliding" and self.slide is not None:
            raise ValueError(f"a {self.kind} window has no slide")
        if self.lateness < 0:
            raise ValueError(f"allowed lateness cannot be negative, got {self.lateness}")
        if self.kind == "count" and self.lateness:
            raise ValueError("count windows take no lateness: they close when full")

    @classmethod
    def tumbling(cls, size: timedelta, *, lateness: timedelta = timedelta()) -> WindowPolicy:
        return cls("tumbling", to_ms(size), None, to_ms(lateness))

    @classmethod
    def sliding(
        cls, size: timedelta, slide: timedelta, *, lateness: timedelta = timedelta()
    ) -> WindowPolicy:
        return cls("sliding", to_ms(size), to_ms(slide), to_ms(lateness))

    @classmethod
    def count(cls, size: int) -> WindowPolicy:
        return cls("count", size)

    @property
    def by_time(self) -> bool:
        return self.kind != "count"


def to_ms(duration: timedelta) -> int:
    return (duration.days * 86_400 + duration.seconds) * 1000 + duration.microseconds // 1000


def tumbling(at: int, size: int) -> Span:
    """The one window of `size` ms holding time `at`, aligned to the epoch."""
    start = (at // size) * size
    return Span(start, start + size)


def sliding(at: int, size: int, slide: int) -> list[Span]:
    """Every window of `size` ms starting at a multiple of `slide` that holds `at`, oldest first.

    With `slide > size` there are gaps, and an event in a gap is in no window.
    """
    first = (at - size) // slide + 1
    last = at // slide
    return [Span(k * slide, k * slide + size) for k in range(first, last + 1)]


def by_count(ordinal: int, size: int) -> Span:
    """The count window of the `ordinal`-th (from 0) accepted event of a key."""
    start = (ordinal // size) * size
    return Span(start, start + size)


def assign(policy: WindowPolicy, at: int, ordinal: int = 0) -> list[Span]:
    """The windows an event belongs to, ignoring whether they are still open."""
    if policy.kind == "tumbling":
        return [tumbling(at, policy.size)]
    if policy.kind == "sliding":
        assert policy.slide is not None
        return sliding(at, policy.size, policy.slide)
    return [by_count(ordinal, policy.size)]


def watermark(max_at: int | None, lateness: int) -> int:
    """Event time below which windows are closed: largest event time seen minus lateness."""
    return NEVER if max_at is None else max_at - lateness


def is_open(span: Span, mark: int) -> bool:
    """Whether a time window still takes events under watermark `mark`."""
    return mark < span.end


def is_due(policy: WindowPolicy, span: Span, max_at: int | None, events: int) -> bool:
    """Whether a window with `events` events should run its workflow now."""
    if policy.kind == "count":
        return events >= span.end - span.start
    return max_at is not None and max_at >= span.end


def parse_time(value: object) -> int:
    """An event time as epoch milliseconds: ISO 8601 text (naive means UTC) or epoch seconds
    (a number, or a number as text).

    Raises:
        ValueError: the value is neither.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"not a time: {value!r}")
        return round(value * 1000)
    if isinstance(value, str):
        try:
            return parse_time(float(value))  # brokers carry numbers as text
        except ValueError:
            pass
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
        return to_ms(delta)
    raise ValueError(f"not a time: {value!r}")


def format_time(ms: int) -> str:
    """Epoch milliseconds as ISO 8601 UTC text with a `Z`."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    text = moment.isoformat(timespec="milliseconds" if ms % 1000 else "seconds")
    return text.replace("+00:00", "Z")
