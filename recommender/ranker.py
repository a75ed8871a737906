"""The second stage: how the candidate generators' scores combine into one ranking score.

Every ranker is linear over a fixed set of per-(resident, service) signals, with its own weights for
three kinds of resident (the resident's history length is what changes which signal can be trusted):

* ``cold``  - no usable history: a walk-in or a resident the model has never seen use anything;
* ``short`` - one or two services used (often a single view);
* ``long``  - three or more.

The signals (``SIGNALS``), each computed by :mod:`recommender.signals` for every service at once:

* ``cf``      collaborative score of LightFM on identities (a cold resident's embedding is predicted
              from the profile), z-scored per resident;
* ``hyb``     LightFM with service features (tags, eligibility shape) - what ranks services with few
              or no uses; z-scored per resident; absent when the catalogue is dense;
* ``knn``     co-use neighbourhood score of the resident's history, z-scored per resident (feedback
              recorded after training counts here at once);
* ``seg``     popularity among residents who share the profile's features (age band, district, ...):
              the log of the average, over the resident's features, of the share of residents with that
              feature who used the service, z-scored - what a walk-in's neighbours in profile chose;
* ``need``    1 where the service answers a declared need;
* ``pop``     standardised log popularity over the whole training span; ``recent`` the same over its
              most recent part (demand moves);
* ``near``    closeness to the resident's own coordinates (z-scored minus log distance; 0 where either
              side has no place);
* ``area``    1 where the service's area names the resident's district (a local programme rather than
              one open to the whole city: what counts for place where there are no coordinates);
* ``speaks``  1 where the service lists one of the resident's languages;
* ``unknown`` 1 where eligibility cannot be decided from the profile;
* ``new``     1 for a service nobody used in training (the signals learned from use give it the
              average there, so it is ranked by its features, the needs it answers and its place).

The learned ranker's weights come from pairwise logistic regression on a time-forward validation
slice (``training.fit``). A single generator or a baseline is the same kind of object with one
weight, so serving, validation, evaluation and the baselines all rank through one kernel. Why linear
and not boosted trees: the served list is a weighted sum of a handful of vectors the size of the
catalogue (about 10 microseconds for 2,000 services), it is saved as a few numbers in ``model.json``
(no pickle), and each weight times its signal is an exact, readable part of the explanation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

SIGNALS = ("cf", "hyb", "knn", "seg", "need", "pop", "recent", "near", "area", "speaks", "unknown", "new")
SEGMENTS = ("cold", "short", "long")
#: a resident with at least this many services in their history is "long"
LONG_HISTORY = 3

#: signals that are the same for every resident of a model (the services' own): a ranker adds their
#: weighted sum as one precomputed row (``Ranker.constant``)
CONSTANT_SIGNALS = ("pop", "recent", "new")

#: how a baseline ranks, written as weights: need_match puts every need-answering service above the
#: rest (standardised popularity spans a few units) and orders each part by popularity
BASELINES = {
    "popularity": {"pop": 1.0},
    "need_match": {"need": 100.0, "pop": 1.0},
}


def segment_of(n_history: int) -> str:
    return "cold" if n_history <= 0 else ("short" if n_history < LONG_HISTORY else "long")


@dataclass
class Ranker:
    """Weights per segment: ``weights[segment][signal]``; missing signals weigh 0."""

    name: str
    weights: dict[str, dict[str, float]]
    #: why this ranker serves (validation figures), written at training time
    info: dict = field(default_factory=dict)
    #: segment -> (the constant signals' weights and arrays it was worked out from, their weighted sum)
    _constant: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def uniform(cls, name: str, w: dict[str, float], info: dict | None = None) -> "Ranker":
        return cls(name, {s: dict(w) for s in SEGMENTS}, info or {})

    @classmethod
    def baseline(cls, name: str) -> "Ranker":
        return cls.uniform(name, BASELINES[name])

    def for_segment(self, segment: str) -> dict[str, float]:
        return {k: v for k, v in self.weights.get(segment, {}).items() if v}

    def constant(self, segment: str, values: dict):
        """The weighted sum (float64, (1, n_services)) of the segment's :data:`CONSTANT_SIGNALS` among
        ``values`` (signal -> array), worked out once per segment and arrays; None when there are none."""
        weights = self.weights.get(segment, {})
        parts = tuple((name, weights[name], values[name]) for name in CONSTANT_SIGNALS
                      if weights.get(name) and values.get(name) is not None and values[name].shape[0] == 1)
        if not parts:
            return None
        known = self._constant.get(segment)
        if known is not None and len(known[0]) == len(parts) and all(
                a[0] == b[0] and a[1] == b[1] and a[2] is b[2] for a, b in zip(known[0], parts)):
            return known[1]
        out = np.zeros((1, parts[0][2].shape[-1]), dtype=np.float64)
        for _, w, v in parts:
            out += w * v
        out.flags.writeable = False
        self._constant[segment] = (parts, out)
        return out

    def signals(self) -> set[str]:
        return {k for seg in self.weights.values() for k, v in seg.items() if v}

    def to_json(self) -> dict:
        return {"name": self.name, "weights": self.weights, "info": self.info}

    @classmethod
    def from_json(cls, data) -> "Ranker":
        """Validated: every weight a finite number on a known signal and segment."""
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise ValueError("ranker: expected an object with a name")
        weights = data.get("weights")
        if not isinstance(weights, dict) or set(weights) - set(SEGMENTS):
            raise ValueError(f"ranker.weights: expected segments among {', '.join(SEGMENTS)}")
        out: dict[str, dict[str, float]] = {}
        for seg, w in weights.items():
            if not isinstance(w, dict):
                raise ValueError(f"ranker.weights.{seg}: expected an object")
            for k, v in w.items():
                if k not in SIGNALS:
                    raise ValueError(f"ranker.weights.{seg}.{k}: unknown signal")
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise ValueError(f"ranker.weights.{seg}.{k}: expected a finite number")
            out[seg] = {k: float(v) for k, v in w.items()}
        info = data.get("info", {})
        return cls(data["name"], out, info if isinstance(info, dict) else {})
