"""Training leaves erased residents out.

``DELETE /v1/residents/{id}`` records a tombstone -- a keyed hash of the id (``api.hashing``), never
the id -- in the API's state store. Before anything is split or fitted, :func:`drop_erased` hashes
every resident id of the training data with the same secret (``<models>/secret.key``) and drops the
residents whose hash is tombstoned, with their interactions (the data tables, extra event files
and the holdout alike), so the next model holds nothing of them.

The store is the one the API uses for this models folder: ``<models>/state.sqlite3``, or Redis
when ``REDIS_URL`` is set (read through ``api.settings``). No secret or no store means no
resident was ever erased there.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pandas as pd


def erased_ids(models_dir: str | Path, resident_ids) -> set[str]:
    """Which of ``resident_ids`` were erased through the API of this models folder."""
    from api.hashing import Hasher, load_secret
    from api.settings import Settings
    from api.state import SQLITE_NAME, open_store

    settings = Settings.from_env(models_dir=Path(models_dir))
    if not settings.secret_path.exists():
        return set()
    if settings.redis_url is None and not (Path(models_dir) / SQLITE_NAME).exists():
        return set()
    hasher = Hasher(load_secret(settings.secret_path, create=False))
    store = open_store(models_dir, settings.redis_url)
    try:
        tombstones = store.tombstones()
    finally:
        store.close()
    if not tombstones:
        return set()
    return {rid for rid in map(str, resident_ids) if hasher.resident(rid) in tombstones}


def drop_erased(models_dir, data, interactions: pd.DataFrame, holdout: pd.DataFrame | None = None,
                log=None):
    """(data, interactions, holdout) without erased residents and their interactions."""
    gone = erased_ids(models_dir, data.residents["resident_id"])
    if not gone:
        return data, interactions, holdout

    def keep(frame):
        return None if frame is None else frame[~frame["resident_id"].astype(str).isin(gone)].reset_index(drop=True)

    data = dataclasses.replace(data, residents=keep(data.residents), interactions=keep(data.interactions))
    (log or (lambda m: print(m, file=sys.stderr)))(
        f"left out {len(gone):,} erased residents and their interactions")
    return data, keep(interactions), keep(holdout)
