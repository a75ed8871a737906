"""Per-key limits: requests per second and events per minute, answered 429 with Retry-After.

Counts live in the state store (``count_hits``): with Redis they are shared by every worker and
replica, so a key's limit holds for the whole deployment; with SQLite each process counts on its
own. While Redis cannot be reached the counting falls back to this process (a key is never let
through unlimited, and an outage does not turn every request into a 503).
"""
from __future__ import annotations

import math
import time

from fastapi import HTTPException

from api.state.base import StateUnavailable
from api.state.cache import WindowCounter


class RateLimited(HTTPException):
    def __init__(self, what: str, limit: int, window_s: int):
        retry = max(1, math.ceil(window_s - time.time() % window_s))
        super().__init__(429, f"rate limit: {what} (at most {limit:,} per {window_s} s for this key); "
                              f"retry in {retry} s", headers={"Retry-After": str(retry)})


class RateLimiter:
    def __init__(self, store, *, per_second: int, events_per_minute: int, offload: bool,
                 backoff: float = 5.0):
        self.store = store
        self.backoff = backoff
        self._down_until = 0.0
        self.per_second = per_second
        self.events_per_minute = events_per_minute
        self.offload = offload
        self._local = WindowCounter()

    def _count(self, bucket: str, amount: int, window_s: int) -> int:
        # After a failure the store is not asked again for ``backoff`` seconds: a hung Redis must
        # not add its timeout to every request.
        if time.monotonic() >= self._down_until:
            try:
                return self.store.count_hits(bucket, amount, window_s)
            except StateUnavailable:
                self._down_until = time.monotonic() + self.backoff
        return self._local.add(bucket, amount, window_s)

    async def _hits(self, bucket: str, amount: int, window_s: int) -> int:
        if self.offload:  # a networked store: off the event loop
            from starlette.concurrency import run_in_threadpool

            return await run_in_threadpool(self._count, bucket, amount, window_s)
        return self._count(bucket, amount, window_s)

    async def request(self, key_id: str) -> None:
        if await self._hits("req:" + key_id, 1, 1) > self.per_second:
            raise RateLimited("requests", self.per_second, 1)

    def events(self, key_id: str, n: int) -> None:
        """From a worker thread (the events route is sync)."""
        if self._count("ev:" + key_id, n, 60) > self.events_per_minute:
            raise RateLimited("events", self.events_per_minute, 60)
