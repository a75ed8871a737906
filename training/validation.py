"""Choose the second-stage ranker on a time-forward validation slice, through the serving kernel.

Who is validated, as evaluation will judge the model:

* the **warm protocol**: every resident (not held out) with a strong positive (referred or deeper)
  in the validation slice that they had not used before, whatever their history in the past - one
  view, many services, or none at all (a resident new in the slice is scored from the profile);
* the **cold protocol**: the held-out residents, scored from the profile alone against all their
  strong positives.

Residents are grouped by the segment serving will put them in (``recommender.ranker``: cold, short,
long history). In each segment the learned ranker - pairwise logistic regression on the signals,
positives against negatives drawn from what the resident could be shown - is scored out of fold
(two folds) against every single generator and both baselines, each ranked exactly as served
(``recommender.signals`` + ``recommender.ranking``: eligibility, exclusions, need answers). The learned
weights serve only where they win; otherwise the best of the others does.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.eligibility import Outcome
from recommender.model import HybridModel
from recommender.ranker import BASELINES, SEGMENTS, SIGNALS, Ranker
from recommender.ranking import BLOCKED, apply_floor, listing_floor, rank_rows
from recommender.schema import POSITIVE_EVENTS
from recommender.signals import Batch, blend, combine, compute, row_weights

from .evaluate import BATCH_SCORES
from .metrics import list_metrics
from .parallel import map_in_order

K = 10
#: validation residents x services ranked per candidate, at most
RESIDENT_SERVICE_BUDGET = 15_000_000
#: fewer validation residents than this in a segment and its choice is made on a wider scope
MIN_RESIDENTS = 30
#: negatives are drawn uniformly from what the resident could be shown: negatives taken from the top of
#: one generator bias its learned weight down (a positive loses to them on that generator by design)
RANDOM_NEGATIVES, MAX_POSITIVES = 50, 5
#: pairs kept per resident (a random subset): enough to learn eight weights, few enough to fit fast
MAX_PAIRS = 20
#: at most this many pairs per fit (a random subset, residents keep equal weight)
MAX_FIT_PAIRS = 60_000
#: the ranker used where nothing could be validated at all (an untried city): the collaborative
#: score, the declared needs, and for residents with history their co-used services
PRIOR = {"cold": {"cf": 1.0, "need": 1.0}, "short": {"cf": 1.0, "need": 1.0, "knn": 0.5},
         "long": {"cf": 1.0, "need": 1.0, "knn": 0.5}}
POOLED = "learned (short and long pooled)"
EVERYONE = "learned (every segment pooled)"


def _pairs_matrix(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> sp.csr_matrix:
    m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n_rows, n_cols))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


class _Residents:
    """The validation residents: rows (warm-row numbering), truth, exclusions, past history."""

    def __init__(self, part: pd.DataFrame, recent: np.ndarray, cold_val: np.ndarray, past_m: sp.csr_matrix,
                 max_residents: int, rng):
        n_rows, n_items = past_m.shape
        strong = part["event"].isin(POSITIVE_EVENTS).to_numpy()
        declined = (part["event"] == "declined").to_numpy()
        r, s = part["r"].to_numpy(), part["s"].to_numpy()
        held = np.isin(r, cold_val)
        # what serving excludes for a warm resident: past strong uses and declines (views stay listable)
        in_past = ~recent & ~held
        known = _pairs_matrix(r[in_past & (strong | declined)], s[in_past & (strong | declined)], n_rows, n_items)
        truth_warm = _pairs_matrix(r[recent & strong & ~held], s[recent & strong & ~held], n_rows, n_items)
        truth_warm = truth_warm - truth_warm.multiply(known)
        truth_warm.eliminate_zeros()
        truth_cold = _pairs_matrix(r[held & strong], s[held & strong], n_rows, n_items)
        warm = np.flatnonzero(np.diff(truth_warm.indptr) > 0)
        cold = np.flatnonzero(np.diff(truth_cold.indptr) > 0)
        if len(warm) > max_residents:
            warm = np.sort(rng.choice(warm, size=max_residents, replace=False))
        if len(cold) > max_residents // 2:
            cold = np.sort(rng.choice(cold, size=max_residents // 2, replace=False))
        self.rows = np.concatenate([warm, cold])
        self.protocol = np.array(["warm"] * len(warm) + ["cold"] * len(cold))
        self.truth = sp.vstack([truth_warm[warm], truth_cold[cold]]).tocsr()
        empty = sp.csr_matrix((len(cold), n_items), dtype=np.float32)
        self.known = sp.vstack([known[warm], empty]).tocsr()
        self.history = sp.vstack([(past_m[warm] > 0).astype(np.float32), empty]).tocsr()
        self.fitted = np.concatenate([np.diff(past_m.indptr)[warm] > 0, np.zeros(len(cold), dtype=bool)])
        self.fold = rng.integers(0, 2, size=len(self.rows))

    def __len__(self) -> int:
        return len(self.rows)


def _batches(model: HybridModel, data, warm_res: np.ndarray, res: _Residents, batch: int, cache: dict,
             threads: int = 1):
    """(positions, Batch, signals, outcomes, need masks) for the validation residents, a batch at a time
    (the next ones computed meanwhile in up to ``threads`` threads); each batch's needs and eligibility
    are computed once and kept in ``cache`` for the second pass."""
    return map_in_order(lambda start: _batch_at(model, data, warm_res, res, start, batch, cache),
                        range(0, len(res), batch), threads)


def _batch_at(model: HybridModel, data, warm_res: np.ndarray, res: _Residents, start: int, batch: int, cache: dict):
    pos = np.arange(start, min(start + batch, len(res)))
    table_rows = warm_res[res.rows[pos]]
    if start not in cache:
        cache[start] = data.needs_and_eligibility(table_rows)
    masks, outcomes, (area, speaks) = cache[start]
    need = np.zeros(outcomes.shape, dtype=bool)
    for n, m in enumerate(masks):
        for mask in m.values():
            need[n] |= mask
    coords = data.coords[table_rows] if data.coords is not None else np.full((len(pos), 2), np.nan)
    b = Batch(warm_rows=np.where(res.fitted[pos], res.rows[pos], -1), X=data.X[table_rows],
              history=res.history[pos], need=need, coords=coords, unknown=outcomes == Outcome.UNKNOWN,
              area=area, speaks=speaks)
    sig = compute(model, b, set(SIGNALS), data.service_lat, data.service_lon)
    return pos, b, sig, outcomes, masks


def _matrix(sig, names: list[str], rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """(pairs x signals) values at (row, col) pairs of a batch."""
    out = np.zeros((len(rows), len(names)), dtype=np.float32)
    for j, name in enumerate(names):
        v = sig.values.get(name)
        if v is not None:
            out[:, j] = v[0, cols] if v.shape[0] == 1 else v[rows, cols]
    return out


def _segment_codes(b: Batch) -> np.ndarray:
    out = np.empty(len(b), dtype=object)
    for seg, rows in b.segment_rows().items():
        out[rows] = seg
    return out


def choose_ranker(model: HybridModel, data, *, warm_res: np.ndarray, part: pd.DataFrame, past_m: sp.csr_matrix,
                  recent: np.ndarray, cold_val: np.ndarray, max_residents: int = 3000, seed: int = 0,
                  threads: int = 1) -> Ranker:
    """The ranker to serve, chosen on the validation slice; ``model`` holds generators fitted on the past,
    ``part`` every training interaction (``r`` = warm row), ``recent`` marks the slice, ``cold_val`` the
    residents (warm rows) held out whole, ``data`` the trainer's :class:`~training.fit.FitData`."""
    rng = np.random.default_rng(seed)
    # every candidate ranks every service for every validation resident: on a catalogue of 50,000
    # services fewer residents keep that within a few times a LightFM fit (the ranking noise it adds is
    # what the out-of-fold comparison sees)
    max_residents = int(min(max_residents, max(600, RESIDENT_SERVICE_BUDGET // max(past_m.shape[1], 1))))
    res = _Residents(part, recent, cold_val, past_m, max_residents, rng)
    n_items = past_m.shape[1]
    batch = int(max(16, min(512, BATCH_SCORES // max(n_items, 1))))  # as in evaluation
    names = [s for s in SIGNALS if s != "hyb" or model.hyb is not None]
    segment = np.empty(len(res), dtype=object)

    # pass 1: pairs of (positive, negative) signal differences, per validation resident
    diffs: list[np.ndarray] = []
    owner: list[np.ndarray] = []
    cache: dict = {}
    for pos, b, sig, outcomes, _ in _batches(model, data, warm_res, res, batch, cache, threads):
        segment[pos] = _segment_codes(b)
        listable = listing_floor(outcomes, res.known[pos].toarray() > 0) > BLOCKED
        truth = res.truth[pos]
        for n in range(len(pos)):
            p = truth.indices[truth.indptr[n]:truth.indptr[n + 1]]
            p = p[listable[n, p]]
            if len(p) == 0:
                continue
            if len(p) > MAX_POSITIVES:
                p = rng.choice(p, size=MAX_POSITIVES, replace=False)
            cand = listable[n].copy()
            cand[truth.indices[truth.indptr[n]:truth.indptr[n + 1]]] = False
            pool = np.flatnonzero(cand)
            if len(pool) == 0:
                continue
            neg = rng.choice(pool, size=min(RANDOM_NEGATIVES, len(pool)), replace=False)
            fp = _matrix(sig, names, np.full(len(p), n), p)
            fn = _matrix(sig, names, np.full(len(neg), n), neg)
            d = (fp[:, None, :] - fn[None, :, :]).reshape(-1, len(names))
            if len(d) > MAX_PAIRS:
                d = d[rng.choice(len(d), size=MAX_PAIRS, replace=False)]
            diffs.append(d)
            owner.append(np.full(len(d), pos[n]))
    D = np.concatenate(diffs) if diffs else np.zeros((0, len(names)), dtype=np.float32)
    who = np.concatenate(owner) if owner else np.zeros(0, dtype=np.int64)

    # the learned weights: per segment, out of fold (for scoring) and on every resident (to serve)
    # (a short-history segment often has few residents: its weights are also learned pooled with the long
    # one, and with every segment - learned candidates that borrow strength; validation decides)
    learned: dict[str, dict] = {}
    pools = {seg: (seg,) for seg in SEGMENTS} | {POOLED: ("short", "long"), EVERYONE: SEGMENTS}
    for key, members in pools.items():
        in_seg = np.isin(segment[who], members)
        learned[key] = {"all": _pairwise(D[in_seg], who[in_seg], names)}
        for f in (0, 1):
            train = in_seg & (res.fold[who] != f)
            learned[key][f] = _pairwise(D[train], who[train], names)

    # pass 2: every candidate ranked as served, ndcg@10 per resident
    candidates = {name: {name: 1.0} for name in names if name not in ("need", "pop", "unknown", "new")}
    candidates.update(BASELINES)
    ndcg: dict[str, np.ndarray] = {c: np.full(len(res), np.nan) for c in ["learned", POOLED, EVERYONE, *candidates]}
    # each candidate as a Ranker per fold (the learned ones differ by fold), scored by the serving kernel
    rankers: dict[str, list[Ranker]] = {c: [Ranker.uniform(c, w)] * 2 for c, w in candidates.items()}
    rankers["learned"] = [Ranker("learned", {seg: learned[seg][f] or {} for seg in SEGMENTS}) for f in (0, 1)]
    rankers[POOLED] = [Ranker(POOLED, {seg: learned[POOLED][f] or {} for seg in ("short", "long")}) for f in (0, 1)]
    rankers[EVERYONE] = [Ranker.uniform(EVERYONE, learned[EVERYONE][f] or {}) for f in (0, 1)]
    def score_batch(start: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """ndcg@K of every candidate for one batch of validation residents."""
        pos, b, sig, outcomes, masks = _batch_at(model, data, warm_res, res, start, batch, cache)
        floor = listing_floor(outcomes, res.known[pos].toarray() > 0)  # the same for every candidate
        truth = res.truth[pos]
        fold = res.fold[pos]
        out = {}
        for c, per_fold in rankers.items():
            if per_fold[1] is per_fold[0]:
                score = combine(sig, per_fold[0], b)
            elif len(pos) == 1:  # one resident: the ranker of the fold it was not learned on
                score = combine(sig, per_fold[int(fold[0])], b)
            else:  # out of fold: each resident weighted by the fold it was not learned on, in one blend
                w0, w1 = row_weights(per_fold[0], b), row_weights(per_fold[1], b)
                score = blend(sig.values, {name: np.where(fold == 1, w1[name] if name in w1 else 0.0,
                                                          w0[name] if name in w0 else 0.0)
                                           for name in sorted(w0.keys() | w1.keys())}, b.need.shape)
            top = rank_rows(apply_floor(score, floor, copy=False), K, masks)
            hits = np.asarray(truth[np.arange(len(pos))[:, None], np.maximum(top, 0)].todense(), dtype=bool) & (top >= 0)
            out[c] = list_metrics(hits, np.diff(truth.indptr), K)[f"ndcg@{K}"]
        return pos, out

    for pos, got in map_in_order(score_batch, range(0, len(res), batch), threads):
        for c, vals in got.items():
            ndcg[c][pos] = vals

    return _select(learned, candidates, ndcg, segment, res)


def _pairwise(D: np.ndarray, who: np.ndarray, names: list[str]) -> dict[str, float] | None:
    """Pairwise logistic regression: P(positive above negative) = sigmoid(w . (f_pos - f_neg)), each
    resident weighing the same however many pairs they bring."""
    if len(np.unique(who)) < MIN_RESIDENTS or len(D) == 0:
        return None
    from sklearn.linear_model import LogisticRegression

    keep = np.abs(D).sum(axis=0) > 0
    if not keep.any():
        return None
    if len(D) > MAX_FIT_PAIRS:
        sub = np.random.default_rng(len(D)).choice(len(D), size=MAX_FIT_PAIRS, replace=False)
        D, who = D[sub], who[sub]
    _, inverse, counts = np.unique(who, return_inverse=True, return_counts=True)
    weight = 1.0 / counts[inverse]
    # each pair once, in a random orientation: (f_pos - f_neg, 1) or (f_neg - f_pos, 0)
    sign = np.where(np.random.default_rng(len(D)).random(len(D)) < 0.5, -1.0, 1.0)
    lr = LogisticRegression(C=1.0, fit_intercept=False, max_iter=200, tol=1e-3)
    lr.fit(D[:, keep] * sign[:, None], (sign > 0).astype(int), sample_weight=weight)
    coef = lr.coef_.ravel()
    return {str(n): round(float(c), 4) for n, c in zip(np.array(names)[keep], coef) if c != 0}


#: where a segment has too few validation residents, its choice is made on a wider scope
_SCOPES = {"cold": (("cold",), ("cold", "short", "long")),
           "short": (("short",), ("short", "long"), ("cold", "short", "long")),
           "long": (("long",), ("short", "long"), ("cold", "short", "long"))}


def _select(learned, candidates, ndcg, segment, res) -> Ranker:
    """Per segment, the learned weights where they beat every single generator and both baselines on
    validation, else the best of those; judged on the segment's own residents, or - too few of them -
    on the widest scope that has enough (short and long together, then everyone)."""
    weights: dict[str, dict[str, float]] = {}
    info: dict = {"residents": {"warm_protocol": int((res.protocol == "warm").sum()),
                                "cold_protocol": int((res.protocol == "cold").sum())}, "segments": {}}
    chosen_names = set()
    for seg in SEGMENTS:
        entry: dict = {"residents": int((segment == seg).sum())}
        info["segments"][seg] = entry
        for scope in _SCOPES[seg]:
            rows = np.isin(segment, scope)
            if rows.sum() >= MIN_RESIDENTS:
                break
        else:
            weights[seg] = dict(PRIOR[seg])
            entry.update(chosen="prior", why=f"fewer than {MIN_RESIDENTS} validation residents in all")
            chosen_names.add("prior")
            continue
        means = {c: round(float(np.nanmean(v[rows])), 5) for c, v in ndcg.items() if np.isfinite(v[rows]).any()}
        entry["validation_ndcg@10"] = means
        if scope != (seg,):
            entry["judged_on"] = list(scope)
        own = {"learned": learned[seg]["all"], POOLED: learned[POOLED]["all"] if seg != "cold" else None,
               EVERYONE: learned[EVERYONE]["all"]}
        tried = {c: means[c] for c, w in own.items() if w and c in means}
        others = {c: m for c, m in means.items() if c not in own}
        best_other = max(others, key=others.get)
        best_learned = max(tried, key=tried.get) if tried else None
        if best_learned and tried[best_learned] > others[best_other]:
            entry["chosen"], weights[seg] = "learned", own[best_learned]
            entry["why"] = (f"{best_learned} {tried[best_learned]:.4f} beats every single generator and baseline "
                            f"(best: {best_other} {others[best_other]:.4f})")
        else:
            entry["chosen"] = best_other
            weights[seg] = dict(candidates[best_other])
            entry["why"] = (f"{best_other} {others[best_other]:.4f} is at least as good as the learned ranker"
                            f" ({max(tried.values()) if tried else float('nan'):.4f})")
        chosen_names.add(entry["chosen"])
    name = chosen_names.pop() if len(chosen_names) == 1 else "mixed"
    return Ranker(name, weights, info)
