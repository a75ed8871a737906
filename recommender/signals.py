"""The candidate generators' scores for a batch of residents, every service at once, and the one
kernel that combines them into ranking scores (see ``recommender.ranker`` for what each signal is).

One resident (a request) and thousands (validation, evaluation) go through the same two functions,
so what is measured is what is served.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .model import HybridModel
from .ranker import CONSTANT_SIGNALS, LONG_HISTORY, SEGMENTS, Ranker


_ONE = np.zeros(1, dtype=np.int64)
_NONE = np.zeros(0, dtype=np.int64)
_ONE.flags.writeable = _NONE.flags.writeable = False


class Row:
    """One resident's 0/1 row (profile features, history) in CSR form: what the signals read of a
    one-row matrix (``indptr``, ``indices``, ``data``, ``shape``, ``nnz``; the functions here take
    their one-row branch for it), without scipy's construction checks, which on a request cost more
    than the arithmetic. ``csr()`` gives the scipy matrix."""

    __slots__ = ("indices", "shape")

    def __init__(self, indices: np.ndarray, n_columns: int):
        self.indices = np.asarray(indices, dtype=np.int64)
        self.shape = (1, n_columns)

    @property
    def nnz(self) -> int:
        return len(self.indices)

    @property
    def indptr(self) -> np.ndarray:
        return np.array([0, len(self.indices)], dtype=np.int64)

    @property
    def data(self) -> np.ndarray:
        return np.ones(len(self.indices), dtype=np.float32)

    def csr(self) -> sp.csr_matrix:
        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)

    def toarray(self) -> np.ndarray:
        return self.csr().toarray()


@dataclass
class Batch:
    """What the generators need to know of n residents."""

    warm_rows: np.ndarray            # (n,) row of each resident's own embedding, -1 where none
    X: sp.csr_matrix | Row           # (n, n_features) profile features (a Row for one resident)
    history: sp.csr_matrix | Row     # (n, n_services) 1 where used: training history + events since
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
        if len(self.warm_rows) == 1:  # a request: its one segment, without the array bookkeeping
            n = self.history.nnz
            own = SEGMENTS[0 if n <= 0 else (1 if n < LONG_HISTORY else 2)]
            return {seg: _ONE if seg == own else _NONE for seg in SEGMENTS}
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


def _product(X: sp.csr_matrix, m: sp.csr_matrix, dense: np.ndarray | None = None) -> np.ndarray:
    """Dense ``X @ m`` for a 0/1 row matrix X; one row (a request) by :func:`row_sum`, or by adding
    rows of ``dense`` (``m`` as a dense array) when the caller has it."""
    if X.shape[0] == 1:
        if dense is not None:
            return np.add.reduce(dense.take(X.indices, axis=0), axis=0, keepdims=True)
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
    """Per-row z-scores (float32); a constant row becomes zeros.

    The arithmetic of ``x.mean(axis=1)`` and ``x.std(axis=1)`` (the same sums, so the same rounding),
    written out: numpy's wrappers cost more than the arithmetic on a row of a few thousand services."""
    return zscore_std(x)[0]


def zscore_std(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`zscore` and the (n, 1) standard deviations it divided by (1 for a constant row)."""
    x = np.asarray(x, dtype=np.float32)
    n = x.shape[1]
    if x.shape[0] == 1:  # one row: the same arithmetic on numpy scalars (float32 throughout)
        d = x - np.add.reduce(x[0]) / n
        sd = np.sqrt(np.add.reduce((d * d)[0]) / n)
        if sd == 0:
            sd = np.float32(1.0)
        d /= sd
        return d, np.full((1, 1), sd, dtype=np.float32)
    d = x - np.add.reduce(x, axis=1, keepdims=True) / n
    std = np.sqrt(np.add.reduce(d * d, axis=1, keepdims=True) / n)
    std += std == 0  # a constant row: divided by 1
    return np.divide(d, std, out=d), std


def std(x: np.ndarray) -> float:
    """``x.std()`` of one row, by the sums :func:`zscore` divides by (the same number)."""
    n = x.shape[-1]
    d = x - np.add.reduce(x, axis=-1, keepdims=True) / n
    return float(np.sqrt(np.add.reduce(d * d, axis=-1) / n))


def haversine_km(lat, lon, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Great-circle distances; broadcasts (n, 1) residents against (n_services,) places."""
    p1, p2 = np.radians(lat), np.radians(lats)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lons - lon) / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


