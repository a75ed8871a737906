"""Plain LightFM on the pipeline's own split, scored with training/metrics.py: the bench's reference row.

What "plain" means here (one rule for every dataset, so no dataset gets a tailored baseline):

* the split is ``training.split.split_interactions(interactions, fraction=0.2, cold_fraction=0.1,
  seed=seed)`` (what ``pipeline.train`` does with its defaults), or the explicit holdout file;
* the interaction matrix is every training row except ``declined``, as 1 (no event weights);
* LightFM(loss="warp", no_components=32, learning_rate=0.05, random_state=seed), 20 epochs, the
  bench's thread count (the README's reference settings);
* warm residents (with training rows) are ranked by a fit on identities only (users x items);
* cold residents (no training rows) by a second fit whose users are profile features only (age and
  household-size bands, income quintile, gender, district, employment, disability, languages,
  needs, every extra column; no identity) and whose items are identity + categories (each code and
  its ancestors);
* ``items_from_features_only=True`` (the cold-items protocol) makes the warm fit's items category
  features only (no identity), so items without training rows get a representation;
* positives and exclusions as the pipeline counts them: holdout referred/applied/enrolled/completed
  pairs, less pairs the resident had a training positive for or declined (those are excluded from
  the ranking, -inf); residents with a positive are sampled like ``evaluate_holdout`` (up to
  ``max_residents`` per group, ``default_rng(seed)``, warm first). No eligibility filter: plain
  LightFM knows nothing of it.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.schema import POSITIVE_EVENTS, RESIDENT_LISTS, RESIDENT_NUMERIC
from training.metrics import auc, list_metrics

K = 10
PARAMS = dict(loss="warp", no_components=32, learning_rate=0.05)
EPOCHS = 20


def _pairs(df: pd.DataFrame, res: pd.Index, items: pd.Index) -> sp.csr_matrix:
    r, s = res.get_indexer(df["resident_id"]), items.get_indexer(df["service_id"])
    ok = (r >= 0) & (s >= 0)
    m = sp.csr_matrix((np.ones(int(ok.sum()), dtype=np.float32), (r[ok], s[ok])), shape=(len(res), len(items)))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def _one_hot(tokens: list[list[str]]) -> sp.csr_matrix:
    vocab: dict[str, int] = {}
    rows, cols = [], []
    for i, toks in enumerate(tokens):
        for t in dict.fromkeys(toks):
            rows.append(i)
            cols.append(vocab.setdefault(t, len(vocab)))
    m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(tokens), max(len(vocab), 1)))
    # LightFM sums feature embeddings; normalising rows keeps residents with many features comparable
    norm = np.asarray(m.sum(axis=1)).ravel()
    return sp.diags(1.0 / np.maximum(norm, 1.0)).dot(m).tocsr()


def resident_features(residents: pd.DataFrame) -> sp.csr_matrix:
    """Profile columns as one-hot features (numbers in bands); no identity."""
    toks: list[list[str]] = [[] for _ in range(len(residents))]
    for col in residents.columns:
        if col in ("resident_id", "latitude", "longitude"):
            continue
        values = residents[col]
        if col in RESIDENT_NUMERIC:
            x = pd.to_numeric(values, errors="coerce")
            band = (pd.qcut(x.rank(method="first"), 5, labels=False) if col == "monthly_income" and x.notna().sum() > 5
                    else (x // (10 if col == "age" else 1)).clip(upper=6 if col == "household_size" else None))
            cells = [f"{col}={int(b)}" if pd.notna(b) else None for b in band]
        elif col in RESIDENT_LISTS:
            cells = [[f"{col}={v}" for v in str(c).split(";") if v] for c in values.fillna("")]
        else:
            cells = [f"{col}={c}" if str(c) not in ("", "<NA>", "nan") else None for c in values.astype(str)]
        for i, c in enumerate(cells):
            if isinstance(c, list):
                toks[i].extend(c)
            elif c is not None:
                toks[i].append(c)
    return _one_hot(toks)


def category_tokens(services: pd.DataFrame, parents: dict[str, str]) -> list[list[str]]:
    """Each service's categories with every ancestor (``a/b`` codes, or ``parents`` from taxonomy.csv)."""
    out = []
    for cell in services["categories"].fillna(""):
        toks = []
        for code in (c for c in str(cell).split(";") if c):
            seen = 0
            while code and seen < 20:
                toks.append(f"cat={code}")
                code = parents.get(code, code.rsplit("/", 1)[0] if "/" in code else "")
                seen += 1
        out.append(toks)
    return out


def item_features(services: pd.DataFrame, parents: dict[str, str], identity: bool) -> sp.csr_matrix:
    toks = category_tokens(services, parents)
    if identity:
        toks = [[f"id={sid}"] + t for sid, t in zip(services["service_id"], toks)]
    return _one_hot([t or ["cat=(none)"] for t in toks])


