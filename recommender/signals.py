"""The candidate generators' scores for a batch of residents, every service at once, and the one
kernel that combines them into ranking scores (see ``recommender.ranker`` for what each signal is).

One resident (a request) and thousands (validation, evaluation) go through the same two functions,
so what is measured is what is served.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .model import HybridModel
from .ranker import LONG_HISTORY, SEGMENTS, Ranker


@dataclass
class Batch:
    """What the generators need to know of n residents."""

    warm_rows: np.ndarray            # (n,) row of each resident's own embedding, -1 where none
    X: sp.csr_matrix                 # (n, n_features) profile features
    history: sp.csr_matrix           # (n, n_services) 1 where used: training history + events since
    need: np.ndarray                 # (n, n_services) bool: answers a declared need
    coords: np.ndarray               # (n, 2) resident latitude, longitude; NaN where unknown
    unknown: np.ndarray | None = None    # (n, n_services) bool: eligibility undecided
    area: np.ndarray | None = None       # (n, n_services) bool: the service's area names the district
    speaks: np.ndarray | None = None     # (n, n_services) bool: the service lists a resident's language

    def __len__(self) -> int:
        return len(self.warm_rows)

    @property
    def n_history(self) -> np.ndarray:
        return np.diff(self.history.indptr)

    def segment_rows(self) -> dict[str, np.ndarray]:
        """Row indices of each segment (cold, short, long history)."""
        n = self.n_history
        codes = np.where(n <= 0, 0, np.where(n < LONG_HISTORY, 1, 2))
        return {seg: np.flatnonzero(codes == c) for c, seg in enumerate(SEGMENTS)}


def row_sum(m: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """``m[rows].sum(axis=0)`` as a dense vector, by plain index arithmetic: for the handful of rows of
    one request this is several times cheaper than scipy's slicing and product machinery."""
    if len(rows) == 0:
        return np.zeros(m.shape[1], dtype=np.float32)
    starts, stops = m.indptr[rows], m.indptr[np.asarray(rows) + 1]
    take = np.concatenate([np.arange(a, b) for a, b in zip(starts, stops)]) if len(rows) > 1 else np.arange(starts[0], stops[0])
    return np.bincount(m.indices[take], weights=m.data[take], minlength=m.shape[1]).astype(np.float32)


def _product(X: sp.csr_matrix, m: sp.csr_matrix) -> np.ndarray:
    """Dense ``X @ m`` for a 0/1 row matrix X; one row (a request) by :func:`row_sum`."""
    if X.shape[0] == 1:
        return row_sum(m, X.indices)[None, :]
    return np.asarray((X @ m).todense(), dtype=np.float32)


def local_fit(catalog, profiles) -> tuple[np.ndarray, np.ndarray]:
    """(area, speaks) for each profile: services whose area names its district, services that list one
    of its languages (a service with no list is open to all and counts in neither)."""
    n, m = len(profiles), len(catalog)
    area = np.zeros((n, m), dtype=bool)
    speaks = np.zeros((n, m), dtype=bool)
    for r, p in enumerate(profiles):
        if p.district:
            area[r] = catalog.serving("districts", p.district)
        for lang in p.languages:
            speaks[r] |= catalog.serving("languages", lang)
    return area, speaks


def zscore(x: np.ndarray) -> np.ndarray:
    """Per-row z-scores (float32); a constant row becomes zeros. Two passes over a fresh array: a
    batch of 400 residents over 50,000 services is 80 MB, and numpy's std makes three more."""
    out = np.asarray(x, dtype=np.float32) - np.asarray(x, dtype=np.float32).mean(axis=1, keepdims=True)
    std = np.sqrt(np.einsum("ij,ij->i", out, out, dtype=np.float64) / max(out.shape[1], 1))
    std[std == 0] = 1.0
    out *= (1.0 / std).astype(np.float32)[:, None]
    return out


