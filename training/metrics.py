"""Ranking metrics, defined once for evaluation and for the blend search.

Conventions: precision@k divides by k; recall@k by the number of positives; ndcg@k uses binary gains
and the ideal ranking of min(k, positives) hits; map@k averages precision at each hit and divides
by min(k, positives); AUC is the probability that a positive outranks a non-positive candidate, ties
counting half, over every candidate the ranker may suggest (ineligible services rank last).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata

_DISCOUNT = 1.0 / np.log2(np.arange(2, 102))


def ndcg_at_k(scores: np.ndarray, truth: sp.csr_matrix, k: int) -> np.ndarray:
    """Per-row ndcg@k of a dense score matrix against a sparse 0/1 truth matrix (rows without positives -> 0)."""
    n, m = scores.shape
    k = min(k, m)
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(scores, top, axis=1).argsort(axis=1)[:, ::-1]
    top = np.take_along_axis(top, order, axis=1)
    truth = sp.csr_matrix(truth)
    hits = np.zeros((n, k), dtype=bool)
    for r in range(n):
        pos = truth.indices[truth.indptr[r]:truth.indptr[r + 1]]
        if len(pos):
            hits[r] = np.isin(top[r], pos)
    finite = np.isfinite(np.take_along_axis(scores, top, axis=1))
    hits &= finite
    dcg = (hits * _DISCOUNT[:k]).sum(axis=1)
    n_pos = np.minimum(np.diff(truth.indptr), k)
    ideal = np.cumsum(_DISCOUNT[:k])
    idcg = np.where(n_pos > 0, ideal[np.maximum(n_pos - 1, 0)], 1.0)
    return np.where(n_pos > 0, dcg / idcg, 0.0)


def list_metrics(ranked: list[int], positives: set[int], k: int) -> dict[str, float]:
    """precision, recall, ndcg and average precision at k of one ranked list."""
    top = ranked[:k]
    hits = [i in positives for i in top]
    n_hit = sum(hits)
    n_pos = len(positives)
    dcg = sum(_DISCOUNT[r] for r, h in enumerate(hits) if h)
    idcg = _DISCOUNT[: min(k, n_pos)].sum()
    ap, seen = 0.0, 0
    for r, h in enumerate(hits):
        if h:
            seen += 1
            ap += seen / (r + 1)
    return {
        f"precision@{k}": n_hit / k,
        f"recall@{k}": n_hit / n_pos if n_pos else 0.0,
        f"ndcg@{k}": dcg / idcg if idcg else 0.0,
        f"map@{k}": ap / min(k, n_pos) if n_pos else 0.0,
    }


def auc(scores: np.ndarray, candidates: np.ndarray, positives: np.ndarray) -> float | None:
    """AUC of ``scores`` over the candidate mask; -inf scores rank last. None without both classes."""
    s = scores[candidates]
    is_pos = positives[candidates]
    n_pos = int(is_pos.sum())
    n_neg = len(s) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    s = np.where(np.isfinite(s), s, np.nanmin(np.where(np.isfinite(s), s, np.inf)) - 1 if np.isfinite(s).any() else 0)
    ranks = rankdata(s)
    return float((ranks[is_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
