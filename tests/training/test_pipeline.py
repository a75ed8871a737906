import json
import re
import shutil
import threading

import numpy as np

import pandas as pd
import pytest

from recommender import artifacts
from recommender.engine import Recommender
from training.pipeline import train
from training.promote import MIN_RESIDENTS, Comparison, decide, promotion_lock
from training.tables import DataError

KEYS = ("precision@10", "recall@10", "ndcg@10", "map@10", "auc", "coverage@10", "need_coverage@5",
        "precision@5", "ndcg@5")


def test_metrics_json_has_the_documented_shape(trained_models):
    folder = artifacts.resolve(trained_models)
    metrics = json.loads((folder / "metrics.json").read_text())
    for group in ("warm", "cold"):
        assert set(metrics[group]) == {"model", "popularity", "need_match"}
        for ranker in metrics[group].values():
            for key in KEYS:
                assert 0.0 <= ranker[key] <= 1.0
    assert metrics["data"]["warm_residents_evaluated"] > 0 and metrics["data"]["cold_residents_evaluated"] > 0
    assert metrics["timing"]["total"] > 0
    # the equity audit: per district (the fixture city has districts), every ranker, worst group named
    district = metrics["groups"]["warm"]["district"]
    assert len(district["groups"]) > 1 and district["worst"]["model"]["ndcg@10"] in district["groups"]
    # the learned model must at least beat "most popular first" for both kinds of resident
    for group in ("warm", "cold"):
        assert metrics[group]["model"]["ndcg@10"] > metrics[group]["popularity"]["ndcg@10"]
        assert metrics[group]["model"]["need_coverage@5"] >= 0.9


