"""``apscores.testing.instant_retries`` is a context variable: a thread or asyncio task
with it and one without, running at the same time, do not see each other's setting."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from apscores.sandbox import SandboxService, sandbox_async_client, sandbox_client
from apscores.service._retry import INSTANT_RETRIES
from apscores.testing import instant_retries

DELAY = 0.05  # the first retry waits 0.5-1x this, the second twice that


def _failing(times: int) -> SandboxService:
    service = SandboxService.default(reports=1)
    service.faults.fail("generate", status=503, times=times)
    return service


def test_two_threads_keep_their_own_setting(tmp_path: Path) -> None:
    inside = threading.Event()
    other_done = threading.Event()
    seen: dict[str, object] = {}

    def with_switch() -> None:
        with instant_retries() as waits:
            inside.set()
            with sandbox_client(_failing(2), retry_base_delay=DELAY) as client:
                client.institution("1234").download(dest=tmp_path / "a")
            assert other_done.wait(10)  # the other thread retried while this block was open
        seen["waits"] = waits

    def without_switch() -> None:
        assert inside.wait(10)
        seen["switch"] = INSTANT_RETRIES.get()
        started = time.monotonic()
        with sandbox_client(_failing(1), retry_base_delay=DELAY) as client:
            client.institution("1234").download(dest=tmp_path / "b")
        seen["slept"] = time.monotonic() - started
        other_done.set()

    threads = [threading.Thread(target=with_switch), threading.Thread(target=without_switch)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    waits = seen["waits"]
    assert isinstance(waits, list)
    assert len(waits) == 2  # its own two waits, not the other thread's one
    assert all(wait > 0 for wait in waits)
    assert seen["switch"] is None
    assert isinstance(seen["slept"], float)
    assert seen["slept"] >= DELAY / 2  # the thread without the switch really waited


@pytest.mark.anyio
async def test_two_tasks_keep_their_own_setting(tmp_path: Path) -> None:
    inside = asyncio.Event()
    other_done = asyncio.Event()

    async def with_switch() -> list[float]:
        with instant_retries() as waits:
            inside.set()
            async with sandbox_async_client(_failing(2), retry_base_delay=DELAY) as client:
                await client.institution("1234").download(dest=tmp_path / "a")
            await asyncio.wait_for(other_done.wait(), 10)
        return waits

    async def without_switch() -> float:
        await asyncio.wait_for(inside.wait(), 10)
        assert INSTANT_RETRIES.get() is None
        started = time.monotonic()
        async with sandbox_async_client(_failing(1), retry_base_delay=DELAY) as client:
            await client.institution("1234").download(dest=tmp_path / "b")
        other_done.set()
        return time.monotonic() - started

    waits, slept = await asyncio.gather(with_switch(), without_switch())
    assert len(waits) == 2
    assert slept >= DELAY / 2


@pytest.mark.anyio
async def test_a_task_started_inside_the_block_inherits_it() -> None:
    with instant_retries() as waits:
        assert await asyncio.create_task(_switch()) is waits
    assert INSTANT_RETRIES.get() is None


async def _switch() -> list[float] | None:
    return INSTANT_RETRIES.get()


def test_blocks_nest_and_restore() -> None:
    with instant_retries() as outer:
        with instant_retries() as inner:
            assert INSTANT_RETRIES.get() is inner
            assert inner is not outer
        assert INSTANT_RETRIES.get() is outer
    assert INSTANT_RETRIES.get() is None
