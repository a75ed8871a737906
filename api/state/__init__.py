"""The API's state: profiles, events, overrides, audit log, answer cache and model-version notice.

``open_store`` picks the backend: Redis when a URL is given (``Settings.redis_url``, i.e.
``REDIS_URL``), shared by every worker and replica; otherwise the embedded SQLite file
``<models_dir>/state.sqlite3``.
"""
from __future__ import annotations

from pathlib import Path

from api.state.base import StateStore, StateUnavailable

#: File name of the embedded store, next to the model versions.
SQLITE_NAME = "state.sqlite3"

__all__ = ["SQLITE_NAME", "StateStore", "StateUnavailable", "open_store"]


def open_store(
    models_dir: str | Path,
    redis_url: str | None = None,
    *,
    cache_ttl: float = 300.0,
) -> StateStore:
    """The configured state store. Neither backend connects here: a store that cannot be reached
    raises ``StateUnavailable`` from its methods (and ``ping()`` is False), so the API can start and
    answer 503 until it comes back.
    """
    url = redis_url or None
    if url:
        from api.state.redis import RedisStore

        return RedisStore(url, cache_ttl=cache_ttl)
    from api.state.sqlite import SQLiteStore

    return SQLiteStore(Path(models_dir) / SQLITE_NAME, cache_ttl=cache_ttl)
