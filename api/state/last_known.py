"""The last value read from the store, for readers that must keep serving while it is down.

After a failure the store is not asked again for ``backoff`` seconds, so an outage does not add a
connection attempt (a hung Redis: its timeout) to every request. ``lenient`` readers get the last
value read meanwhile; the others get ``StateUnavailable`` (the API's 503).
"""
from __future__ import annotations

import time
from typing import Callable, Generic, TypeVar

from api.state.base import StateUnavailable

T = TypeVar("T")


class LastKnown(Generic[T]):
    def __init__(self, value: T, backoff: float = 1.0):
        self.value = value
        self.backoff = backoff
        self._down_until = 0.0

    def read(self, fetch: Callable[[T], T], lenient: bool = False) -> T:
        """``fetch(last value)`` gives the store's value now (it may hand back the last one when the
        store says nothing changed)."""
        if lenient and time.monotonic() < self._down_until:
            return self.value
        try:
            self.value = fetch(self.value)
        except StateUnavailable:
            self._down_until = time.monotonic() + self.backoff
            if lenient:
                return self.value
            raise
        return self.value
