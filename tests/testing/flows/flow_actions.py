"""Actions of double.yaml."""

from __future__ import annotations


def double(n: int) -> int:
    return 2 * n


async def describe(value: int) -> str:
    return f"the answer is {value}"
