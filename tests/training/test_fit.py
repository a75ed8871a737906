import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from training.fit import item_neighbors, positives_matrix, ridge


def test_ridge_recovers_a_linear_map_with_intercept():
    rng = np.random.default_rng(0)
    X = sp.csr_matrix((rng.random((500, 6)) > 0.5).astype(np.float32))
    W = rng.normal(size=(6, 3))
    Y = X @ W + np.array([1.0, -2.0, 0.5])
    W_hat, w0 = ridge(X, np.asarray(Y), alpha=1e-6)
    assert np.allclose(W_hat, W, atol=1e-3) and np.allclose(w0, [1.0, -2.0, 0.5], atol=1e-3)


def test_item_neighbors_are_co_use_similarities():
    # services 0 and 1 are always used together, 2 alone
    B = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1], [1, 1, 0]], dtype=np.float32))
    S = item_neighbors(B, top=2, shrink=0.0).toarray()
    assert S[0, 1] == pytest.approx(1.0) and S[1, 0] == pytest.approx(1.0)
    assert S[0, 2] == 0 and S[2, 2] == 0  # no co-use, no self-similarity


def test_positives_matrix_drops_declined_and_keeps_strongest_event():
    df = pd.DataFrame({"r": [0, 0, 1, 1], "s": [0, 0, 1, 2], "event": ["viewed", "completed", "declined", "enrolled"],
                       "weight": [0.25, 1.25, 0.0, 1.0]})
    m = positives_matrix(df, 2, 3).toarray()
    assert m[0, 0] == pytest.approx(1.25) and m[1, 1] == 0 and m[1, 2] == 1.0


def test_a_sparse_catalogue_learns_services_from_their_features(tmp_path):
    """Where most services have one or two uses, LightFM with service features is fitted and a service
    nobody used yet is represented by its tags: equal tags, equal representation; it can be suggested."""
    from recommender.engine import Recommender
    from training import scenarios
    from training.pipeline import train

    scenarios.generate("long_tail", tmp_path / "city", residents=800, services=2_500, seed=5)
    report = train(tmp_path / "city", tmp_path / "models", epochs=3, eval_residents=200, quiet=True)
    rec = Recommender.load(report.folder)
    assert rec.meta["hybrid"] and rec.model.hyb is not None
    assert rec.meta["cold_services"] > 0
    assert set(rec.model.ranker.signals()) & {"hyb", "seg", "need", "cf"}
    from recommender.features import ServiceFeaturizer

    featurizer = ServiceFeaturizer()
    F = featurizer.fit_transform(rec.catalog)[:, :len(featurizer.vocabulary_)].tocsr()
    rows = {}
    for i in range(F.shape[0]):
        rows.setdefault(tuple(F.indices[F.indptr[i]:F.indptr[i + 1]]), []).append(i)
    V = rec.model.hyb.item_embeddings
    # a service is its features: equal features, equal representation, used or not
    for members in rows.values():
        assert np.allclose(V[members], V[members[0]], atol=1e-5)
    assert np.unique(V.round(4), axis=0).shape[0] == len(rows)


def test_local_programmes_count_where_residents_choose_them(tmp_path):
    """Where residents choose programmes whose area names their own district (and that speak their
    language) over ones open to the whole city, and no coordinates are given, the learned ranker weighs
    that: a walk-in's list holds more services local to their district than need_match's does."""
    from recommender.engine import Recommender
    from recommender.features import profiles_at
    from training import scenarios
    from training.pipeline import train
    from training.tables import load_data_dir

    scenarios.generate("deep_funnel", tmp_path / "city", residents=3000, services=200, seed=4)
    report = train(tmp_path / "city", tmp_path / "models", epochs=5, eval_residents=300, quiet=True)
    rec = Recommender.load(report.folder)
    weights = rec.model.ranker.weights
    assert max(w.get("area", 0.0) for w in weights.values()) > 0, weights
    residents = load_data_dir(tmp_path / "city", quiet=True).residents
    profiles = [p for p in profiles_at(residents, np.arange(400)) if p.needs and p.district][:150]
    local = {"model": 0, "need_match": 0}
    for name in local:
        top, _ = rec.rank_batch([None] * len(profiles), profiles, k=5, ranker=None if name == "model" else name)
        for p, row in zip(profiles, top):
            local[name] += int(rec.catalog.serving("districts", p.district)[row[row >= 0]].sum())
    assert local["model"] > local["need_match"], local
