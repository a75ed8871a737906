"""Fit a model: candidate generators, then the second-stage ranker chosen on the future.

1. Split the training span by time: the most recent ``validation_fraction`` of interactions is the
   validation slice, and ``cold_validation`` of residents are held out whole - the same two
   protocols evaluation uses (the next weeks of every resident with any history, and residents seen
   only by their profile).
2. Fit the generators on the past (``recommender.model``): LightFM on identities, LightFM with service
   features where services have few uses, co-use neighbours, popularity, a ridge map from profiles.
3. Learn the ranker on the validation slice (``recommender.ranker``): pairwise logistic regression over
   the generators' signals, per kind of resident; it serves only where it beats, out of fold, every
   single generator and both baselines, ranked through the same kernel as serving.
4. Fit the generators again on everything (the slice included), LightFM from scratch with the same
   epochs; what was chosen in 3 is kept.
Total cost is about two LightFM fits (the past's and everything's) and the validation; bench/train_city.py
measures it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.model import Embeddings, HybridModel
from recommender.schema import POSITIVE_EVENTS

from .validation import choose_ranker


@dataclass
class FitData:
    """Everything fitting needs, indexed: residents and services by row, positives as a matrix."""

    resident_ids: np.ndarray          # every resident in the table, table order
    X: sp.csr_matrix                  # resident features, table order
    service_features: sp.csr_matrix   # service features, catalogue order
    #: rows (table order) -> (for each resident: declared need -> the services answering it,
    #: residents x services eligibility outcomes as served, and the (area, speaks) masks of
    #: ``recommender.signals.local_fit``); asked only for the few thousand validation residents, so
    #: the ranker is chosen on the lists residents actually see (for a million residents a whole
    #: residents x services matrix would hold about a billion entries)
    needs_and_eligibility: Callable[[np.ndarray], tuple[list[dict[str, np.ndarray]], np.ndarray, tuple]]
    interactions: pd.DataFrame        # training interactions with int columns 'r' and 's'
    service_lat: np.ndarray           # (n_services,) NaN where a service has no place
    service_lon: np.ndarray
    #: (n_residents, 2) latitude, longitude; NaN where unknown
    coords: np.ndarray | None = None
    #: services x tokens (categories with ancestors, languages, eligibility shape): what LightFM with
    #: service features learns from (the TF-IDF text is left out: hundreds of entries per service)
    service_tokens: sp.csr_matrix | None = None


def ridge(X: sp.spmatrix, Y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form ridge with an unpenalised intercept: returns (W, w0) with Y ~ X @ W + w0.

    Features are few (hundreds) and rows many (up to millions), so the normal equations are the
    cheapest exact solution: one sparse X^T X and a small dense solve.
    """
    X = sp.csr_matrix(X, dtype=np.float64)
    n = X.shape[0]
    mean_x = np.asarray(X.mean(axis=0)).ravel()
    mean_y = Y.mean(axis=0)
    xtx = (X.T @ X).toarray() - n * np.outer(mean_x, mean_x)
    xty = np.asarray(X.T @ Y) - n * np.outer(mean_x, mean_y)
    W = np.linalg.solve(xtx + alpha * np.eye(X.shape[1]), xty)
    w0 = mean_y - mean_x @ W
    return W.astype(np.float32), w0.astype(np.float32)


def item_neighbors(history: sp.csr_matrix, top: int = 100, shrink: float = 10.0,
                   chunk: int = 2048) -> sp.csr_matrix:
    """Services x services: each service's ``top`` most similar by who used both (shrunk cosine).

    ``S[i, j] = c_ij / (sqrt(n_i * n_j) + shrink)`` with ``c_ij`` the residents who used both; the
    shrink term keeps pairs seen once from outranking well-supported ones. Computed a block of rows at
    a time and kept sparse throughout: a long-tail catalogue of 50,000 services has few co-uses, and a
    dense block of it would be most of the time and memory.
    """
    B = (history > 0).astype(np.float32).tocsc()
    n_items = B.shape[1]
    norms = np.sqrt(np.asarray(B.sum(axis=0)).ravel())
    Bt = B.T.tocsr()
    rows, cols, vals = [], [], []
    for start in range(0, n_items, chunk):
        block = (Bt[start:start + chunk] @ B).tocoo()
        r, c = block.row, block.col
        v = block.data / (norms[r + start] * norms[c] + shrink)
        keep = (r + start != c) & (v > 0)
        r, c, v = r[keep], c[keep], v[keep]
        order = np.lexsort((-v, r))                     # by row, best first
        r, c, v = r[order], c[order], v[order]
        first = np.searchsorted(r, r, side="left")      # each entry's position within its row
        keep = np.arange(len(r)) - first < top
        rows.append(r[keep] + start); cols.append(c[keep]); vals.append(v[keep])
    if not rows:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    S = sp.csr_matrix((np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n_items, n_items))
    S.sort_indices()
    return S


