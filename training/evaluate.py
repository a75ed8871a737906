"""Score the model and two baselines on a holdout, warm and cold residents apart.

Positives are holdout ``referred``, ``applied``, ``enrolled`` and ``completed`` events, less services
the resident already used in training (those are never suggested). Every ranker goes through the same
eligibility filter and the same exclusions; the model's list is then ranked as it is served (each
declared need answered where an eligible service exists), the baselines' as they come:

* ``popularity``: most-used services in training first;
* ``need_match``: services answering a declared need, by popularity, then the rest by popularity.

``need_coverage@k`` is the share of (resident, declared need) pairs whose top k holds a service
answering that need; ``coverage@k`` the share of active services that appear in anyone's top k.
"""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from recommender.catalog import ServiceCatalog
from recommender.eligibility import evaluate as eligibility
from recommender.engine import Recommender
from recommender.features import profile_from_row
from recommender.ranking import candidate_scores, rank, top_k
from recommender.schema import POSITIVE_EVENTS

from .metrics import auc, list_metrics

KS = (5, 10)


class PopularityRanker:
    name = "popularity"
    rerank_needs = False

    def __init__(self, counts: np.ndarray):
        self.base = np.log1p(np.asarray(counts, dtype=np.float64))

    def scores(self, resident_ids, profiles, catalog) -> np.ndarray:
        return np.tile(self.base, (len(profiles), 1))


class NeedMatchRanker(PopularityRanker):
    name = "need_match"

    def scores(self, resident_ids, profiles, catalog) -> np.ndarray:
        out = np.tile(self.base, (len(profiles), 1))
        bonus = self.base.max() + 1.0
        for r, p in enumerate(profiles):
            for need in p.needs:
                out[r, catalog.answers(need) & (out[r] < bonus)] += bonus
        return out


class ModelRanker:
    """A trained model (fresh or loaded), scored over another catalogue's order when they differ."""

    name = "model"
    rerank_needs = True

    def __init__(self, rec: Recommender, catalog: ServiceCatalog):
        self.rec = rec
        self.cols = None
        if rec.catalog.ids != catalog.ids:
            self.cols = np.array([rec.catalog.index.get(sid, -1) for sid in catalog.ids])

    def scores(self, resident_ids, profiles, catalog) -> np.ndarray:
        s, _ = self.rec.score_batch(resident_ids, profiles)
        if self.cols is None:
            return s
        out = np.full((len(profiles), len(self.cols)), -np.inf)
        ok = self.cols >= 0
        out[:, ok] = s[:, self.cols[ok]]
        return out


def _csr_sets(df: pd.DataFrame, service_index: dict[str, int]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = defaultdict(set)
    cols = df["service_id"].map(service_index)
    for rid, j in zip(df["resident_id"], cols):
        if not (isinstance(j, float) and math.isnan(j)):
            out[rid].add(int(j))
    return out


def evaluate_holdout(rankers: list, *, catalog: ServiceCatalog, residents: pd.DataFrame, train: pd.DataFrame,
                     holdout: pd.DataFrame, max_residents: int = 10_000, seed: int = 0, batch: int = 512,
                     progress: bool = True) -> dict:
    """Metrics per group (warm, cold) per ranker, plus counts."""
    positives = holdout[holdout["event"].isin(POSITIVE_EVENTS)]
    used = _csr_sets(train[train["event"].isin(POSITIVE_EVENTS)], catalog.index)
    declined = _csr_sets(train[train["event"] == "declined"], catalog.index)
    truth = _csr_sets(positives, catalog.index)
    warm_ids = set(train["resident_id"].unique())
    res_index = pd.Index(residents["resident_id"])
    cols = list(residents.columns)
    rng = np.random.default_rng(seed)
    out: dict = {"counts": {}}
    for group in ("warm", "cold"):
        ids = sorted(r for r, pos in truth.items() if (r in warm_ids) == (group == "warm") and pos - used.get(r, set()))
        out["counts"][f"{group}_residents_with_positives"] = len(ids)
        if len(ids) > max_residents:
            ids = sorted(rng.choice(ids, size=max_residents, replace=False))
        out["counts"][f"{group}_residents_evaluated"] = len(ids)
        acc = {r.name: defaultdict(list) for r in rankers}
        shown = {r.name: {k: set() for k in KS} for r in rankers}
        rows = res_index.get_indexer(ids)
        for start in tqdm(range(0, len(ids), batch), desc=f"evaluate {group}", disable=not progress, unit="batch"):
            b_ids = ids[start:start + batch]
            b_rows = rows[start:start + batch]
            profiles = [profile_from_row(cols, tuple(residents.iloc[r])) for r in b_rows]
            score_sets = {r.name: r.scores(b_ids, profiles, catalog) for r in rankers}
            for n, (rid, p) in enumerate(zip(b_ids, profiles)):
                outcome = eligibility(catalog, p).outcome
                excluded = np.zeros(len(catalog), dtype=bool)
                known = used.get(rid, set()) | declined.get(rid, set())
                excluded[list(known)] = True
                pos = truth[rid] - known
                pos_mask = np.zeros(len(catalog), dtype=bool)
                pos_mask[list(pos)] = True
                need_masks = {need: catalog.answers(need) for need in p.needs}
                for ranker in rankers:
                    s = candidate_scores(score_sets[ranker.name][n], outcome, excluded)
                    m = acc[ranker.name]
                    for k in KS:
                        ranked = rank(s, k, need_masks).indices if ranker.rerank_needs else top_k(s, k)
                        for key, val in list_metrics(ranked, pos, k).items():
                            m[key].append(val)
                        shown[ranker.name][k].update(ranked)
                        for need, mask in need_masks.items():
                            m[f"need_coverage@{k}"].append(float(any(mask[i] for i in ranked)))
                    a = auc(s, ~excluded, pos_mask)
                    if a is not None:
                        m["auc"].append(a)
        active = max(int((catalog.status == "active").sum()), 1)
        out[group] = {}
        for ranker in rankers:
            m = acc[ranker.name]
            res = {key: round(float(np.mean(vals)), 4) for key, vals in sorted(m.items()) if vals}
            for k in KS:
                res[f"coverage@{k}"] = round(len(shown[ranker.name][k]) / active, 4)
            out[group][ranker.name] = res
    return out
