"""Hold out data for evaluation the way the model will meet it: the future, and residents never seen.

* by time: the most recent ``fraction`` of interactions go to the holdout - the cut is that quantile
  of their timestamps, so a few late events (feedback exported after the data) do not move the whole
  holdout onto themselves (an explicit holdout file replaces this);
* cold residents: a ``cold_fraction`` of residents (``numpy.random.default_rng(seed).choice`` over the
  sorted ids of residents with interactions) have every interaction moved to the holdout, so the
  holdout contains residents the model knows only by their profile.
When every timestamp is equal (no time column), a seeded random ``fraction`` of interactions is held out
instead, and the report says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class Split:
    train: pd.DataFrame
    holdout: pd.DataFrame
    cold_residents: np.ndarray
    info: dict = field(default_factory=dict)


def split_interactions(interactions: pd.DataFrame, *, fraction: float = 0.2, holdout: pd.DataFrame | None = None,
                       cold_fraction: float = 0.1, seed: int = 0) -> Split:
    if not 0 <= cold_fraction < 1:
        raise ValueError("cold_residents: must be a fraction in [0, 1)")
    if not 0 < fraction < 1:
        raise ValueError("holdout fraction: must be in (0, 1)")
    info: dict = {}
    if holdout is not None:
        train, test = interactions, holdout
        info["holdout"] = "file"
    else:
        ts = interactions["timestamp"].to_numpy()
        lo, hi = (int(ts.min()), int(ts.max())) if len(ts) else (0, 0)
        cut = float(np.quantile(ts, 1.0 - fraction)) if hi > lo else lo
        if cut > lo:
            is_test = ts >= cut
            info.update(holdout="time", cut_timestamp=int(cut))
        else:
            rng = np.random.default_rng(seed)
            is_test = rng.random(len(interactions)) < fraction
            info["holdout"] = "random (no time span)"
        train, test = interactions[~is_test], interactions[is_test]
    cold = np.array([], dtype=object)
    if cold_fraction > 0:
        ids = np.array(sorted(pd.unique(pd.concat([train["resident_id"], test["resident_id"]]))), dtype=object)
        n_cold = int(round(cold_fraction * len(ids)))
        if n_cold:
            cold = np.random.default_rng(seed).choice(ids, size=n_cold, replace=False)
            moving = train["resident_id"].isin(cold)
            test = pd.concat([test, train[moving]], ignore_index=True)
            train = train[~moving]
    info.update(train_rows=int(len(train)), holdout_rows=int(len(test)), cold_residents=int(len(cold)))
    return Split(train.reset_index(drop=True), test.reset_index(drop=True), cold, info)
