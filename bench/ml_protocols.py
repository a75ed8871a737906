"""MovieLens 100K in the three protocols of the robustness suite, as data directories.

``bench/movielens.py`` maps MovieLens into the contract (users -> residents, movies -> services
with genres, every rating ``enrolled``; interactions = ua.base, holdout.csv = ua.test); this module
derives the three protocols from that directory:

* ``ua``: train on ua.base, hold out ua.test, no cold residents;
* ``cold_users``: as ``ua``, and 20% of users (``default_rng(0).choice`` over the sorted resident
  ids, ``round(0.2 * 943)`` = 189 — what ``pipeline.train(cold_residents=0.2, seed=0)`` picks) have
  every rating moved to the holdout;
* ``cold_movies``: ``int(0.2 * 1682)`` = 336 movies (``default_rng(0).choice`` over movie ids
  1..1682) lose every rating (ua.base and ua.test) to the holdout; the rest of the ratings train.
  Scored as AUC per user over all movies, training ratings excluded: positives are the user's
  ratings of cold movies.

The cold sets do not depend on the training seed, so every seed is scored on the same split.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from movielens import convert, fetch
from training.tables import write_table

PROTOCOLS = ("ua", "cold_users", "cold_movies")
COLD_SHARE = 0.2


def _copy_tables(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("residents.csv", "services.csv"):
        shutil.copyfile(src / name, dst / name)


def prepare(ml: Path, out: Path) -> dict[str, Path]:
    """Data directories of the three protocols under ``out`` (each with interactions.csv + holdout.csv)."""
    done = out / "ready"
    dirs = {p: out / p for p in PROTOCOLS}
    if done.exists():
        return dirs
    base = convert(fetch(ml), out / "ua")
    train = pd.read_csv(base / "interactions.csv", dtype=str)
    test = pd.read_csv(base / "holdout.csv", dtype=str)

    users = np.array(sorted(pd.unique(pd.concat([train["resident_id"], test["resident_id"]]))), dtype=object)
    cold_u = np.random.default_rng(0).choice(users, size=int(round(COLD_SHARE * len(users))), replace=False)
    moving = train["resident_id"].isin(cold_u)
    _copy_tables(base, dirs["cold_users"])
    write_table(train[~moving], dirs["cold_users"] / "interactions.csv")
    write_table(pd.concat([test, train[moving]], ignore_index=True), dirs["cold_users"] / "holdout.csv")

    n_movies = len(pd.read_csv(base / "services.csv", dtype=str))
    cold_m = {f"m{i}" for i in np.random.default_rng(0).choice(np.arange(1, n_movies + 1),
                                                                size=int(COLD_SHARE * n_movies), replace=False)}
    every = pd.concat([train, test], ignore_index=True)
    cold_rows = every["service_id"].isin(cold_m)
    _copy_tables(base, dirs["cold_movies"])
    write_table(every[~cold_rows], dirs["cold_movies"] / "interactions.csv")
    write_table(every[cold_rows], dirs["cold_movies"] / "holdout.csv")
    done.write_text("ok\n")
    return dirs