def fit(train_m: sp.csr_matrix, *, seed: int, threads: int, user_features=None, item_features=None,
        epochs: int = EPOCHS):
    from lightfm import LightFM

    model = LightFM(random_state=seed, **PARAMS)
    model.fit(train_m.tocoo(), user_features=user_features, item_features=item_features, epochs=epochs,
              num_threads=threads)
    return model


def sample_groups(residents: pd.Index, train: pd.DataFrame, holdout: pd.DataFrame, items: pd.Index,
                  max_residents: int, seed: int) -> dict:
    """truth, known and the sampled rows per group, as evaluate_holdout draws them."""
    known = (_pairs(train[train["event"].isin(POSITIVE_EVENTS)], residents, items)
             + _pairs(train[train["event"] == "declined"], residents, items))
    known.data[:] = 1.0
    truth = _pairs(holdout[holdout["event"].isin(POSITIVE_EVENTS)], residents, items)
    truth = (truth - truth.multiply(known)).tocsr()
    truth.eliminate_zeros()
    has_pos = np.diff(truth.indptr) > 0
    is_warm = np.zeros(len(residents), dtype=bool)
    is_warm[residents.get_indexer(pd.unique(train["resident_id"]))] = True
    rng = np.random.default_rng(seed)
    groups = {}
    for group in ("warm", "cold"):
        rows = np.flatnonzero(has_pos & (is_warm == (group == "warm")))
        if len(rows) > max_residents:
            rows = np.sort(rng.choice(rows, size=max_residents, replace=False))
        groups[group] = rows
    return {"truth": truth, "known": known, "rows": groups}


def evaluate(model, rows: np.ndarray, truth: sp.csr_matrix, known: sp.csr_matrix, *, user_features=None,
             item_features=None, batch: int = 256) -> dict:
    """ndcg@10, precision@10, AUC (means) of a LightFM model over ``rows``."""
    if not len(rows):
        return {}
    ub, ue = model.get_user_representations(user_features)
    ib, ie = model.get_item_representations(item_features)
    acc: dict[str, list] = {"ndcg@10": [], "precision@10": [], "auc": []}
    for start in range(0, len(rows), batch):
        b = rows[start:start + batch]
        scores = (ue[b] @ ie.T + ub[b][:, None] + ib[None, :]).astype(np.float64)
        excl = known[b].toarray() > 0
        t = truth[b].toarray() > 0
        scores[excl] = -np.inf
        top = np.argpartition(-scores, K - 1, axis=1)[:, :K]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        hits = np.take_along_axis(t, top, axis=1) & np.isfinite(np.take_along_axis(scores, top, axis=1))
        m = list_metrics(hits, t.sum(axis=1), K)
        acc["ndcg@10"].extend(m["ndcg@10"].tolist())
        acc["precision@10"].extend(m["precision@10"].tolist())
        acc["auc"].extend(auc(scores, t, excl.sum(axis=1)).tolist())
    return {k: round(float(np.mean(v)), 4) for k, v in acc.items() if v}


def run(residents: pd.DataFrame, services: pd.DataFrame, train: pd.DataFrame, holdout: pd.DataFrame, *,
        parents: dict[str, str], seed: int, threads: int, max_residents: int,
        items_from_features_only: bool = False) -> dict:
    """Both plain fits and their metrics; ``timing`` holds the warm fit and each evaluation in seconds."""
    res_index, items = pd.Index(residents["resident_id"]), pd.Index(services["service_id"])
    g = sample_groups(res_index, train, holdout, items, max_residents, seed)
    train_m = _pairs(train[train["event"] != "declined"], res_index, items)
    out: dict = {"timing": {}}
    t = time.perf_counter()
    warm_items = item_features(services, parents, identity=False) if items_from_features_only else None
    warm = fit(train_m, seed=seed, threads=threads, item_features=warm_items)
    out["timing"]["warm_fit"] = time.perf_counter() - t
    t = time.perf_counter()
    out["warm"] = evaluate(warm, g["rows"]["warm"], g["truth"], g["known"], item_features=warm_items)
    out["timing"]["warm_evaluate"] = time.perf_counter() - t
    if len(g["rows"]["cold"]):
        t = time.perf_counter()
        uf, itf = resident_features(residents), item_features(services, parents, identity=True)
        cold = fit(train_m, seed=seed, threads=threads, user_features=uf, item_features=itf)
        out["timing"]["cold_fit"] = time.perf_counter() - t
        t = time.perf_counter()
        out["cold"] = evaluate(cold, g["rows"]["cold"], g["truth"], g["known"], user_features=uf, item_features=itf)
        out["timing"]["cold_evaluate"] = time.perf_counter() - t
    out["residents_evaluated"] = {k: int(len(v)) for k, v in g["rows"].items()}
    return out
