"""The virtual-time loop under the kit: timers jump, threads take no virtual time."""

from __future__ import annotations

import asyncio
import time

import pytest

from plait.testing.clock import LoopClock, VirtualTimeUnavailableError, virtual_time


async def test_timers_fire_in_order_as_time_jumps_to_each():
    loop = asyncio.get_running_loop()
    fired: list[tuple[str, float]] = []
    with virtual_time(loop):
        start = loop.time()
        for name, delay in [("day", 86400.0), ("minute", 60.0), ("hour", 3600.0)]:
            loop.call_later(delay, lambda n=name: fired.append((n, loop.time() - start)))
        await asyncio.sleep(86400)
    assert fired == [("minute", 60.0), ("hour", 3600.0), ("day", 86400.0)]


async def test_work_in_a_thread_takes_no_virtual_time_and_does_not_time_out():
    loop = asyncio.get_running_loop()
    with virtual_time(loop):
        start = loop.time()
        async with asyncio.timeout(300):
            await loop.run_in_executor(None, time.sleep, 0.02)  # real work, 20 ms
        assert loop.time() - start == 0


async def test_a_timeout_fires_at_its_virtual_deadline():
    loop = asyncio.get_running_loop()
    with virtual_time(loop):
        start = loop.time()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(30):
                await asyncio.sleep(3600)
        assert loop.time() - start == pytest.approx(30)


async def test_the_loop_is_itself_again_after_the_block():
    loop = asyncio.get_running_loop()
    kind = type(loop)
    with virtual_time(loop):
        with virtual_time(loop):  # nested: the outer block owns it
            assert type(loop) is not kind
        assert type(loop) is not kind
    assert type(loop) is kind
    assert not hasattr(loop, "_plait_now")
    assert abs(loop.time() - time.monotonic()) < 60  # real time again


async def test_the_clock_reads_the_loop_so_both_agree():
    loop = asyncio.get_running_loop()
    with virtual_time(loop):
        clock = LoopClock(loop, start=1_000.0)
        await clock.sleep(90)
        async with asyncio.timeout(10):
            await asyncio.sleep(5)
        assert (clock.elapsed, clock.time(), clock.slept) == (95, 1_095.0, [90])
        assert clock.monotonic() == loop.time()


def test_a_loop_without_a_selector_cannot_be_virtual():
    class Elsewhere(asyncio.AbstractEventLoop):
        pass

    with pytest.raises(VirtualTimeUnavailableError, match="selector event loop"):
        with virtual_time(Elsewhere()):
            pass
