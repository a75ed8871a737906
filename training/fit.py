"""Fit the hybrid model (see ``recommender.model`` for what it is and why it is built this way).

1. LightFM (WARP by default) on resident and service identities, over positive interactions weighted
   by event (declined is not a positive), for ``epochs`` epochs, with the latest positive of up to
   ``validation_residents`` residents left out. Those few thousand interactions cost the model next
   to nothing, and they let the warm blend weights (declared needs, popularity) be chosen by a small
   grid search on the very model that is shipped.
2. A ridge map from profile features to the learned resident embeddings, so any profile gets an
   embedding; the cold blend is chosen on residents the map did not see. A second map embeds services
   with no history from their features.
Total cost stays near one plain LightFM fit: bench/train_city.py measures it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.model import Blend, HybridModel
from recommender.schema import POSITIVE_EVENTS

from .metrics import ndcg_at_k

NEED_GRID = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0)
KNN_GRID = (0.0, 0.25, 0.5, 1.0)
POP_GRID = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)
#: how many standard errors a blend's gain must clear to be preferred over the plain model (3, not
#: 2: some twenty blends are tried, and at 2 one of them clears it by chance too often)
SIGNIFICANCE = 3.0


@dataclass
class FitData:
    """Everything fitting needs, indexed: residents and services by row, positives as a matrix."""

    resident_ids: np.ndarray          # every resident in the table, table order
    X: sp.csr_matrix                  # resident features, table order
    service_features: sp.csr_matrix   # service features, catalogue order
    #: rows (table order) -> residents x services, 1 where a service answers a declared need; asked
    #: only for the few thousand validation residents (for a million residents the whole matrix
    #: would hold about a billion entries)
    need_rows: Callable[[np.ndarray], sp.csr_matrix]
    interactions: pd.DataFrame        # training interactions with int columns 'r' and 's'
    #: rows (table order) -> residents x services, True where a service may not be suggested to them
    #: (eligibility as served), so blends are chosen on the lists residents actually see
    ineligible: Callable[[np.ndarray], np.ndarray] | None = None


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
                   chunk: int = 1024) -> sp.csr_matrix:
    """Services x services: each service's ``top`` most similar by who used both (shrunk cosine).

    ``S[i, j] = c_ij / (sqrt(n_i * n_j) + shrink)`` with ``c_ij`` the residents who used both; the
    shrink term keeps pairs seen once from outranking well-supported ones. Computed a block of rows
    at a time so 10,000 services never need a dense 10,000 x 10,000 matrix at once.
    """
    B = (history > 0).astype(np.float32).tocsc()
    n_items = B.shape[1]
    counts = np.asarray(B.sum(axis=0)).ravel()
    norms = np.sqrt(counts)
    Bt = B.T.tocsr()
    rows, cols, vals = [], [], []
    k = min(top, max(n_items - 1, 1))
    for start in range(0, n_items, chunk):
        stop = min(start + chunk, n_items)
        block = (Bt[start:stop] @ B).toarray()
        block /= np.outer(norms[start:stop], norms) + shrink
        block[np.arange(stop - start), np.arange(start, stop)] = 0.0
        idx = np.argpartition(-block, k - 1, axis=1)[:, :k] if k < n_items else np.tile(np.arange(n_items), (stop - start, 1))
        v = np.take_along_axis(block, idx, axis=1)
        keep = v > 0
        r = np.repeat(np.arange(start, stop), idx.shape[1]).reshape(idx.shape)
        rows.append(r[keep]); cols.append(idx[keep]); vals.append(v[keep])
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


def _standardise(x: np.ndarray) -> np.ndarray:
    """Per-row z-scores (the same standardisation HybridModel.blend applies at serving time)."""
    mean, std = x.mean(axis=1, keepdims=True), x.std(axis=1, keepdims=True)
    std[std == 0] = 1
    return (x - mean) / std


class HybridTrainer:
    """Estimator producing a :class:`recommender.model.HybridModel`.

    Parameters follow LightFM's names where they are LightFM's. ``validation_fraction`` of the training
    time span (the most recent) is used to choose the blend, ``cold_validation`` residents (a fraction
    of warm ones, at most 5,000) to choose the cold blend.
    """

    def __init__(self, no_components: int = 32, epochs: int = 20, learning_rate: float = 0.05,
                 loss: str = "warp", max_sampled: int = 10, item_alpha: float = 0.0, user_alpha: float = 0.0,
                 ridge_alpha: float = 10.0, neighbors: int = 100, validation_residents: int = 1500, cold_validation: float = 0.05,
                 num_threads: int = 2, random_state: int = 0, progress: bool = True):
        self.no_components = no_components
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.loss = loss
        self.max_sampled = max_sampled
        self.item_alpha = item_alpha
        self.user_alpha = user_alpha
        self.ridge_alpha = ridge_alpha
        self.neighbors = neighbors
        self.validation_residents = validation_residents
        self.cold_validation = cold_validation
        self.num_threads = num_threads
        self.random_state = random_state
        self.progress = progress

    def get_params(self) -> dict:
        return {k: getattr(self, k) for k in (
            "no_components", "epochs", "learning_rate", "loss", "max_sampled", "item_alpha", "user_alpha",
            "ridge_alpha", "neighbors", "validation_residents", "cold_validation", "num_threads", "random_state")}

    # ------------------------------------------------------------------ helpers
    def _lightfm(self):
        from lightfm import LightFM

        return LightFM(no_components=self.no_components, loss=self.loss, learning_rate=self.learning_rate,
                       max_sampled=self.max_sampled, item_alpha=self.item_alpha, user_alpha=self.user_alpha,
                       random_state=self.random_state)

    def _epochs(self, lfm, matrix: sp.coo_matrix, epochs: int, label: str) -> None:
        interactions = sp.coo_matrix((np.ones_like(matrix.data), (matrix.row, matrix.col)), shape=matrix.shape)
        # one call for all epochs: LightFM re-validates its inputs on every call, which costs as much
        # as an epoch on a million interactions; verbose=True gives its own per-epoch progress bar
        lfm.fit_partial(interactions, sample_weight=matrix, epochs=epochs, num_threads=self.num_threads,
                        verbose=self.progress)

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
        inter = inter.assign(u=warm_rows[inter["r"].to_numpy()])
        inter = inter[inter["u"] >= 0]

        rng = np.random.default_rng(self.random_state)
        part = inter.assign(r=inter["u"])
        all_m = positives_matrix(part, len(warm_res), n_items).tocsr()
        val_m, fit_m = self._leave_last_out(part, all_m, rng)

        lfm = self._lightfm()
        t = time.perf_counter()
        self._epochs(lfm, fit_m.tocoo(), self.epochs, "fit")
        timing["lightfm_fit"] = time.perf_counter() - t

        t = time.perf_counter()
        U = self._user_embeddings(lfm)
        V, b = lfm.item_embeddings.astype(np.float32), lfm.item_biases.astype(np.float32)
        wv = np.flatnonzero(np.diff(val_m.indptr) > 0)
        S_fit = item_neighbors(fit_m, top=self.neighbors)
        self.warm_blend_, self.warm_search_ = self._search(
            raw=U[wv] @ V.T + b, need=data.need_rows(warm_res[wv]), truth=val_m[wv], exclude=self._excluded(data, warm_res[wv], fit_m[wv]),
            pop=self._popularity(fit_m.getnnz(axis=0)), knn=((fit_m[wv] > 0).astype(np.float32) @ S_fit).toarray())
        timing["warm_search"] = time.perf_counter() - t

        # cold blend: residents the ridge map does not see, scored from their features alone
        t = time.perf_counter()
        X_warm = data.X[warm_res]
        n_cv = min(self.validation_residents, int(self.cold_validation * len(warm_res)))
        cv = rng.choice(len(warm_res), size=n_cv, replace=False) if n_cv >= 20 else np.array([], dtype=np.int64)
        seen = np.ones(len(warm_res), dtype=bool)
        seen[cv] = False
        W, w0 = ridge(X_warm[seen], U[seen], self.ridge_alpha)
        # their interactions shaped the service embeddings, a small optimism shared by every blend tried
        self.cold_blend_, self.cold_search_ = self._search(
            raw=(np.asarray(X_warm[cv] @ W) + w0) @ V.T + b, need=data.need_rows(warm_res[cv]),
            truth=positives_matrix(part[part["event"].isin(POSITIVE_EVENTS)], len(warm_res), n_items).tocsr()[cv],
            exclude=self._excluded(data, warm_res[cv], None),
            pop=self._popularity(all_m.getnnz(axis=0)))
        timing["cold_search"] = time.perf_counter() - t

        t = time.perf_counter()
        U = self._user_embeddings(lfm)
        V = lfm.item_embeddings.astype(np.float32).copy()
        b = lfm.item_biases.astype(np.float32).copy()
        W, w0 = ridge(X_warm, U, self.ridge_alpha)
        S = item_neighbors(all_m, top=self.neighbors)
        counts = all_m.tocsc().getnnz(axis=0)
        cold_items = counts == 0
        if cold_items.any() and (~cold_items).sum() >= 2:
            # services nobody has used yet: embed them from their features like similar services
            Fi = data.service_features
            Wi, wi0 = ridge(Fi[~cold_items], np.column_stack([V[~cold_items], b[~cold_items]]), self.ridge_alpha)
            pred = np.asarray(Fi[cold_items] @ Wi) + wi0
            V[cold_items], b[cold_items] = pred[:, :-1], pred[:, -1]
        timing["maps"] = time.perf_counter() - t
        self.model_ = HybridModel(
            item_embeddings=V, item_biases=b, user_embeddings=U, feature_map=W, feature_intercept=w0,
            popularity=self._popularity(counts), neighbors=S, warm_blend=self.warm_blend_,
            cold_blend=self.cold_blend_)
        self.warm_rows_ = warm_rows
        self.cold_services_ = int(cold_items.sum())
        timing["total"] = time.perf_counter() - t0
        self.timing_ = timing
        return self

    @staticmethod
    def _excluded(data: FitData, rows: np.ndarray, known: sp.csr_matrix | None) -> np.ndarray | None:
        """What the served list could not contain: known positives and ineligible services."""
        out = None if known is None else known.toarray() > 0
        if data.ineligible is not None and len(rows):
            inel = data.ineligible(rows)
            out = inel if out is None else (out | inel)
        return out

    def _leave_last_out(self, part: pd.DataFrame, all_m: sp.csr_matrix, rng) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """(validation, fit) matrices: the latest strong positive of up to ``validation_residents``
        residents with at least three positives, moved out of the fit."""
        # the held-out interaction is a positive as evaluation counts one (referred or deeper, not a
        # mere view): blends tuned on views under-value the declared needs that drive real uptake
        strong = part[part["event"].isin(POSITIVE_EVENTS) & (part["weight"] > 0)]
        has_strong = np.zeros(all_m.shape[0], dtype=bool)
        has_strong[strong["r"].to_numpy()] = True
        counts = np.diff(all_m.indptr)
        eligible = np.flatnonzero((counts >= 3) & has_strong)
        # at most a fifth of them: on small data every held-out interaction is a real loss to the model
        n = min(self.validation_residents, max(200, len(eligible) // 5), len(eligible))
        if n < 20:
            return sp.csr_matrix(all_m.shape, dtype=np.float32), all_m
        chosen = np.zeros(all_m.shape[0], dtype=bool)
        chosen[rng.choice(eligible, size=n, replace=False)] = True
        pos = strong[chosen[strong["r"].to_numpy()]]
        last = pos.sort_values(["r", "timestamp"], kind="stable").groupby("r", sort=False).tail(1)
        val = sp.csr_matrix((np.ones(len(last), dtype=np.float32), (last["r"].to_numpy(), last["s"].to_numpy())),
                            shape=all_m.shape)
        fit = all_m - all_m.multiply(val > 0)
        fit.eliminate_zeros()
        return val, fit.tocsr()

    @staticmethod
    def _user_embeddings(lfm) -> np.ndarray:
        return lfm.user_embeddings.astype(np.float32).copy()

    @staticmethod
    def _popularity(counts: np.ndarray) -> np.ndarray:
        p = np.log1p(np.asarray(counts, dtype=np.float64))
        sd = p.std() or 1.0
        return ((p - p.mean()) / sd).astype(np.float32)

    def _search(self, raw, need, truth, exclude, pop, knn=None) -> tuple[Blend, list]:
        """Pick (need, pop, knn) weights maximising ndcg@10 on the given residents."""
        if raw.shape[0] == 0:
            return Blend(), []
        z = _standardise(raw)
        need = need.toarray().astype(np.float32)
        ex = exclude
        zk = None
        if knn is not None and knn.any():
            zk = _standardise(knn)
        grids = (NEED_GRID if need.any() else (0.0,), POP_GRID, KNN_GRID if zk is not None else (0.0,))
        tried: dict[tuple, np.ndarray] = {}

        def ndcg(w: tuple) -> np.ndarray:
            if w not in tried:
                wn, wp, wk = w
                s = z + wn * need + wp * pop + (wk * zk if wk else 0.0)
                if exclude is not None:
                    s[ex] = -np.inf
                tried[w] = ndcg_at_k(s, truth, 10)
            return tried[w]

        # Coordinate ascent over (need, pop, knn), two passes: about a fifth of the evaluations of
        # the full grid (the search ran ~2 s of a ~24 s training on the 100k city before).
        plain = (0.0, 0.0, 0.0)
        best = plain
        for _ in range(2):
            for dim, grid in enumerate(grids):
                candidates = [best[:dim] + (v,) + best[dim + 1:] for v in grid]
                best = max(candidates, key=lambda w: (ndcg(w).mean(), -sum(w)))
        # A heavier blend must beat the plain model by more than noise: its paired per-resident gain
        # must exceed SIGNIFICANCE standard errors. Otherwise keep the plain model; a few hundred
        # held-out residents easily make a useless prior look good.
        diff = ndcg(best) - ndcg(plain)
        se = diff.std() / np.sqrt(len(diff)) if len(diff) > 1 else np.inf
        if not diff.mean() > SIGNIFICANCE * se:
            best = plain
        return (Blend(need=best[0], pop=best[1], knn=best[2]),
                [{"ndcg@10": round(float(v.mean()), 5), "need": w[0], "pop": w[1], "knn": w[2]}
                 for w, v in tried.items()])