class Places:
    """The services' places with their share of the haversine trigonometry done once (a model's
    catalogue is fixed): per request only the resident's own sines are computed, and the distance to
    every service is a few products (``sin((b - a) / 2) = sin(b/2) cos(a/2) - cos(b/2) sin(a/2)``;
    the longitude term's ``cos(lat)`` factors are folded in as square roots)."""

    def __init__(self, service_lat: np.ndarray, service_lon: np.ndarray):
        lat = np.asarray(service_lat, dtype=np.float64)
        lon = np.asarray(service_lon, dtype=np.float64)
        self.n = len(lat)
        self.placed = np.flatnonzero(~(np.isnan(lat) | np.isnan(lon)))
        #: each service's position among the placed ones (-1: no place)
        self.position = np.full(self.n, -1, dtype=np.int64)
        self.position[self.placed] = np.arange(len(self.placed))
        p, lam = np.radians(lat[self.placed]), np.radians(lon[self.placed])
        self.sin_half_lat, self.cos_half_lat = np.sin(p / 2), np.cos(p / 2)
        root = np.sqrt(np.cos(p))  # latitudes are within +-90 degrees: cos >= 0
        self.sin_half_lon, self.cos_half_lon = np.sin(lam / 2) * root, np.cos(lam / 2) * root

    def km(self, lat, lon) -> np.ndarray:
        """Distances from residents at (lat, lon), each (n, 1) or a number, to the placed services:
        (n, n_placed), or (n_placed,) from numbers."""
        if isinstance(lat, float):  # one resident: the resident's own trigonometry on numbers
            p, lam = math.radians(lat), math.radians(lon)
            sin, cos, sqrt = math.sin, math.cos, math.sqrt
        else:
            p, lam = np.radians(lat), np.radians(lon)
            sin, cos, sqrt = np.sin, np.cos, np.sqrt
        root = sqrt(cos(p))
        # haversine: a = sin^2(dlat/2) + cos(lat1) cos(lat2) sin^2(dlon/2)
        a = self.sin_half_lat * cos(p / 2)
        a -= self.cos_half_lat * sin(p / 2)
        a *= a
        b = self.sin_half_lon * (cos(lam / 2) * root)
        b -= self.cos_half_lon * (sin(lam / 2) * root)
        b *= b
        a += b  # >= 0
        np.minimum(a, 1.0, out=a)
        np.sqrt(a, out=a)
        np.arcsin(a, out=a)
        a *= 2 * 6371.0
        return a


def nearness(coords: np.ndarray, service_lat: np.ndarray, service_lon: np.ndarray,
             places: Places | None = None, km: list | None = None) -> np.ndarray:
    """z-scored minus log distance per resident; 0 where the resident or the service has no place.
    ``places``: the services' :class:`Places`, when the caller keeps them (a served model does);
    ``km``: for one resident, a list the distances to the placed services are appended to."""
    out = np.zeros((len(coords), len(service_lat)), dtype=np.float32)
    rows = np.flatnonzero(~np.isnan(coords).any(axis=1))
    if len(rows) == 0:
        return out
    places = places if places is not None else Places(service_lat, service_lon)
    if len(places.placed) < 2:
        return out
    if len(coords) == 1:
        d = places.km(float(coords[0, 0]), float(coords[0, 1]))[None, :]
        if km is not None:
            km.append(d[0].copy())
    else:
        d = places.km(coords[rows, :1], coords[rows, 1:])
    z = zscore(-np.log1p(d, out=d))
    if len(rows) == len(coords):
        out[:, places.placed] = z
    else:
        out[np.ix_(rows, places.placed)] = z
    return out


#: profile features x services entries up to which a batch's segment popularity uses a dense copy of the
#: table (80 MB of float32 at most)
DENSE_SEGMENTS = 20_000_000


