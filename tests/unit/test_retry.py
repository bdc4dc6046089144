"""RetryPolicy: which errors are retried, and how long to wait before the next attempt."""

from __future__ import annotations

import pytest

from plait import RetryPolicy


@pytest.mark.parametrize(
    ("policy", "failed_attempt", "bounds"),
    [
        # defaults: 1 s after the first failure, plus up to 1 s of jitter
        (RetryPolicy(), 1, (1.0, 2.0)),
        # each further wait doubles
        (RetryPolicy(), 2, (2.0, 3.0)),
        (RetryPolicy(), 4, (8.0, 9.0)),
        # the cap applies to the jittered delay too
        (RetryPolicy(), 7, (60.0, 60.0)),
        (RetryPolicy(max_delay=5.0), 3, (4.0, 5.0)),
        # a custom curve: 0.5 s, tripling, no jitter
        (RetryPolicy(initial_delay=0.5, multiplier=3.0, jitter=0.0), 3, (4.5, 4.5)),
        # a constant wait
        (RetryPolicy(initial_delay=2.0, multiplier=1.0, jitter=0.0), 5, (2.0, 2.0)),
        # no wait at all
        (RetryPolicy(initial_delay=0.0, jitter=0.0), 3, (0.0, 0.0)),
    ],
)
def test_backoff_bounds(
    policy: RetryPolicy, failed_attempt: int, bounds: tuple[float, float]
) -> None:
    assert policy.bounds(failed_attempt) == bounds


@pytest.mark.parametrize(
    "policy",
    [
        RetryPolicy(),
        RetryPolicy(initial_delay=0.1, multiplier=1.5, jitter=0.3, max_delay=2.0),
        RetryPolicy(initial_delay=3.0, multiplier=1.0, jitter=0.0),
    ],
)
def test_every_delay_lies_within_the_bounds(policy: RetryPolicy) -> None:
    for failed_attempt in range(1, 12):
        low, high = policy.bounds(failed_attempt)
        for _ in range(20):
            assert low <= policy.delay(failed_attempt) <= high


def test_jitter_spreads_the_delays() -> None:
    delays = {RetryPolicy(jitter=1.0).delay(1) for _ in range(50)}
    assert len(delays) > 1


def test_without_jitter_the_delays_are_exact() -> None:
    policy = RetryPolicy(initial_delay=1.0, multiplier=2.0, jitter=0.0, max_delay=10.0)
    assert [policy.delay(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 10.0]


class Transient(Exception):
    pass


class Permanent(Transient):
    pass


def test_every_exception_is_retried_by_default() -> None:
    policy = RetryPolicy()
    assert policy.should_retry(ValueError())
    assert policy.should_retry(TimeoutError())


def test_retry_on_limits_retries_to_those_types() -> None:
    policy = RetryPolicy(retry_on=(Transient,))
    assert policy.should_retry(Transient())
    assert policy.should_retry(Permanent())  # a subclass
    assert not policy.should_retry(ValueError())


def test_no_retry_on_wins_over_retry_on() -> None:
    policy = RetryPolicy(retry_on=(Transient,), no_retry_on=(Permanent,))
    assert policy.should_retry(Transient())
    assert not policy.should_retry(Permanent())


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"initial_delay": -1.0}, "must not be negative"),
        ({"max_delay": -1.0}, "must not be negative"),
        ({"jitter": -0.1}, "must not be negative"),
        ({"multiplier": 0.5}, "multiplier must be at least 1, got 0.5"),
    ],
)
def test_a_nonsensical_policy_is_refused(kwargs: dict[str, float], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        RetryPolicy(**kwargs)


def test_policies_are_values() -> None:
    assert RetryPolicy(initial_delay=2.0) == RetryPolicy(initial_delay=2.0)
    with pytest.raises(AttributeError):
        RetryPolicy().jitter = 0.0  # type: ignore[misc]
