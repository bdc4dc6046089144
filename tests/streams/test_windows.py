"""Window assignment: pure functions of timestamps, checked against their definitions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from plait.streams import windows as w


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7])
def test_a_tumbling_window_is_the_one_aligned_span_holding_the_time(size: int) -> None:
    for at in range(-40, 41):
        span = w.tumbling(at, size)
        assert span.start <= at < span.end
        assert span.end - span.start == size
        assert span.start % size == 0


@pytest.mark.parametrize("size", [1, 2, 3, 4, 6])
@pytest.mark.parametrize("slide", [1, 2, 3, 5, 8])
def test_sliding_windows_are_every_slide_aligned_span_holding_the_time(
    size: int, slide: int
) -> None:
    for at in range(-30, 31):
        every = [
            w.Span(k * slide, k * slide + size)
            for k in range(-40, 40)
            if k * slide <= at < k * slide + size
        ]
        assert w.sliding(at, size, slide) == every


def test_sliding_windows_with_gaps_leave_some_times_in_no_window() -> None:
    assert w.sliding(3, 2, 5) == []
    assert w.sliding(6, 2, 5) == [w.Span(5, 7)]


def test_count_windows_hold_consecutive_ordinals() -> None:
    assert [w.by_count(n, 3) for n in range(7)] == [w.Span(0, 3)] * 3 + [w.Span(3, 6)] * 3 + [
        w.Span(6, 9)
    ]


def test_a_window_closes_when_the_watermark_reaches_its_end() -> None:
    policy = w.WindowPolicy.tumbling(timedelta(seconds=10), lateness=timedelta(seconds=5))
    mark = w.watermark(14_999, policy.lateness)
    assert w.is_open(w.Span(0, 10_000), mark)
    assert not w.is_open(w.Span(0, 10_000), w.watermark(15_000, policy.lateness))
    assert w.is_open(w.Span(0, 10_000), w.watermark(None, policy.lateness))


def test_a_time_window_is_due_once_an_event_reaches_its_end_and_a_count_window_when_full() -> None:
    tumbling = w.WindowPolicy("tumbling", 10)
    assert not w.is_due(tumbling, w.Span(0, 10), 9, 3)
    assert w.is_due(tumbling, w.Span(0, 10), 10, 3)
    assert not w.is_due(tumbling, w.Span(0, 10), None, 3)
    count = w.WindowPolicy.count(3)
    assert not w.is_due(count, w.Span(0, 3), None, 2)
    assert w.is_due(count, w.Span(0, 3), None, 3)


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1970-01-01T00:00:01Z", 1000),
        ("1970-01-01T00:00:01.250+00:00", 1250),
        ("1970-01-01T01:00:00+01:00", 0),
        ("1970-01-01T00:01:00", 60_000),
        (2.5, 2500),
        (-1, -1000),
    ],
)
def test_event_times_are_iso_text_or_epoch_seconds(text: object, ms: int) -> None:
    assert w.parse_time(text) == ms


@pytest.mark.parametrize("bad", ["yesterday", True, None, float("nan"), [1], "nan"])
def test_anything_else_is_not_a_time(bad: object) -> None:
    with pytest.raises(ValueError):
        w.parse_time(bad)


def test_times_format_back_as_utc_text() -> None:
    assert w.format_time(60_000) == "1970-01-01T00:01:00Z"
    assert w.format_time(1_250) == "1970-01-01T00:00:01.250Z"


def test_policies_refuse_shapes_that_mean_nothing() -> None:
    with pytest.raises(ValueError, match="positive"):
        w.WindowPolicy("tumbling", 0)
    with pytest.raises(ValueError, match="slide"):
        w.WindowPolicy("sliding", 10)
    with pytest.raises(ValueError, match="lateness"):
        w.WindowPolicy("count", 3, lateness=5)