def segment_popularity(segments: sp.csr_matrix, X: sp.csr_matrix, dense: np.ndarray | None = None) -> np.ndarray:
    """z-scored log of the average, over each resident's profile features, of the share of residents
    with that feature who used each service (relative to a uniform choice). ``dense``: ``segments`` as
    a dense array (``HybridModel.dense``), which one request sums a few rows of."""
    if X.shape[0] == 1:
        avg = (np.add.reduce(dense.take(X.indices, axis=0), axis=0, keepdims=True) if dense is not None
               else row_sum(segments, X.indices)[None, :])
        avg = avg / np.float64(max(len(X.indices), 1))  # float64, as the batch's division by counts
    else:
        if dense is not None or segments.shape[0] * segments.shape[1] <= DENSE_SEGMENTS:
            # a dense product (BLAS): about ten times faster than any sparse product once a batch's
            # rows cover thousands of services
            avg = X.astype(np.float32).toarray() @ (dense if dense is not None else segments.toarray())
        else:  # sparse times sparse: a resident has a few features, so this reads only their rows
            avg = (X.astype(np.float32) @ segments).toarray()
        avg /= np.maximum(np.diff(X.indptr), 1).astype(np.float32)[:, None]
    avg *= segments.shape[1]
    return zscore(np.log1p(avg, out=avg))


@dataclass
class Signals:
    values: dict[str, np.ndarray]    # signal -> (n, n_services) or (1, n_services) broadcast
    U: np.ndarray | None             # (n, d) the collaborative embedding each resident was scored with
    cf_raw: np.ndarray | None        # (n, n_services) u . v_j + b_j before standardising
    knn_raw: np.ndarray | None = None    # (n, n_services) the co-use sums before standardising
    #: signal -> (n, 1) the standard deviations ``cf_raw`` and ``knn_raw`` were divided by
    stds: dict[str, np.ndarray] = field(default_factory=dict)
    #: one resident's distances (km) to the placed services (``Places.placed``), when ``near`` was
    #: computed for them
    km: np.ndarray | None = None


def compute(model: HybridModel, batch: Batch, wanted: set[str], service_lat: np.ndarray,
            service_lon: np.ndarray, places: Places | None = None) -> Signals:
    """The requested signals (the collaborative one, and its embedding, only when asked for).
    ``places``: the services' :class:`Places` (else worked out from ``service_lat``/``service_lon``)."""
    n, m = len(batch), model.cf.item_embeddings.shape[0]
    values: dict[str, np.ndarray] = {}
    stds: dict[str, np.ndarray] = {}
    km: list[np.ndarray] = []
    U, raw, knn_raw = None, None, None
    if "cf" in wanted:
        U = model.cf.user_vectors(batch.warm_rows, batch.X)
        raw = model.cf.scores(U)
        values["cf"], stds["cf"] = zscore_std(raw)
    if "hyb" in wanted and model.hyb is not None:
        values["hyb"] = zscore(model.hyb.scores(model.hyb.user_vectors(batch.warm_rows, batch.X)))
    if "knn" in wanted:
        if batch.history.nnz:
            knn_raw = _product(batch.history, model.neighbors, model.dense("neighbors"))
            values["knn"], stds["knn"] = zscore_std(knn_raw)
        else:
            values["knn"] = np.zeros((n, m), dtype=np.float32)
    if "seg" in wanted and model.segments is not None:
        values["seg"] = segment_popularity(model.segments, batch.X, model.dense("segments"))
    if "need" in wanted:
        values["need"] = batch.need.astype(np.float32)
    if "pop" in wanted:
        values["pop"] = model.popularity[None, :]
    if "recent" in wanted:
        values["recent"] = model.recent_popularity[None, :]
    if "near" in wanted:
        values["near"] = nearness(batch.coords, service_lat, service_lon, places, km)
    for name in ("area", "speaks"):
        mask = getattr(batch, name)
        if name in wanted and mask is not None and mask.any():
            values[name] = mask.astype(np.float32)
    if "unknown" in wanted and batch.unknown is not None:
        values["unknown"] = batch.unknown.astype(np.float32)
    new = model.new_index
    if len(new):
        # what is learned from use says nothing of a service nobody used: the average, not the bottom
        # (the collaborative signal keeps its value: a new service's embedding is mapped from its features)
        for name in ("knn", "seg"):
            if name in values:
                values[name][:, new] = 0.0
        if "new" in wanted:
            values["new"] = model.new_services[None, :].astype(np.float32)
    return Signals(values, U, raw, knn_raw, stds, km[0] if km else None)


