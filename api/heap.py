"""The long-lived heap (the served model, the app) kept out of Python's full garbage collections.

A served model and the app hold about 200,000 objects the collector tracks. Under portal load an
automatic full collection ran every 1-2 s and walked them all: 110-155 ms each with every thread
stopped, which was the cached portal call's p99 (118 ms at 8 connections; measured with
``gc.callbacks``). Frozen (``gc.freeze``), they are skipped; the short-lived objects of requests are
collected as before.
"""
from __future__ import annotations

import gc


def freeze() -> None:
    """At start-up, with the model loaded: no collection first (a start would pay a full one, and the
    garbage of imports is small)."""
    gc.freeze()


def settle() -> None:
    """Collect what is garbage now, then freeze everything left: after a model swap, once the
    requests that held the old model are done (a frozen object in a reference cycle is never freed)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def release() -> None:
    """Hand the frozen objects back to the collector (an app shutting down in a longer process)."""
    gc.unfreeze()
