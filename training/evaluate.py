"""Score a model and the two baselines on a holdout, warm and cold residents apart.

Positives are holdout ``referred``, ``applied``, ``enrolled`` and ``completed`` events, less services
the resident already used or declined in training (those are never suggested). Every ranker is the
served one or a baseline ranked by :meth:`recommender.engine.Recommender.rank_batch` - the serving
kernel, with its eligibility, exclusions and need answers - so what is measured is what is served:

* ``model``: the model's own ranker;
* ``popularity``: most-used services in training first;
* ``need_match``: services answering a declared need, by popularity, then the rest by popularity.

``need_coverage@k`` is the share of (resident, declared need) pairs whose top k holds a service
answering that need; ``coverage@k`` the share of active services that appear in anyone's top k. Per
resident figures (``ndcg@10``, ``need_coverage@5``, ``has_eligible``) are returned beside the means,
for paired comparisons and the equity audit.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import scipy.sparse as sp
from tqdm.auto import tqdm

from recommender.engine import Recommender
from recommender.features import profiles_at
from recommender.ranking import BLOCKED
from recommender.schema import POSITIVE_EVENTS

from .metrics import auc, list_metrics
from .parallel import map_in_order

#: Scores a batch of residents x services holds at most when many residents are ranked at once
#: (evaluation, validation). Two million keeps a batch's arrays (each signal, the blend, its buffer)
#: near the 32 MB L3 cache: with ten million, a 50,000-service catalogue's train + evaluation took
#: 45 s against 34 s, the blend's passes over memory most of the difference (py-spy).
BATCH_SCORES = 2_000_000

KS = (5, 10)
#: ``per_resident``'s columns and their types
PER_RESIDENT = {"resident_id": "str", "ranker": "str", "group": "str", "ndcg@10": "float64",
                "need_coverage@5": "float64", "has_eligible": "bool"}
RANKERS = ("model", "popularity", "need_match")


def _pairs(df: pd.DataFrame, residents: pd.Index, ids: list[str]) -> sp.csr_matrix:
    """residents x services, True where ``df`` has a row for the pair (unknown ids are ignored)."""
    r = residents.get_indexer(df["resident_id"])
    s = pd.Index(ids).get_indexer(df["service_id"])
    ok = (r >= 0) & (s >= 0)
    m = sp.csr_matrix((np.ones(int(ok.sum()), dtype=bool), (r[ok], s[ok])), shape=(len(residents), len(ids)))
    m.sum_duplicates()
    return m


def holdout_truth(rec: Recommender, residents: pd.Index, train: pd.DataFrame, holdout: pd.DataFrame
                  ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """(known, truth) over ``rec``'s catalogue: what training already showed, what the holdout adds."""
    ids = rec.catalog.ids
    known = (_pairs(train[train["event"].isin(POSITIVE_EVENTS)], residents, ids)
             + _pairs(train[train["event"] == "declined"], residents, ids))
    truth = _pairs(holdout[holdout["event"].isin(POSITIVE_EVENTS)], residents, ids)
    truth = (truth.astype(np.int8) - truth.multiply(known).astype(np.int8)).astype(bool)
    truth.eliminate_zeros()
    return known.tocsr(), truth.tocsr()


def groups_of(residents: pd.DataFrame, train: pd.DataFrame, truth: sp.csr_matrix) -> dict[str, np.ndarray]:
    """Rows with holdout positives: ``warm`` where the resident has any training interaction."""
    index = pd.Index(residents["resident_id"])
    has_pos = np.diff(truth.indptr) > 0
    is_warm = np.zeros(len(index), dtype=bool)
    seen = index.get_indexer(pd.unique(train["resident_id"]))
    is_warm[seen[seen >= 0]] = True
    return {"warm": np.flatnonzero(has_pos & is_warm), "cold": np.flatnonzero(has_pos & ~is_warm)}


