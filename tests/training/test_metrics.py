import numpy as np
import pytest
import scipy.sparse as sp

from training.metrics import auc, list_metrics, ndcg_at_k


def test_list_metrics_by_hand():
    # positives at ranks 1 and 3 of a 5-list, 4 positives in all
    hits = np.array([[True, False, True, False, False]])
    m = list_metrics(hits, np.array([4]), 5)
    assert m["precision@5"][0] == pytest.approx(2 / 5)
    assert m["recall@5"][0] == pytest.approx(2 / 4)
    dcg = 1 + 1 / np.log2(4)
    idcg = sum(1 / np.log2(r + 1) for r in range(1, 5))
    assert m["ndcg@5"][0] == pytest.approx(dcg / idcg)
    assert m["map@5"][0] == pytest.approx((1 / 1 + 2 / 3) / 4)


def test_residents_without_positives_are_skipped():
    m = list_metrics(np.zeros((2, 3), dtype=bool), np.array([0, 2]), 3)
    assert len(m["precision@3"]) == 1


def test_ndcg_at_k_matches_definition():
    scores = np.array([[0.9, 0.8, 0.1, 0.5], [0.1, 0.2, 0.3, 0.4]])
    truth = sp.csr_matrix(np.array([[0, 1, 0, 0], [1, 0, 0, 0]]))
    n = ndcg_at_k(scores, truth, 2)
    assert n[0] == pytest.approx(1 / np.log2(3))  # the positive is second
    assert n[1] == 0.0  # the positive is last


def test_auc_ignores_excluded_and_counts_ineligible_last():
    # service 0 excluded (-inf), 1 positive, 2 and 3 candidates, 3 ineligible (ranked last)
    scores = np.array([[-np.inf, 0.5, 0.9, -1e300]])
    truth = np.array([[False, True, False, False]])
    a = auc(scores, truth, np.array([1]))
    assert a[0] == pytest.approx(0.5)  # beats the ineligible one, loses to 0.9
    perfect = auc(np.array([[-np.inf, 1.0, 0.5, 0.1]]), truth, np.array([1]))
    assert perfect[0] == pytest.approx(1.0)