def haversine_km(lat, lon, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Great-circle distances; broadcasts (n, 1) residents against (n_services,) places."""
    p1, p2 = np.radians(lat), np.radians(lats)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lons - lon) / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def nearness(coords: np.ndarray, service_lat: np.ndarray, service_lon: np.ndarray) -> np.ndarray:
    """z-scored minus log distance per resident; 0 where the resident or the service has no place."""
    out = np.zeros((len(coords), len(service_lat)), dtype=np.float32)
    rows = np.flatnonzero(~np.isnan(coords).any(axis=1))
    placed = ~(np.isnan(service_lat) | np.isnan(service_lon))
    if len(rows) == 0 or placed.sum() < 2:
        return out
    d = haversine_km(coords[rows, :1], coords[rows, 1:], service_lat[placed], service_lon[placed])
    out[np.ix_(rows, np.flatnonzero(placed))] = zscore(-np.log1p(d))
    return out


#: profile features x services entries up to which a batch's segment popularity uses a dense copy of the
#: table (80 MB of float32 at most)
DENSE_SEGMENTS = 20_000_000


def segment_popularity(segments: sp.csr_matrix, X: sp.csr_matrix) -> np.ndarray:
    """z-scored log of the average, over each resident's profile features, of the share of residents
    with that feature who used each service (relative to a uniform choice)."""
    n = np.diff(X.indptr)
    if X.shape[0] == 1:
        avg = row_sum(segments, X.indices)[None, :]
    elif segments.shape[0] * segments.shape[1] <= DENSE_SEGMENTS:
        # a dense product (BLAS) over a transient dense copy of the table: about ten times faster than
        # any sparse product once a batch's rows cover thousands of services
        avg = X.astype(np.float32).toarray() @ segments.toarray()
    else:  # sparse times sparse: a resident has a few features, so this reads only their rows
        avg = (X.astype(np.float32) @ segments).toarray()
    avg /= np.maximum(n, 1).astype(np.float32)[:, None]
    avg *= segments.shape[1]
    return zscore(np.log1p(avg, out=avg))


@dataclass
class Signals:
    values: dict[str, np.ndarray]    # signal -> (n, n_services) or (1, n_services) broadcast
    U: np.ndarray | None             # (n, d) the collaborative embedding each resident was scored with
    cf_raw: np.ndarray | None        # (n, n_services) u . v_j + b_j before standardising


def compute(model: HybridModel, batch: Batch, wanted: set[str], service_lat: np.ndarray,
            service_lon: np.ndarray) -> Signals:
    """The requested signals (the collaborative one, and its embedding, only when asked for)."""
    n, m = len(batch), model.cf.item_embeddings.shape[0]
    values: dict[str, np.ndarray] = {}
    U, raw = None, None
    if "cf" in wanted:
        U = model.cf.user_vectors(batch.warm_rows, batch.X)
        raw = model.cf.scores(U)
        values["cf"] = zscore(raw)
    if "hyb" in wanted and model.hyb is not None:
        values["hyb"] = zscore(model.hyb.scores(model.hyb.user_vectors(batch.warm_rows, batch.X)))
    if "knn" in wanted:
        values["knn"] = (zscore(_product(batch.history, model.neighbors)) if batch.history.nnz
                         else np.zeros((n, m), dtype=np.float32))
    if "seg" in wanted and model.segments is not None:
        values["seg"] = segment_popularity(model.segments, batch.X)
    if "need" in wanted:
        values["need"] = batch.need.astype(np.float32)
    if "pop" in wanted:
        values["pop"] = model.popularity[None, :]
    if "recent" in wanted:
        values["recent"] = model.recent_popularity[None, :]
    if "near" in wanted:
        values["near"] = nearness(batch.coords, service_lat, service_lon)
    for name in ("area", "speaks"):
        mask = getattr(batch, name)
        if name in wanted and mask is not None and mask.any():
            values[name] = mask.astype(np.float32)
    if "unknown" in wanted and batch.unknown is not None:
        values["unknown"] = batch.unknown.astype(np.float32)
    new = model.new_services
    if new.any():
        # what is learned from use says nothing of a service nobody used: the average, not the bottom
        # (the collaborative signal keeps its value: a new service's embedding is mapped from its features)
        for name in ("knn", "seg"):
            if name in values:
                values[name][:, new] = 0.0
        if "new" in wanted:
            values["new"] = new[None, :].astype(np.float32)
    return Signals(values, U, raw)


def combine(signals: Signals, ranker: Ranker, batch: Batch) -> np.ndarray:
    """Ranking scores (n, n_services): each resident's segment weights times the signals.

    Each signal is added once for the whole batch with a per-row weight (its segment's), not once per
    segment through row selections: on a large catalogue every selection copies the batch's rows."""
    out = np.zeros(batch.need.shape, dtype=np.float64)
    tmp = None
    segment_rows = batch.segment_rows()
    names = {name for seg in SEGMENTS for name in ranker.for_segment(seg)}
    for name in sorted(names):
        v = signals.values.get(name)
        if v is None:
            continue
        w = np.zeros(len(batch), dtype=np.float64)
        for seg, rows in segment_rows.items():
            w[rows] = ranker.for_segment(seg).get(name, 0.0)
        if not w.any():
            continue
        if v.shape[0] == 1:  # one row for everyone (popularity): the product is a small array
            out += w[0] * v if (w == w[0]).all() else np.multiply.outer(w, v[0])
            continue
        # one reused buffer for the products: each fresh batch-sized array costs its page faults again
        tmp = np.empty(out.shape) if tmp is None else tmp
        np.multiply(v, w[0] if (w == w[0]).all() else w[:, None], out=tmp)
        out += tmp
    return out