def evaluate_holdout(rec: Recommender, *, residents: pd.DataFrame, train: pd.DataFrame, holdout: pd.DataFrame,
                     rankers=RANKERS, max_residents: int = 2_000, seed: int = 0, batch: int = 256,
                     rows: dict[str, np.ndarray] | None = None, progress: bool = True, threads: int = 1) -> dict:
    """Metrics per group (warm, cold) per ranker, plus ``counts`` and ``per_resident`` (a DataFrame).
    ``threads``: batches ranked at once (:func:`~training.parallel.map_in_order`; the same figures for any).

    ``rows`` fixes which residents (rows of ``residents``) each group holds - a paired comparison of
    two models passes the same rows to both; otherwise a seeded sample of up to ``max_residents``.
    """
    index = pd.Index(residents["resident_id"])
    known, truth = holdout_truth(rec, index, train, holdout)
    rng = np.random.default_rng(seed)
    n_items = len(rec.catalog)
    batch = int(max(16, min(batch, BATCH_SCORES // max(n_items, 1))))
    out: dict = {"counts": {}}
    records: dict[str, list] = defaultdict(list)
    groups = rows if rows is not None else groups_of(residents, train, truth)
    for group, group_rows in groups.items():
        if rows is None:
            out["counts"][f"{group}_residents_with_positives"] = len(group_rows)
            if len(group_rows) > max_residents:
                group_rows = np.sort(rng.choice(group_rows, size=max_residents, replace=False))
        group_rows = group_rows[np.diff(truth.indptr)[group_rows] > 0]
        out["counts"][f"{group}_residents_evaluated"] = len(group_rows)
        acc = {r: defaultdict(list) for r in rankers}
        shown = {r: {k: set() for k in KS} for r in rankers}

        def score(b_rows: np.ndarray, group=group) -> tuple[dict, dict, dict]:
            """One batch's metrics per ranker (lists to extend by), services listed, per-resident columns."""
            ids = [str(x) for x in index[b_rows]]
            profiles = profiles_at(residents, b_rows)
            masks = [{need: rec.catalog.answers(need) for need in p.needs} for p in profiles]
            truth_m = truth[b_rows].toarray()
            n_pos = truth_m.sum(axis=1)
            elig = rec.eligibility(profiles)
            got = {r: defaultdict(list) for r in rankers}
            listed_by = {r: {k: set() for k in KS} for r in rankers}
            columns: dict[str, list] = defaultdict(list)
            excluded = has_eligible = None
            ranked = rec.rank_batch_many(ids, profiles, rankers=[None if name == "model" else name for name in rankers],
                                         ks=KS, exclude=known[b_rows], outcomes=elig)
            for name, (lists, s) in zip(rankers, ranked):
                m = got[name]
                per: dict[str, np.ndarray] = {}
                for k in KS:
                    top = lists[k]
                    hits = np.take_along_axis(truth_m, np.maximum(top, 0), axis=1) & (top >= 0)
                    for key, vals in list_metrics(hits, n_pos, k).items():
                        m[key].extend(vals.tolist())
                        per[key] = vals
                    cover = np.full(len(b_rows), np.nan)
                    for n, need_masks in enumerate(masks):
                        listed = top[n][top[n] >= 0]
                        listed_by[name][k].update(listed.tolist())
                        if need_masks:
                            hit = [float(mask[listed].any()) for mask in need_masks.values()]
                            m[f"need_coverage@{k}"].extend(hit)
                            cover[n] = np.mean(hit)
                    per[f"need_coverage@{k}"] = cover
                if excluded is None:  # the same for every ranker: the listing floor decides them
                    excluded, has_eligible = np.isneginf(s).sum(axis=1), (s > BLOCKED).any(axis=1)
                m["auc"].extend(auc(s, truth_m, excluded).tolist())
                for column, values in (("resident_id", ids), ("ranker", [name] * len(ids)),
                                       ("group", [group] * len(ids)), ("ndcg@10", per["ndcg@10"].tolist()),
                                       ("need_coverage@5", per["need_coverage@5"].tolist()),
                                       ("has_eligible", has_eligible.tolist())):
                    columns[column].extend(values)
            return got, listed_by, columns

        batches = [group_rows[start:start + batch] for start in range(0, len(group_rows), batch)]
        for got, listed_by, columns in tqdm(map_in_order(score, batches, threads), total=len(batches),
                                            desc=f"evaluate {group}", disable=not progress, unit="batch"):
            for name in rankers:
                for key, vals in got[name].items():
                    acc[name][key].extend(vals)
                for k in KS:
                    shown[name][k] |= listed_by[name][k]
            for column, values in columns.items():
                records[column].extend(values)
        active = max(int((rec.catalog.status == "active").sum()), 1)
        out[group] = {}
        for name in rankers:
            m = acc[name]
            res = {key: round(float(np.mean(vals)), 4) for key, vals in sorted(m.items()) if vals}
            for k in KS:
                res[f"coverage@{k}"] = round(len(shown[name][k]) / active, 4)
            out[group][name] = res
    # one frame at the end: a frame per batch and ranker was 5% of an evaluation over 50,000 services
    out["per_resident"] = pd.DataFrame(
        {c: pd.Series(records[c], dtype=dtype) for c, dtype in PER_RESIDENT.items()})
    return out
