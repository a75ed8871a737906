"""The audit trail of served lists, written to the state store by a background thread.

Why buffered: a served list must be audited even while the store is down (inline profiles keep
being served during a Redis outage), and a synchronous store write per request would cost the
cached portal call a third of its throughput. Entries wait in a bounded in-memory queue, are
written in order every ``interval`` seconds (and on shutdown), and are retried while the store is
unreachable. When the queue is full the API stops serving lists (503) rather than serve one it
cannot audit. Before that, while the store is reachable, a request finding more than
``high_water`` entries queued waits for the writer (``await room()``): sustained load is slowed to
what the store can take rather than refused.

An entry holds the key id, the resident id or the sha256 of an inline profile (never the
profile), the model version and the returned service ids.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections import deque

import orjson

from api.state.base import StateUnavailable

log = logging.getLogger("servicematch.audit")


class AuditBacklogFull(RuntimeError):
    """The audit queue is full (the store has been unreachable for a while)."""


def profile_hash(profile: dict) -> str:
    """sha256 of the canonical JSON of a profile: links repeated requests, reveals nothing."""
    return hashlib.sha256(orjson.dumps(profile, option=orjson.OPT_SORT_KEYS)).hexdigest()


class AuditLog:
    def __init__(self, store, metrics=None, max_pending: int = 10_000, interval: float = 0.2,
                 high_water: int = 1_000, max_wait: float = 5.0):
        self.store = store
        self.metrics = metrics
        self.max_pending = max_pending
        self.interval = interval
        self.high_water = high_water
        self.max_wait = max_wait
        self._store_ok = True  # the last flush reached the store
        self._pending: deque[dict] = deque()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, *, request_id: str, key_id: str | None, route: str, resident_id: str | None,
               profile: dict | None, model_version: str, service_ids: list[str]) -> None:
        if len(self._pending) >= self.max_pending:
            raise AuditBacklogFull(f"{len(self._pending)} audit entries are waiting for the store")
        self._pending.append({
            "time": time.time(), "request_id": request_id, "key_id": key_id, "route": route,
            "resident_id": resident_id,
            "profile_hash": profile_hash(profile) if profile is not None else None,
            "model_version": model_version, "service_ids": service_ids,
        })

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def room(self) -> None:
        """Wait (bounded) while the queue is above the high-water mark and the writer is making
        progress; with the store down there is nothing to wait for, and ``record`` decides."""
        if len(self._pending) <= self.high_water:
            return
        self._wake.set()
        deadline = time.monotonic() + self.max_wait
        while (len(self._pending) > self.high_water and self._store_ok
               and time.monotonic() < deadline):
            await asyncio.sleep(0.002)

    def flush(self) -> int:
        """Write the entries buffered when called, oldest first; returns how many. Stops at the
        first failure (the rest stay queued) and raises StateUnavailable then."""
        written = 0
        with self._flush_lock:
            todo = len(self._pending)  # not what arrives meanwhile: a flush always ends
            write_many = getattr(self.store, "audit_many", None)
            try:
                while written < todo:
                    if write_many is not None:
                        batch = [self._pending[i] for i in range(min(500, todo - written))]
                        write_many(batch)
                        for _ in batch:
                            self._pending.popleft()
                        written += len(batch)
                    else:
                        self.store.audit(self._pending[0])
                        self._pending.popleft()
                        written += 1
            finally:
                if self.metrics is not None:
                    self.metrics.audit_pending.set(len(self._pending))
        return written

    def _run(self) -> None:
        while not self._stop.is_set():
            if len(self._pending) <= self.high_water:  # behind: no pause between rounds
                self._wake.wait(self.interval)
            self._wake.clear()
            if not self._pending:
                continue
            try:
                self.flush()
                self._store_ok = True
            except StateUnavailable:
                self._store_ok = False  # retried next round; the entries stay queued
            except Exception:  # noqa: BLE001 -- keep the writer alive; entries stay queued
                log.exception("audit flush failed")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="servicematch-audit", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001
            log.error("%d audit entries could not be written at shutdown (%s)",
                      len(self._pending), type(exc).__name__)
