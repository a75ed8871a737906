"""Ranking metrics, defined once for evaluation and for the blend search.

Conventions: precision@k divides by k; recall@k by the number of positives; ndcg@k uses binary gains
and the ideal ranking of min(k, positives) hits; map@k averages precision at each hit and divides
by min(k, positives); AUC is the probability that a positive outranks a non-positive candidate, ties
counting half, over every candidate the ranker may suggest (ineligible services rank last).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

_DISCOUNT = 1.0 / np.log2(np.arange(2, 102))


def ndcg_at_k(scores: np.ndarray, truth: sp.csr_matrix, k: int) -> np.ndarray:
    """Per-row ndcg@k of a dense score matrix against a sparse 0/1 truth matrix (every row has a positive)."""
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    truth = sp.csr_matrix(truth)
    hits = np.asarray(truth[np.arange(len(top))[:, None], top].todense(), dtype=bool)
    hits &= np.isfinite(np.take_along_axis(scores, top, axis=1))
    return list_metrics(hits, np.diff(truth.indptr), k)[f"ndcg@{k}"]


def list_metrics(hits: np.ndarray, n_pos: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """precision, recall, ndcg and map at k, per resident with at least one positive.

    ``hits`` is (residents x k): whether the i-th listed service is a positive (False past the end
    of a short list); ``n_pos`` the number of positives of each resident.
    """
    ok = n_pos > 0
    hits = hits[ok].astype(np.float64)
    n_pos = n_pos[ok]
    n_hit = hits.sum(axis=1)
    dcg = (hits * _DISCOUNT[:k]).sum(axis=1)
    idcg = np.cumsum(_DISCOUNT[:k])[np.minimum(n_pos, k) - 1]
    prec_at = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    return {
        f"precision@{k}": n_hit / k,
        f"recall@{k}": n_hit / n_pos,
        f"ndcg@{k}": dcg / idcg,
        f"map@{k}": (prec_at * hits).sum(axis=1) / np.minimum(n_pos, k),
    }


def auc(scores: np.ndarray, truth: np.ndarray, n_excluded: np.ndarray) -> np.ndarray:
    """Per-resident AUC over candidates, for residents with both positives and non-positives.

    Excluded services must carry -inf; services that may not be suggested carry a finite score below
    every real one, so they rank last but count. Ties count half.
    """
    n = scores.shape[1]
    n_pos = truth.sum(axis=1)
    n_neg = n - n_excluded - n_pos
    ok = (n_pos > 0) & (n_neg > 0)
    out = np.empty(int(ok.sum()))
    for j, r in enumerate(np.flatnonzero(ok)):
        row, t = scores[r], truth[r]
        pos = row[t]
        neg = row[~t & ~np.isneginf(row)]
        # counting, not sorting: a resident has a handful of positives against thousands of candidates
        # (sorting every row was most of an evaluation over 50,000 services)
        below = (neg[None, :] < pos[:, None]).sum(axis=1)
        ties = (neg[None, :] == pos[:, None]).sum(axis=1)
        out[j] = (below + 0.5 * ties).sum() / (len(pos) * len(neg))
    return out
