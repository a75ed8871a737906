"""Pieces of the recommendation cache shared by both backends.

Invalidation is by generation: every cached answer is stamped with the resident's generation (bumped
when their profile or events change, or they are erased) and the global generation (bumped by a
service patch); the model version is part of the key. An entry whose stamp differs from the current
generations is never served, so invalidation is O(1) whatever the number of cached entries.

The stamp must be the one read *before* the answer was computed: an answer computed from a profile
that changed meanwhile would otherwise be stored under the new generation and served stale.
``MissStamps`` carries the stamp from the ``cache_get`` miss to the matching ``cache_put``.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Hashable


class MissStamps:
    """Bounded map cache key -> generations seen at the last miss, kept oldest-first.

    Two threads missing on the same key keep the older stamp, so the worst case is one answer that
    is stored but never served, never a stale answer served.
    """

    def __init__(self, maxsize: int = 10_000):
        self.maxsize = maxsize
        self._stamps: OrderedDict[Hashable, tuple] = OrderedDict()
        self._lock = threading.Lock()

    def note(self, key: Hashable, stamp: tuple) -> None:
        with self._lock:
            if key in self._stamps:
                return
            self._stamps[key] = stamp
            while len(self._stamps) > self.maxsize:
                self._stamps.popitem(last=False)

    def pop(self, key: Hashable) -> tuple | None:
        with self._lock:
            return self._stamps.pop(key, None)

    def drop_resident(self, resident_id: str) -> None:
        with self._lock:
            for key in [k for k in self._stamps if k[0] == resident_id]:
                del self._stamps[key]


class TTLCache:
    """A bounded, thread-safe LRU whose entries also expire ``ttl`` seconds after they were stored.

    Keys are tuples whose first item is the resident id, so one resident's entries can be dropped.
    """

    def __init__(self, maxsize: int = 10_000, ttl: float = 300.0):
        if maxsize < 1:
            raise ValueError(f"cache size must be >= 1, got {maxsize}")
        if ttl <= 0:
            raise ValueError(f"cache TTL must be > 0 seconds, got {ttl}")
        self.maxsize = maxsize
        self.ttl = ttl
        self._data: OrderedDict[tuple, tuple[float, tuple, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> tuple[tuple, str] | None:
        """(stamp, value) of a live entry, refreshing its recency; None when absent or expired."""
        now = time.monotonic()
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None
            expires, stamp, value = entry
            if expires <= now:
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return stamp, value

    def put(self, key: tuple, stamp: tuple, value: str) -> None:
        expires = time.monotonic() + self.ttl
        with self._lock:
            self._data[key] = (expires, stamp, value)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def drop_resident(self, resident_id: str) -> None:
        with self._lock:
            for key in [k for k in self._data if k[0] == resident_id]:
                del self._data[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)


class WindowCounter:
    """Counts per bucket in fixed time windows (rate limits), in this process only."""

    def __init__(self, max_buckets: int = 100_000):
        self.max_buckets = max_buckets
        self._counts: dict[tuple[str, int], tuple[int, int]] = {}
        self._lock = threading.Lock()

    def add(self, bucket: str, amount: int, window_s: int) -> int:
        """Add ``amount`` in the current ``window_s``-second window; the window's new total."""
        window = int(time.time() // window_s)
        key = (bucket, window_s)
        with self._lock:
            win, total = self._counts.get(key, (window, 0))
            total = (total if win == window else 0) + amount
            self._counts[key] = (window, total)
            if len(self._counts) > self.max_buckets:  # buckets of keys no longer seen
                self._counts = {k: v for k, v in self._counts.items()
                                if v[0] == int(time.time() // k[1])}
            return total