def combine(signals: Signals, ranker: Ranker, batch: Batch) -> np.ndarray:
    """Ranking scores (n, n_services): each resident's segment weights times the signals.

    A request adds its segment's constant part, worked out once per ranker, and its own signals; a
    batch adds each signal once with a per-row weight (its segment's), a few rows at a time (:func:`blend`)."""
    values = signals.values
    if len(batch) == 1:
        seg = next(seg for seg, rows in batch.segment_rows().items() if len(rows))
        const = ranker.constant(seg, values)  # the services' own signals, summed once per ranker
        terms = [(w, v) for name, w in ranker.for_segment(seg).items()
                 if (v := values.get(name)) is not None and not (const is not None and name in CONSTANT_SIGNALS)]
        if const is not None and terms:
            # (0 + const) + w v + ...: the first sum is a new array, so nothing is zeroed first
            w, v = terms[0]
            out = const + w * v
            if out.shape != batch.need.shape:
                out = np.broadcast_to(out, batch.need.shape).copy()
            terms = terms[1:]
        else:
            out = np.zeros(batch.need.shape, dtype=np.float64)
            if const is not None:
                out += const
        for w, v in terms:
            out += w * v
        return out
    return blend(values, row_weights(ranker, batch), batch.need.shape)


def row_weights(ranker: Ranker, batch: Batch) -> dict[str, np.ndarray]:
    """Each signal ``ranker`` weighs, by name in sorted order, with its weight for each resident of the
    batch (its segment's; 0 where that segment does not weigh it)."""
    segments = {seg: rows for seg, rows in batch.segment_rows().items() if len(rows)}
    out = {}
    for name in sorted({name for seg in segments for name in ranker.for_segment(seg)}):
        w = np.zeros(len(batch), dtype=np.float64)
        for seg, rows in segments.items():
            w[rows] = ranker.for_segment(seg).get(name, 0.0)
        out[name] = w
    return out


#: rows of a batch :func:`blend` sums at a time: a few rows' products and running sums stay in the
#: core's cache while each signal streams past once (at 50,000 services, 1.5x faster than adding
#: whole-batch products; the arithmetic of each score is the same)
BLEND_ROWS = 4


def blend(values: dict[str, np.ndarray], weights: dict[str, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """(n, n_services) float64: the sum, in the order of ``weights``, of each signal times its per-row
    weight (:func:`row_weights`); a signal absent from ``values`` adds nothing."""
    n, m = shape
    out = np.empty(shape, dtype=np.float64)
    terms = []
    for name, w in weights.items():
        v = values.get(name)
        if v is None:
            continue
        same = bool((w == w[0]).all()) if n else True
        if v.shape[0] == 1:  # one row for everyone (popularity): a uniform weight's product is one row
            terms.append((None, w[0] * v if same else None, w, v))
        else:
            terms.append((w[0] if same else w[:, None], None, w, v))
    if not terms:
        out.fill(0.0)
        return out
    tmp = np.empty((min(BLEND_ROWS, n), m), dtype=np.float64)
    for a in range(0, n, BLEND_ROWS):
        o = out[a:a + BLEND_ROWS]
        t = tmp[:len(o)]
        # the first product is written, not added to zeros: the same numbers (0 + x is x), one pass less
        for j, (scale, row, w, v) in enumerate(terms):
            dest = t if j else o
            if v.shape[0] == 1:
                if row is not None:
                    dest[...] = row
                else:
                    np.multiply.outer(w[a:a + BLEND_ROWS], v[0], out=dest)
            else:
                np.multiply(v[a:a + BLEND_ROWS], scale if np.ndim(scale) == 0 else scale[a:a + BLEND_ROWS], out=dest)
            if j:
                o += t
    return out


def wanted(ranker: Ranker, batch: Batch) -> set[str]:
    """The signals ``ranker`` weighs for the segments the batch's residents are in (a request needs
    only its own segment's)."""
    return {name for seg, rows in batch.segment_rows().items() if len(rows) for name in ranker.for_segment(seg)}
