"""Everything one server holds while it runs, opened and closed with the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from plait.definition import WorkflowDefinition
from plait.engine import WorkflowEngine
from plait.server.catalog import WorkflowCatalog
from plait.server.config import ServerConfig
from plait.server.runs import RunService
from plait.store.base import Store
from plait.triggers import (
    CompiledTrigger,
    CronScheduler,
    EventDispatcher,
    EventLog,
    open_event_log,
)

log = logging.getLogger("plait.server")


class Services:
    """The engine, the served workflows, the event log and the cron scheduler."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.engine = WorkflowEngine(
            store=config.store_url, clock=config.clock, wait_for_people=True
        )
        self.catalog = WorkflowCatalog(config.workflows_dir, reload=config.reload)
        self.runs = RunService(self.engine, detach=config.detach)
        self._event_log: EventLog | None = None
        self._dispatcher: EventDispatcher | None = None
        self._cron_task: asyncio.Task[None] | None = None
        self.cron: CronScheduler | None = None

    async def open(self) -> None:
        await self.engine.open()
        self.catalog.refresh(force=True)
        event_log = open_event_log(self.store)
        await event_log.open()
        self._event_log = event_log
        self._dispatcher = EventDispatcher(event_log, self.event_triggers, self._start)
        recovered = await self._dispatcher.recover()
        if recovered:
            log.info("routed %d events stored before the last shutdown", recovered)
        self.cron = CronScheduler(
            event_log,
            self.cron_triggers,
            self._start,
            self.config.clock,
            max_sleep=self.config.cron_max_sleep,
        )
        self._cron_task = asyncio.get_running_loop().create_task(self.cron.run(), name="plait-cron")

    async def aclose(self) -> None:
        if self._cron_task is not None:
            self._cron_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._cron_task
        await self.runs.aclose()
        if self._event_log is not None:
            await self._event_log.close()
        await self.engine.aclose()

    @property
    def store(self) -> Store:
        assert self.engine.store is not None, "the engine is opened with a store"
        return self.engine.store

    @property
    def event_log(self) -> EventLog:
        assert self._event_log is not None, "services are open"
        return self._event_log

    @property
    def dispatcher(self) -> EventDispatcher:
        assert self._dispatcher is not None, "services are open"
        return self._dispatcher

    def event_triggers(self) -> list[CompiledTrigger]:
        return [t for t in self.catalog.triggers() if t.trigger.event is not None]

    def cron_triggers(self) -> list[CompiledTrigger]:
        return [t for t in self.catalog.triggers() if t.trigger.cron is not None]

    async def _start(self, workflow: WorkflowDefinition, inputs: dict[str, Any]) -> str:
        return await self.runs.start(workflow, inputs)
