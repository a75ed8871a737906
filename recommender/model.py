"""The learned state of a model: candidate generators' arrays plus the second-stage ranker.

LightFM trained on identities alone ranks residents with history best (side features in the same
model cost warm ranking dearly: 0.254 -> 0.137 precision@10 on MovieLens). So identities and features
live in separate generators, and the ranker (``recommender.ranker``) decides how much each counts for
each kind of resident:

* ``cf``: every service has an embedding ``v_j`` and bias ``b_j`` from LightFM on identities; a resident
  with history has their own embedding ``u``; any profile ``x`` maps to a predicted embedding
  ``x @ W + w0`` (a ridge fit of the learned embeddings on profile features), which is what a walk-in
  is scored with. A warm embedding is written ``(x @ W + w0) + r``, so the score splits exactly into
  per-feature parts plus the resident's own taste ``r``.
* ``hyb`` (optional): LightFM whose services are their features (categories, eligibility shape,
  languages) - trained where services have few uses each, so a service nobody used yet still has a
  meaningful representation. Its residents are identities, mapped from profiles the same way.
* ``knn``: each service's most co-used services (shrunk cosine), summed over a resident's history.
* ``popularity`` and ``recent_popularity``: standardised log use counts, whole span and recent part;
  ``segments``: the same within each profile feature (a sparse features x services matrix).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .ranker import Ranker

#: a sparse table (co-use neighbours, segment shares) is also kept dense for requests when it is at
#: most this big dense and at least this dense: a request then adds a few rows of an array
DENSE_BYTES = 64 << 20
DENSE_MIN_DENSITY = 0.05

_CF = ("item_embeddings", "item_biases", "user_embeddings", "feature_map", "feature_intercept")


@dataclass
class Embeddings:
    """One LightFM generator: services (n, d) and biases, warm residents (n_warm, d), profile map."""

    item_embeddings: np.ndarray
    item_biases: np.ndarray
    user_embeddings: np.ndarray
    feature_map: np.ndarray
    feature_intercept: np.ndarray

    def predicted(self, x: sp.csr_matrix) -> np.ndarray:
        if x.shape[0] == 1:  # one request: a sum of a few rows, without the sparse product machinery
            return (self.feature_intercept + self.feature_map[x.indices].sum(axis=0))[None, :].astype(np.float32)
        return np.asarray(x @ self.feature_map, dtype=np.float32) + self.feature_intercept

    def user_vectors(self, warm_rows: np.ndarray, x: sp.csr_matrix) -> np.ndarray:
        """Each resident's embedding: their own where they have one, predicted from the profile otherwise."""
        warm = warm_rows >= 0
        if len(warm) and warm.all():  # nothing to predict
            return np.array(self.user_embeddings[warm_rows], dtype=np.float32)
        U = self.predicted(x)
        if warm.any():
            U[warm] = self.user_embeddings[warm_rows[warm]]
        return U

    def scores(self, U: np.ndarray) -> np.ndarray:
        return U @ self.item_embeddings.T + self.item_biases

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {prefix + k: getattr(self, k) for k in _CF}

    @classmethod
    def from_arrays(cls, arrays: dict, prefix: str, n_items: int, n_warm: int) -> "Embeddings":
        parts = {k: arrays[prefix + k] for k in _CF}
        d = parts["item_embeddings"].shape[1] if parts["item_embeddings"].ndim == 2 else -1
        expected = {"item_embeddings": (n_items, d), "item_biases": (n_items,), "user_embeddings": (n_warm, d),
                    "feature_intercept": (d,)}
        for key, shape in expected.items():
            if parts[key].shape != shape:
                raise ValueError(f"model array {prefix}{key} has shape {parts[key].shape}, expected {shape}")
        if parts["feature_map"].ndim != 2 or parts["feature_map"].shape[1] != d:
            raise ValueError(f"model array {prefix}feature_map has shape {parts['feature_map'].shape}")
        for key, a in parts.items():
            if not np.isfinite(a).all():
                raise ValueError(f"model array {prefix}{key} holds a non-finite value")
        return cls(**parts)


