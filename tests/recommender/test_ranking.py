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


def _reference_top(s: np.ndarray, k: int) -> np.ndarray:
    """The k best listable scores of each row by a full sort, ties by index; -1 past the listable."""
    from recommender.ranking import BLOCKED

    out = np.full((s.shape[0], k), -1)
    for i, row in enumerate(s):
        order = np.lexsort((np.arange(len(row)), -row))[:k]
        order = order[row[order] > BLOCKED]
        out[i, :len(order)] = order
    return out


def test_batch_top_k_over_a_large_catalogue_is_the_exact_top_k():
    """Evaluation ranks thousands of residents over catalogues of 50,000 services through a sampled
    threshold; the lists must be those of a full sort: the best scores, ties by index, nothing
    ruled out or excluded, short lists where few services are open."""
    from recommender.ranking import BLOCKED, rank_rows

    rng = np.random.default_rng(3)
    m = 40_000
    rows = [rng.normal(size=m),                                 # continuous scores
            np.round(rng.normal(size=m), 1),                    # ties everywhere, at the cut too
            np.where(rng.random(m) < 0.9, BLOCKED, rng.normal(size=m)),  # most services ruled out
            np.where(rng.random(m) < 0.3, -np.inf, rng.normal(size=m)),  # many excluded
            np.where(np.arange(m) < m - 3, BLOCKED, 1.0),       # three services open: a short list
            np.full(m, -np.inf),                                # nothing open
            np.sort(rng.normal(size=m))]                        # the best at the end of the catalogue
    s = np.array(rows)
    for k in (1, 5, 10, 120):
        got = rank_rows(s, k)
        want = _reference_top(s, k)
        # rows whose k-th best ties with a service after it may pick either of the tied: same scores
        values = lambda top: np.where(top >= 0, np.take_along_axis(s, np.maximum(top, 0), axis=1), np.nan)
        assert np.array_equal(values(got), values(want), equal_nan=True), k
        for r in (0, 1, 2, 3, 4, 5, 6):
            assert (got[r] == want[r]).all(), (k, r)


def test_several_list_lengths_from_one_selection_are_each_lists():
    """Evaluation asks for @5 and @10 at once: each is the list asked for alone, needs answered."""
    from recommender.ranking import rank_rows, rank_rows_at

    rng = np.random.default_rng(4)
    n, m = 12, 30_000
    s = rng.normal(size=(n, m))
    needs = [{"a": rng.random(m) < 0.01, "b": rng.random(m) < 0.001} if r % 3 else {} for r in range(n)]
    both = rank_rows_at(s, (10, 5), needs)
    for k in (5, 10):
        assert (both[k] == rank_rows(s, k, needs)).all()
    for r in range(n):
        for mask in needs[r].values():  # every need answered in the top 5
            assert mask[both[5][r]].any()


def test_a_floor_worked_out_once_gives_the_candidate_scores():
    """Evaluation and validation apply one listing floor to every ranker's scores; a request masks its
    scores directly: the same numbers either way."""
    from recommender.ranking import apply_floor, listing_floor

    rng = np.random.default_rng(5)
    s = rng.normal(size=(6, 500))
    outcome = rng.choice([PASS, UNK, FAIL], size=s.shape).astype(np.int8)
    excluded = rng.random(s.shape) < 0.05
    for include_unknown in (True, False):
        for ex in (excluded, None):
            want = candidate_scores(s, outcome, ex, include_unknown)
            assert np.array_equal(apply_floor(s, listing_floor(outcome, ex, include_unknown)), want)
            assert np.array_equal(candidate_scores(s[2], outcome[2], None if ex is None else ex[2], include_unknown),
                                  want[2])
