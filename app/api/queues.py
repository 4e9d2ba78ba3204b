"""The queues of the expensive kinds of request: workbook parsing, PDF printing, password
hashing and matches with an area of interest.

Each kind has, per worker, a few slots at work and a bounded number of requests waiting
for one. Waiting happens on the event loop: a waiting request holds no thread of the
pool every other request needs, and no database connection (sessions connect on first
use). A request that finds the waiting room full, or waits past its time, is answered
503 with Retry-After at once, so one flood of an expensive kind can neither starve the
cheap reads nor the other kinds: every kind has its own slots.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from anyio import CapacityLimiter, to_thread
from fastapi import Request

from app.core.errors import ServiceBusyError
from app.core.metrics import QUEUE_REFUSED, QUEUE_WAIT_SECONDS, QUEUE_WAITING, QUEUE_WORKING
from app.core.settings import queue_settings, upload_settings

T = TypeVar("T")


@dataclass
class WorkQueue:
    name: str
    slots: int
    waiting_max: int
    wait_s: float
    waiting: int = 0
    working: int = 0
    refused: int = 0
    _free: asyncio.Semaphore = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._free = asyncio.Semaphore(self.slots)

    def busy(self) -> ServiceBusyError:
        self.refused += 1
        QUEUE_REFUSED.labels(self.name).inc()
        return ServiceBusyError(max(math.ceil(self.wait_s / 2), 1))

    async def run(self, work: Callable[[], T]) -> T:
        """``work`` in a thread once a slot is free; 503 when the queue is full or the
        wait is over."""
        if self.working >= self.slots and self.waiting >= self.waiting_max:
            raise self.busy()
        self.waiting += 1
        QUEUE_WAITING.labels(self.name).inc()
        started = time.monotonic()
        try:
            await asyncio.wait_for(self._free.acquire(), timeout=self.wait_s)
        except TimeoutError:
            raise self.busy() from None
        finally:
            self.waiting -= 1
            QUEUE_WAITING.labels(self.name).dec()
            QUEUE_WAIT_SECONDS.labels(self.name).observe(time.monotonic() - started)
        self.working += 1
        QUEUE_WORKING.labels(self.name).inc()
        try:
            return await to_thread.run_sync(work)
        finally:
            self.working -= 1
            QUEUE_WORKING.labels(self.name).dec()
            self._free.release()


ADMISSION_THREADS = 4


async def admitted(request: Request, check: Callable[..., T], *args: object) -> T:
    """Run an admission check (a rate-limit count in PostgreSQL) on one of a few threads of
    its own: a flood's checks wait on the event loop for those, instead of taking every
    thread and connection the reads need while they wait for the pool."""
    state = request.app.state
    if getattr(state, "admission", None) is None:
        state.admission = CapacityLimiter(ADMISSION_THREADS)
    return await to_thread.run_sync(check, *args, limiter=state.admission)


def make_queues() -> dict[str, WorkQueue]:
    """This worker's queues, made in the lifespan (on the worker's own event loop)."""
    q, uploads = queue_settings(), upload_settings()
    return {
        "parsing": WorkQueue("parsing", uploads.concurrency, q.parsing_waiting, uploads.queue_seconds),
        "printing": WorkQueue("printing", q.printing_slots, q.printing_waiting, q.printing_wait_s),
        "hashing": WorkQueue("hashing", q.hashing_slots, q.hashing_waiting, q.hashing_wait_s),
        "area": WorkQueue("area", q.area_slots, q.area_waiting, q.area_wait_s),
    }


def queue(request: Request, name: str) -> WorkQueue:
    """The worker's queue ``name`` (made on first use where no lifespan ran)."""
    state = request.app.state
    if getattr(state, "queues", None) is None:
        state.queues = make_queues()
    return state.queues[name]
