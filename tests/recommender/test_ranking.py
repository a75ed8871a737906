import numpy as np

from recommender.eligibility import Outcome

PASS, UNK, FAIL = Outcome.ELIGIBLE, Outcome.UNKNOWN, Outcome.INELIGIBLE
from recommender.ranking import candidate_scores, rank, top_k


def test_top_k_orders_by_score_and_skips_excluded():
    s = candidate_scores(np.array([0.1, 0.9, 0.5, 0.7]), np.array([PASS, PASS, FAIL, UNK]),
                         np.array([False, False, False, False]))
    assert top_k(s, 3) == [1, 3, 0]
    s2 = candidate_scores(np.array([0.1, 0.9, 0.5, 0.7]), np.array([PASS, PASS, FAIL, UNK]), None,
                          include_unknown=False)
    assert top_k(s2, 3) == [1, 0]


def test_every_declared_need_is_answered_when_possible():
    # five food services score highest; one housing service scores low
    s = np.array([5.0, 4.0, 3.0, 2.0, 1.5, 0.1])
    food = np.array([1, 1, 1, 1, 1, 0], dtype=bool)
    housing = np.array([0, 0, 0, 0, 0, 1], dtype=bool)
    r = rank(s, 3, {"food": food, "housing": housing})
    assert 5 in r.indices and len(r.indices) == 3
    assert r.need_answers["housing"] == [5] and r.need_answers["food"]
    assert r.unanswerable == {}


def test_unanswerable_need_is_reported_with_reason():
    s = np.array([1.0, 2.0, -np.inf])
    legal = np.array([False, False, True])  # the only legal service is not open to this resident
    r = rank(s, 2, {"legal": legal, "jobs": np.zeros(3, dtype=bool)})
    assert r.need_answers["legal"] == []
    assert "is open to this resident" in r.unanswerable["legal"]
    assert "no service in the catalogue" in r.unanswerable["jobs"]


def test_swap_keeps_another_needs_sole_answer():
    s = np.array([3.0, 2.0, 0.5])
    a = np.array([1, 0, 0], dtype=bool)
    b = np.array([0, 1, 0], dtype=bool)
    c = np.array([0, 0, 1], dtype=bool)
    r = rank(s, 2, {"a": a, "b": b, "c": c})
    # k=2 cannot hold three needs: the two best-ranked needs keep their answers
    assert sorted(r.indices) == [0, 1] and "c" in r.unanswerable