def test_the_gate_compares_on_fresh_data_and_force_overrides(city_dir, trained_models, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(trained_models, models)
    first = artifacts.current_version(models)
    new = train(city_dir, models, epochs=1, no_components=2, eval_residents=300, quiet=True)
    promo = new.metrics["promotion"]
    assert promo["current_before"] == first
    cmp = promo["comparison"]
    # scored on interactions newer than both models' training data, paired on the same residents
    assert cmp["since"] is not None and cmp["residents"] >= MIN_RESIDENTS
    # the decision follows the paired comparison and says so, with its figures
    said = [float(x) for x in re.findall(r"\d+\.\d{4}", new.reason)]
    assert any(abs(x - cmp["ndcg@10_b"]) < 1e-4 for x in said) and first in new.reason and "bound" in new.reason
    assert new.reason.startswith("promoted" if new.promoted else "not promoted")
    assert artifacts.current_version(models) == (new.version if new.promoted else first)
    assert (models / new.version / "metrics.json").exists()  # kept for comparison either way
    forced = train(city_dir, models, epochs=1, no_components=2, eval_residents=300, quiet=True, force=True)
    assert forced.promoted and "--force" in forced.reason
    assert artifacts.current_version(models) == forced.version
    assert Recommender.load(models).version == forced.version


def test_a_same_data_retrain_is_not_promoted_and_the_current_is_not_flattered(city_dir, trained_models, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(trained_models, models)
    first = artifacts.current_version(models)
    again = train(city_dir, models, epochs=5, eval_residents=300, quiet=True, seed=1)
    cmp = again.metrics["promotion"]["comparison"]
    a, b = cmp["ndcg@10_a"], cmp["ndcg@10_b"]
    assert a <= 1.05 * b, f"current re-scored at {a} vs the same model retrained at {b}"
    assert not again.promoted and artifacts.current_version(models) == first


def test_decide_needs_enough_residents_and_a_gain_above_noise():
    rng = np.random.default_rng(0)
    few = Comparison(since=0, residents=MIN_RESIDENTS - 1, excluded_residents=0, mean_a=0.2, mean_b=0.4, diff=0.2)
    ok, why = decide(few, np.full(MIN_RESIDENTS - 1, 0.2), "v1", force=False)
    assert not ok and f"only {MIN_RESIDENTS - 1} residents" in why
    noise = rng.normal(0.0, 0.3, size=1000)
    c = Comparison(since=0, residents=1000, excluded_residents=0, mean_a=0.3, mean_b=0.3 + noise.mean(),
                   diff=noise.mean())
    ok, why = decide(c, noise - noise.mean() + 0.001, "v1", force=False)
    assert not ok and "not above noise" in why
    gain = rng.normal(0.05, 0.3, size=1000)
    ok, why = decide(c, gain, "v1", force=False)
    assert ok and "promoted" in why
    assert decide(None, None, None, force=False)[0]
    assert decide(few, None, "v1", force=True)[0]
    # a real gain that serves one group worse is refused, naming the group; --force says so too
    c.equity = (False, "refused: warm residents, district 'D07': ndcg@10 0.4000 -> 0.3000")
    ok, why = decide(c, gain, "v1", force=False)
    assert not ok and "D07" in why
    ok, why = decide(c, gain, "v1", force=True)
    assert ok and "D07" in why


def test_promotion_waits_for_a_concurrent_promotion(city_dir, trained_models, tmp_path):
    """Read-compare-promote happens under the models folder's lock: a run that finishes while another
    holds it compares against what the other promoted, not what was current when it started."""
    models = tmp_path / "models"
    shutil.copytree(trained_models, models)
    first = artifacts.current_version(models)
    done = {}
    with promotion_lock(models):
        t = threading.Thread(target=lambda: done.update(r=train(city_dir, models, epochs=1, no_components=2,
                                                                eval_residents=300, quiet=True, force=True)))
        t.start()
        t.join(timeout=20)
        assert t.is_alive() and artifacts.current_version(models) == first  # waiting for the lock
    t.join(timeout=120)
    assert done["r"].promoted and artifacts.current_version(models) == done["r"].version


def test_invalid_data_trains_nothing(city_dir, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(city_dir, bad)
    df = pd.read_csv(bad / "interactions.csv", dtype=str)
    df.loc[3, "service_id"] = "NO-SUCH-SERVICE"
    df.to_csv(bad / "interactions.csv", index=False)
    models = tmp_path / "models"
    with pytest.raises(DataError) as e:
        train(bad, models, epochs=1, quiet=True)
    assert "NO-SUCH-SERVICE" in str(e.value) and "interactions" in str(e.value)
    assert not models.exists() or not any(models.iterdir())


def test_feedback_events_flow_into_the_next_model(city_dir, tmp_path):
    """Events exported by the API (interactions format) are taken in by train --events."""
    inter = pd.read_csv(city_dir / "interactions.csv", dtype=str)
    # R000001 is in the data; WALKIN-7 is a walk-in the API served and stored events for
    extra = pd.DataFrame({"resident_id": ["R000001", "R000001", "WALKIN-7"], "service_id": inter["service_id"].iloc[:3],
                          "event": ["completed", "declined", "enrolled"], "timestamp": ["2030-01-01T00:00:00Z"] * 3})
    extra.to_csv(tmp_path / "events.csv", index=False)
    report = train(city_dir, tmp_path / "m", extra_interactions=[tmp_path / "events.csv"], epochs=1,
                   eval_residents=100, quiet=True, cold_residents=0)
    assert report.metrics["data"]["interactions"] == len(inter) + 3
    assert Recommender.load(report.folder).knows("WALKIN-7")
    # late events do not move the time split onto themselves: the holdout is still the recent fifth
    assert report.metrics["data"]["warm_residents_evaluated"] >= 100
    assert str(tmp_path / "events.csv") in json.loads((report.folder / "model.json").read_text())["data_fingerprint"]


def test_a_hmong_language_catalogue_trains_and_serves_hmong_speakers(city_dir, tmp_path):
    """ISO 639-3 codes (Hmong has no two-letter code) train: the issue's 50-error refusal is gone."""
    data = tmp_path / "hmong"
    shutil.copytree(city_dir, data)
    services = pd.read_csv(data / "services.csv", dtype=str, keep_default_na=False)
    services.loc[services.index[:40], "languages"] = "hmn;en"
    services.to_csv(data / "services.csv", index=False)
    residents = pd.read_csv(data / "residents.csv", dtype=str, keep_default_na=False)
    residents.loc[residents.index[:50], "languages"] = "Hmong"
    residents.to_csv(data / "residents.csv", index=False)
    train(data, tmp_path / "m", epochs=1, no_components=2, eval_residents=200, quiet=True)
    rec = Recommender.load(tmp_path / "m")
    result = rec.recommend(profile={"languages": ["hmn"], "needs": ["food"]}, k=10)
    assert result.items
    for item in result.items:  # a service offered only in other languages is not suggested
        langs = rec.service(item.service_id)["languages"]
        assert not langs or "hmn" in langs.split(";")
    assert any("hmn" in (rec.service(i.service_id)["languages"] or "") for i in result.items)