@dataclass
class HybridModel:
    cf: Embeddings
    hyb: Embeddings | None
    popularity: np.ndarray           # (n_services,) float32, standardised log training popularity
    recent_popularity: np.ndarray    # (n_services,) float32, the same over the recent part
    neighbors: sp.csr_matrix         # (n_services, n_services): each service's co-use weights
    ranker: Ranker
    #: (n_features, n_services): share of the residents with each profile feature who used each service
    segments: sp.csr_matrix | None = None
    #: (n_services,) bool: services nobody used in training. Signals learned from use (collaborative,
    #: co-use, segment, popularity) know nothing of them: serving gives them the average (0) there, so
    #: a new programme is ranked by its features, needs and place, not buried as "least used"
    new_services: np.ndarray | None = None
    #: tables worked out once from the arrays above (see :meth:`dense`)
    _dense: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.new_services is None:
            self.new_services = np.zeros(self.popularity.shape, dtype=bool)
        self.new_services = np.asarray(self.new_services, dtype=bool)
        self.new_index = np.flatnonzero(self.new_services)
        if self.new_services.any():
            self.popularity = np.where(self.new_services, 0.0, self.popularity).astype(np.float32)
            self.recent_popularity = np.where(self.new_services, 0.0, self.recent_popularity).astype(np.float32)

    def dense(self, name: str) -> np.ndarray | None:
        """``neighbors`` or ``segments`` as a read-only dense float32 array, built on first use, when
        small and dense enough (``DENSE_BYTES``, ``DENSE_MIN_DENSITY``); None otherwise. A request's
        co-use and segment signals add a few of its rows (sparse row selection costs more than the
        arithmetic on a catalogue of a few thousand services)."""
        if name not in self._dense:
            m = getattr(self, name)
            out = None
            if m is not None:
                rows, cols = m.shape
                if rows * cols * 4 <= DENSE_BYTES and m.nnz >= DENSE_MIN_DENSITY * rows * cols:
                    out = m.toarray().astype(np.float32, copy=False)
                    out.flags.writeable = False
            self._dense[name] = out
        return self._dense[name]

    @property
    def n_components(self) -> int:
        return int(self.cf.item_embeddings.shape[1])

    def arrays(self) -> dict[str, np.ndarray]:
        out = self.cf.arrays("")
        if self.hyb is not None:
            out.update(self.hyb.arrays("hyb."))
        if self.segments is not None:
            out.update({"segments.indptr": self.segments.indptr, "segments.indices": self.segments.indices,
                        "segments.data": self.segments.data})
        out.update({"popularity": self.popularity, "recent_popularity": self.recent_popularity,
                    "new_services": self.new_services.astype(np.uint8),
                    "neighbors.indptr": self.neighbors.indptr, "neighbors.indices": self.neighbors.indices,
                    "neighbors.data": self.neighbors.data})
        return out

    def meta(self) -> dict:
        return {"ranker": self.ranker.to_json(), "n_components": self.n_components, "hyb": self.hyb is not None,
                "segments": self.segments is not None}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict) -> "HybridModel":
        n_items = arrays["item_embeddings"].shape[0]
        n_warm = arrays["user_embeddings"].shape[0]
        cf = Embeddings.from_arrays(arrays, "", n_items, n_warm)
        hyb = Embeddings.from_arrays(arrays, "hyb.", n_items, n_warm) if meta.get("hyb") else None
        for key in ("popularity", "recent_popularity"):
            if arrays[key].shape != (n_items,) or not np.isfinite(arrays[key]).all():
                raise ValueError(f"model array {key} does not match the services or is not finite")
        ind = arrays["neighbors.indices"]
        if len(arrays["neighbors.indptr"]) != n_items + 1 or (len(ind) and (ind.min() < 0 or ind.max() >= n_items)):
            raise ValueError("model array neighbors does not match the services")
        neighbors = sp.csr_matrix(
            (arrays["neighbors.data"], arrays["neighbors.indices"], arrays["neighbors.indptr"]),
            shape=(n_items, n_items))
        segments = None
        if meta.get("segments"):
            n_features = cf.feature_map.shape[0]
            ind = arrays["segments.indices"]
            if len(arrays["segments.indptr"]) != n_features + 1 or (len(ind) and (ind.min() < 0 or ind.max() >= n_items)):
                raise ValueError("model array segments does not match the features and services")
            segments = sp.csr_matrix((arrays["segments.data"], ind, arrays["segments.indptr"]),
                                     shape=(n_features, n_items))
        new = arrays["new_services"]
        if new.shape != (n_items,):
            raise ValueError("model array new_services does not match the services")
        return cls(cf=cf, hyb=hyb, popularity=arrays["popularity"], recent_popularity=arrays["recent_popularity"],
                   neighbors=neighbors, ranker=Ranker.from_json(meta["ranker"]), segments=segments,
                   new_services=new.astype(bool))
