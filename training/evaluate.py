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

from collections import defaultdict

import numpy as np
import pandas as pd
import scipy.sparse as sp
from tqdm.auto import tqdm

from recommender.catalog import ServiceCatalog
from recommender.eligibility import Outcome, evaluate as eligibility
from recommender.engine import Recommender
from recommender.features import profile_from_row
from recommender.ranking import rank, top_k
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
        # a service the model never saw ranks last but still counts (-inf would mean "excluded")
        out = np.full((len(profiles), len(self.cols)), -1e299)
        ok = self.cols >= 0
        out[:, ok] = s[:, self.cols[ok]]
        return out


def _pairs(df: pd.DataFrame, residents: pd.Index, catalog: ServiceCatalog) -> sp.csr_matrix:
    """residents x services, True where ``df`` has a row for the pair (unknown ids are ignored)."""
    r = residents.get_indexer(df["resident_id"])
    s = pd.Index(catalog.ids).get_indexer(df["service_id"])
    ok = (r >= 0) & (s >= 0)
    m = sp.csr_matrix((np.ones(int(ok.sum()), dtype=bool), (r[ok], s[ok])), shape=(len(residents), len(catalog)))
    m.sum_duplicates()
    return m


def _top_lists(scores: np.ndarray, k: int, need_masks: list[dict] | None) -> np.ndarray:
    """(residents x k) service indices, best first, -1 where fewer than k may be suggested."""
    out = np.full((scores.shape[0], k), -1, dtype=np.int64)
    allowed = np.where(scores > -1e300, scores, -np.inf)
    if need_masks is None and scores.shape[1] > k:
        top = np.argpartition(-allowed, k - 1, axis=1)[:, :k]
        vals = np.take_along_axis(allowed, top, axis=1)
        order = np.lexsort((top, -vals), axis=1)  # best first, ties by index like top_k
        top = np.take_along_axis(top, order, axis=1)
        return np.where(np.isfinite(np.take_along_axis(vals, order, axis=1)), top, -1)
    for n in range(scores.shape[0]):
        row = allowed[n]
        lst = rank(row, k, need_masks[n]).indices if need_masks is not None else top_k(row, k)
        out[n, :len(lst)] = lst
    return out


def evaluate_holdout(rankers: list, *, catalog: ServiceCatalog, residents: pd.DataFrame, train: pd.DataFrame,
                     holdout: pd.DataFrame, max_residents: int = 2_000, seed: int = 0, batch: int = 256,
                     progress: bool = True) -> dict:
    """Metrics per group (warm, cold) per ranker, plus counts."""
    res_index = pd.Index(residents["resident_id"])
    known = (_pairs(train[train["event"].isin(POSITIVE_EVENTS)], res_index, catalog)
             + _pairs(train[train["event"] == "declined"], res_index, catalog))
    truth = _pairs(holdout[holdout["event"].isin(POSITIVE_EVENTS)], res_index, catalog)
    truth = (truth.astype(np.int8) - truth.multiply(known).astype(np.int8)).astype(bool)
    truth.eliminate_zeros()
    has_pos = np.diff(truth.indptr) > 0
    is_warm = np.zeros(len(res_index), dtype=bool)
    is_warm[res_index.get_indexer(pd.unique(train["resident_id"]))] = True
    cols = list(residents.columns)
    rng = np.random.default_rng(seed)
    out: dict = {"counts": {}}
    for group in ("warm", "cold"):
        rows = np.flatnonzero(has_pos & (is_warm == (group == "warm")))
        out["counts"][f"{group}_residents_with_positives"] = len(rows)
        if len(rows) > max_residents:
            rows = np.sort(rng.choice(rows, size=max_residents, replace=False))
        out["counts"][f"{group}_residents_evaluated"] = len(rows)
        ids = [str(x) for x in res_index[rows]]
        acc = {r.name: defaultdict(list) for r in rankers}
        shown = {r.name: {k: set() for k in KS} for r in rankers}
        known_rows, truth_rows = known[rows].toarray(), truth[rows].toarray()
        n_items = len(catalog)
        for start in tqdm(range(0, len(ids), batch), desc=f"evaluate {group}", disable=not progress, unit="batch"):
            b_ids = ids[start:start + batch]
            b_rows = rows[start:start + batch]
            b = len(b_ids)
            profiles = [profile_from_row(cols, tuple(residents.iloc[r])) for r in b_rows]
            ineligible = np.zeros((b, n_items), dtype=bool)
            excluded = known_rows[start:start + batch]
            truth_m = truth_rows[start:start + batch]
            need_masks = []
            for n, p in enumerate(profiles):
                ineligible[n] = eligibility(catalog, p).outcome == Outcome.INELIGIBLE
                need_masks.append({need: catalog.answers(need) for need in p.needs})
            n_pos = truth_m.sum(axis=1)
            n_excl = excluded.sum(axis=1)
            for ranker in rankers:
                scores = np.array(ranker.scores(b_ids, profiles, catalog), dtype=np.float64)
                # ineligible below every real score but above excluded, so excluded services take the
                # lowest ranks and drop out of the AUC by a constant shift
                scores[ineligible] = -1e300
                scores[excluded] = -np.inf
                m = acc[ranker.name]
                for k in KS:
                    top = _top_lists(scores, k, need_masks if ranker.rerank_needs else None)
                    hits = np.take_along_axis(truth_m, top, axis=1) & (top >= 0) if top.size else top
                    for key, vals in list_metrics(hits, n_pos, k).items():
                        m[key].extend(vals.tolist())
                    for n, masks in enumerate(need_masks):
                        listed = top[n][top[n] >= 0]
                        shown[ranker.name][k].update(listed.tolist())
                        for mask in masks.values():
                            m[f"need_coverage@{k}"].append(float(mask[listed].any()))
                m["auc"].extend(auc(scores, truth_m, n_excl).tolist())
        active = max(int((catalog.status == "active").sum()), 1)
        out[group] = {}
        for ranker in rankers:
            m = acc[ranker.name]
            res = {key: round(float(np.mean(vals)), 4) for key, vals in sorted(m.items()) if vals}
            for k in KS:
                res[f"coverage@{k}"] = round(len(shown[ranker.name][k]) / active, 4)
            out[group][ranker.name] = res
    return out