def positives_matrix(inter: pd.DataFrame, n_rows: int, n_cols: int) -> sp.coo_matrix:
    """Positive interactions (not declined), one entry per pair holding its strongest event weight."""
    pos = inter[(inter["event"] != "declined") & (inter["weight"] > 0)]
    if len(pos) == 0:
        return sp.coo_matrix((n_rows, n_cols), dtype=np.float32)
    g = pos.groupby(["r", "s"], sort=True)["weight"].max()
    r = g.index.get_level_values(0).to_numpy()
    s = g.index.get_level_values(1).to_numpy()
    return sp.coo_matrix((g.to_numpy(dtype=np.float32), (r, s)), shape=(n_rows, n_cols))


#: above this many services the co-use model is the sparse neighbourhood: EASE inverts a dense
#: services x services matrix (5,000 services: 100 MB and a few seconds)
EASE_MAX_SERVICES = 5000


def ease(history: sp.csr_matrix, lam: float, top: int = 500) -> sp.csr_matrix:
    """EASE (Steck, 2019): the item-item linear model ``B = argmin ||X - XB||^2 + lam ||B||^2, diag(B) = 0``,
    closed form ``P = (X^T X + lam I)^-1, B = -P / diag(P)``. Kept sparse: each service's ``top`` largest
    weights by magnitude (the rest are near zero and would only grow the model file)."""
    X = (history > 0).astype(np.float64)
    G = (X.T @ X).toarray()
    G[np.diag_indices_from(G)] += lam
    P = np.linalg.inv(G)
    B = -P / np.diag(P)[None, :]
    np.fill_diagonal(B, 0.0)
    n = B.shape[0]
    k = min(top, n - 1)
    if k <= 0:
        return sp.csr_matrix((n, n), dtype=np.float32)
    idx = np.argpartition(-np.abs(B), k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(B, idx, axis=1)
    S = sp.csr_matrix((vals.ravel().astype(np.float32), (np.repeat(np.arange(n), k), idx.ravel())), shape=(n, n))
    S.eliminate_zeros()
    S.sort_indices()
    return S


def segment_shares(X: sp.csr_matrix, used: sp.csr_matrix) -> sp.csr_matrix:
    """(features x services) share of the residents having each feature who used each service; ``X``
    and ``used`` are residents x features and residents x services (binary)."""
    Xb = (X > 0).astype(np.float32)
    C = (Xb.T @ (used > 0).astype(np.float32)).tocsr()
    n = np.asarray(Xb.sum(axis=0)).ravel()
    C = sp.diags(1.0 / np.maximum(n, 1.0)).astype(np.float32) @ C
    return C.astype(np.float32).tocsr()


def popularity(counts: np.ndarray) -> np.ndarray:
    """Standardised log use counts (the ``pop`` and ``recent`` signals)."""
    p = np.log1p(np.asarray(counts, dtype=np.float64))
    sd = p.std() or 1.0
    return ((p - p.mean()) / sd).astype(np.float32)


class HybridTrainer:
    """Estimator producing a :class:`recommender.model.HybridModel`.

    Parameters follow LightFM's names where they are LightFM's. ``validation_fraction``: the most
    recent share of training interactions the ranker is chosen on; ``cold_validation``: the share of
    residents held out whole for the cold protocol; ``hybrid``: fit LightFM with service
    features ("auto": where most services have at most two uses, or many have none); ``validation``:
    "time" holds out the most recent slice, "random" a random fifth of each resident's strong positives
    (for a holdout that is not in the future either, such as MovieLens' ua.test: the validation must
    look like how the model is judged).
    """

    def __init__(self, no_components: int = 32, epochs: int = 20, learning_rate: float = 0.05,
                 loss: str = "warp", max_sampled: int = 10, item_alpha: float = 0.0, user_alpha: float = 0.0,
                 ridge_alpha: float = 10.0, neighbors: int = 100, validation_fraction: float = 0.15,
                 validation_residents: int = 3000, cold_validation: float = 0.1,
                 hybrid: str | bool = "auto", recent_fraction: float = 0.25, validation: str = "time",
                 ease_lambda: float | None = None, cold_services: float = 0.05, num_threads: int = 2,
                 random_state: int = 0, progress: bool = True):
        self.no_components = no_components
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.loss = loss
        self.max_sampled = max_sampled
        self.item_alpha = item_alpha
        self.user_alpha = user_alpha
        self.ridge_alpha = ridge_alpha
        self.neighbors = neighbors
        self.validation_fraction = validation_fraction
        self.validation_residents = validation_residents
        self.cold_validation = cold_validation
        self.hybrid = hybrid
        self.recent_fraction = recent_fraction
        self.validation = validation
        self.ease_lambda = ease_lambda
        self.cold_services = cold_services
        self.num_threads = num_threads
        self.random_state = random_state
        self.progress = progress

    _PARAMS = ("no_components", "epochs", "learning_rate", "loss", "max_sampled", "item_alpha", "user_alpha",
               "ridge_alpha", "neighbors", "validation_fraction", "validation_residents", "cold_validation",
               "hybrid", "recent_fraction", "validation", "ease_lambda", "cold_services", "num_threads",
               "random_state")

    def get_params(self) -> dict:
        return {k: getattr(self, k) for k in self._PARAMS}

    # ------------------------------------------------------------------ LightFM
    def _lightfm(self):
        from lightfm import LightFM

        return LightFM(no_components=self.no_components, loss=self.loss, learning_rate=self.learning_rate,
                       max_sampled=self.max_sampled, item_alpha=self.item_alpha, user_alpha=self.user_alpha,
                       random_state=self.random_state)

    def _epochs(self, lfm, matrix: sp.coo_matrix, epochs: int, item_features=None) -> None:
        if epochs <= 0 or matrix.nnz == 0:
            return
        interactions = sp.coo_matrix((np.ones_like(matrix.data), (matrix.row, matrix.col)), shape=matrix.shape)
        # one call for all epochs: LightFM re-validates its inputs on every call, which costs as much
        # as an epoch on a million interactions; verbose=True gives its own per-epoch progress bar
        lfm.fit_partial(interactions, item_features=item_features, sample_weight=matrix, epochs=epochs,
                        num_threads=self.num_threads, verbose=self.progress)

    def _embeddings(self, lfm, X_warm: sp.csr_matrix, fitted: np.ndarray, item_features=None,
                    cold_items: np.ndarray | None = None, service_features=None) -> Embeddings:
        """A generator's arrays from a fitted LightFM: services, residents, and the ridge map from
        profiles (fitted on the residents with history in what LightFM saw)."""
        if item_features is None:
            b, V = lfm.item_biases.astype(np.float32).copy(), lfm.item_embeddings.astype(np.float32).copy()
        else:
            b, V = (a.astype(np.float32) for a in lfm.get_item_representations(item_features))
        U = lfm.user_embeddings.astype(np.float32).copy()
        if cold_items is not None and cold_items.any() and (~cold_items).sum() >= 2:
            # services nobody used: an identity embedding never trained is noise; map their features
            # onto the embeddings of services that were used instead
            Fi = service_features
            Wi, wi0 = ridge(Fi[~cold_items], np.column_stack([V[~cold_items], b[~cold_items]]), self.ridge_alpha)
            pred = np.asarray(Fi[cold_items] @ Wi) + wi0
            V[cold_items], b[cold_items] = pred[:, :-1], pred[:, -1]
        W, w0 = ridge(X_warm[fitted], U[fitted], self.ridge_alpha) if fitted.sum() >= 2 else (
            np.zeros((X_warm.shape[1], U.shape[1]), dtype=np.float32), U[fitted].mean(axis=0) if fitted.any()
            else np.zeros(U.shape[1], dtype=np.float32))
        return Embeddings(item_embeddings=V, item_biases=b, user_embeddings=U, feature_map=W,
                          feature_intercept=np.asarray(w0, dtype=np.float32))

    def _wants_hybrid(self, counts: np.ndarray, data: FitData) -> bool:
        if data.service_tokens is None or data.service_tokens.shape[1] == 0:
            return False
        if self.hybrid != "auto":
            return bool(self.hybrid)
        used = counts[counts > 0]
        return bool(len(used) == 0 or np.median(used) <= 2 or (counts == 0).mean() >= 0.1)

    # ------------------------------------------------------------------ fitting
    def fit(self, data: FitData) -> "HybridTrainer":
        t0 = time.perf_counter()
        timing: dict[str, float] = {}
        n_res, n_items = len(data.resident_ids), data.service_features.shape[0]
        inter = data.interactions
        full = positives_matrix(inter, n_res, n_items).tocsr()
        warm_res = np.flatnonzero(np.diff(full.indptr) > 0)
        if len(warm_res) == 0:
            raise ValueError("interactions: no positive training interaction; nothing to learn from")
        warm_rows = np.full(n_res, -1, dtype=np.int64)
        warm_rows[warm_res] = np.arange(len(warm_res))
        inter = inter[warm_rows[inter["r"].to_numpy()] >= 0]
        part = inter.assign(r=warm_rows[inter["r"].to_numpy()])   # rows of warm residents
        all_m = positives_matrix(part, len(warm_res), n_items).tocsr()
        X_warm = data.X[warm_res]
        counts = all_m.getnnz(axis=0)
        hybrid = self._wants_hybrid(counts, data)
        tokens = data.service_tokens
        # what a new service's collaborative embedding is mapped from: every feature (text included)
        # where the catalogue is small; its tags alone for a long tail (the text's normal equations
        # over 50,000 services would be most of the training time)
        mapped_features = data.service_features if n_items <= EASE_MAX_SERVICES or tokens is None else tokens

        # 1. the time-forward split of the training span
        rng = np.random.default_rng(self.random_state)
        past, cold_val, cut, recent = self._split(part, rng)
        past_m = positives_matrix(past, len(warm_res), n_items).tocsr()

        # 2. generators on the past
        t = time.perf_counter()
        cf = self._lightfm()
        self._epochs(cf, past_m.tocoo(), self.epochs)
        hy = None
        if hybrid:
            hy = self._lightfm()
            self._epochs(hy, past_m.tocoo(), self.epochs, item_features=tokens)
        timing["lightfm_past"] = time.perf_counter() - t
        t = time.perf_counter()
        fitted = np.diff(past_m.indptr) > 0
        past_counts = past_m.getnnz(axis=0)
        past_model = HybridModel(
            cf=self._embeddings(cf, X_warm, fitted, cold_items=past_counts == 0,
                                service_features=mapped_features),
            hyb=self._embeddings(hy, X_warm, fitted, item_features=tokens) if hy is not None else None,
            popularity=popularity(past_counts), recent_popularity=self._recent(past, n_items),
            neighbors=self._co_use(past_m, sparse=hybrid), ranker=None,
            segments=segment_shares(X_warm[fitted], past_m[fitted]), new_services=past_counts == 0)
        timing["generators_past"] = time.perf_counter() - t

        # 3. the ranker, chosen on the validation slice
        t = time.perf_counter()
        self.ranker_ = choose_ranker(past_model, data, warm_res=warm_res, part=part, past_m=past_m,
                                     recent=recent, cold_val=cold_val,
                                     max_residents=self.validation_residents, seed=self.random_state,
                                     threads=self.num_threads)
        self.ranker_.info["cut_timestamp"] = None if not np.isfinite(cut) else int(cut)
        timing["ranker"] = time.perf_counter() - t

        # 4. the generators fitted again on everything, from scratch with the same epochs. Continuing
        # the past fit for a few epochs instead is cheaper but serves worse: the slice's interactions
        # were negatives for all the past epochs, and the rest is over-trained (MovieLens ua, plain
        # LightFM's own settings: precision@10 0.239 continued vs 0.251 refitted for the cf generator alone)
        t = time.perf_counter()
        cf = self._lightfm()
        self._epochs(cf, all_m.tocoo(), self.epochs)
        if hy is not None:
            hy = self._lightfm()
            self._epochs(hy, all_m.tocoo(), self.epochs, item_features=tokens)
        timing["lightfm_all"] = time.perf_counter() - t
        t = time.perf_counter()
        everyone = np.ones(len(warm_res), dtype=bool)
        cold_items = counts == 0
        self.model_ = HybridModel(
            cf=self._embeddings(cf, X_warm, everyone, cold_items=cold_items,
                                service_features=mapped_features),
            hyb=self._embeddings(hy, X_warm, everyone, item_features=tokens) if hy is not None else None,
            popularity=popularity(counts), recent_popularity=self._recent(part, n_items),
            neighbors=self._co_use(all_m, sparse=hybrid), ranker=self.ranker_, segments=segment_shares(X_warm, all_m),
            new_services=cold_items)
        timing["generators"] = time.perf_counter() - t
        self.warm_rows_ = warm_rows
        self.cold_services_ = int(cold_items.sum())
        self.hybrid_ = hybrid
        timing["total"] = time.perf_counter() - t0
        self.timing_ = timing
        return self

    def _co_use(self, matrix: sp.csr_matrix, sparse: bool) -> sp.csr_matrix:
        """The co-use model behind the ``knn`` signal: EASE where the catalogue is small enough to invert
        and dense enough to learn from (its regulariser the mean number of uses per service: the scale
        of X^T X's diagonal), the shrunk-cosine neighbourhood otherwise (a long tail of services used
        once or twice has almost no co-use to fit, and inverting it would be most of the training time)."""
        n_items = matrix.shape[1]
        if n_items <= EASE_MAX_SERVICES and matrix.nnz and not sparse:
            lam = self.ease_lambda if self.ease_lambda is not None else max(10.0, matrix.nnz / n_items)
            return ease(matrix, lam)
        return item_neighbors(matrix, top=self.neighbors)

    def _split(self, part: pd.DataFrame, rng) -> tuple[pd.DataFrame, np.ndarray, float, np.ndarray]:
        """(past interactions, cold validation residents (warm rows), cut timestamp, the slice as a
        mask over ``part``).

        The cut is a quantile of interaction times, not of the time span: a few late events (feedback
        recorded after the data was exported) must not move the whole validation slice onto them.
        """
        ts = part["timestamp"].to_numpy()
        cut = float(np.quantile(ts, 1.0 - self.validation_fraction)) if len(ts) else 0.0
        if self.validation == "random":
            cut = np.inf
            recent = self._random_slice(part, rng)
        elif len(ts) and cut <= ts.min():
            # no time to speak of: the most recent share by order of the table instead
            cut = np.inf
            recent = rng.random(len(part)) < self.validation_fraction
        else:
            recent = ts >= cut
        residents = np.unique(part["r"].to_numpy())
        # enough cold residents to choose on (a few hundred where the data allows), never a large share
        n_cold = min(max(int(self.cold_validation * len(residents)), min(300, len(residents) // 4)),
                     self.validation_residents // 2)
        cold_val = rng.choice(residents, size=n_cold, replace=False) if n_cold >= 20 else np.array([], dtype=np.int64)
        held = np.isin(part["r"].to_numpy(), cold_val)
        # services held out of the past too (as if opened in the slice): what the ranker learns about
        # a programme nobody has used yet, which serving meets whenever a service is new
        used = np.unique(part["s"].to_numpy())
        n_new = int(self.cold_services * len(used)) if len(used) >= 40 else 0
        new = rng.choice(used, size=n_new, replace=False) if n_new else np.array([], dtype=np.int64)
        held |= np.isin(part["s"].to_numpy(), new)
        return part[~recent & ~held], np.sort(cold_val), cut, recent

    def _random_slice(self, part: pd.DataFrame, rng) -> np.ndarray:
        """A random ``validation_fraction`` (at least one) of each resident's strong positives, for
        residents with at least three positives."""
        strong = np.flatnonzero(part["event"].isin(POSITIVE_EVENTS).to_numpy())
        r = part["r"].to_numpy()[strong]
        order = np.lexsort((rng.random(len(strong)), r))
        r, strong = r[order], strong[order]
        first = np.searchsorted(r, r, side="left")
        n = np.bincount(r)[r]
        take = (np.arange(len(r)) - first < np.ceil(self.validation_fraction * n)) & (n >= 3)
        out = np.zeros(len(part), dtype=bool)
        out[strong[take]] = True
        return out

    def _recent(self, inter: pd.DataFrame, n_items: int) -> np.ndarray:
        """Popularity over the most recent ``recent_fraction`` of the interactions given."""
        pos = inter[(inter["event"] != "declined") & (inter["weight"] > 0)]
        if len(pos) == 0:
            return np.zeros(n_items, dtype=np.float32)
        ts = pos["timestamp"].to_numpy()
        cut = np.quantile(ts, 1.0 - self.recent_fraction)
        recent = pos[ts >= cut] if cut > ts.min() else pos
        return popularity(np.bincount(recent["s"].to_numpy(), minlength=n_items))
