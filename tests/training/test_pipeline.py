import json
import shutil

import pandas as pd
import pytest

from recommender import artifacts
from recommender.engine import Recommender
from training.pipeline import train
from training.promote import decide, pooled
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
    # the learned model must at least beat "most popular first" for both kinds of resident
    for group in ("warm", "cold"):
        assert metrics[group]["model"]["ndcg@10"] > metrics[group]["popularity"]["ndcg@10"]
        assert metrics[group]["model"]["need_coverage@5"] >= 0.9


def test_a_model_is_promoted_only_when_it_beats_the_rescored_current(city_dir, trained_models, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(trained_models, models)
    first = artifacts.current_version(models)
    new = train(city_dir, models, epochs=1, no_components=2, eval_residents=300, quiet=True)
    promo = new.metrics["promotion"]
    assert promo["current_before"] == first
    # the current model was re-scored on the new run's holdout, not taken from its own metrics.json
    rescored = promo["current_rescored"]
    counts = new.metrics["data"]
    assert set(rescored) == {"warm", "cold"}
    old = pooled(rescored, "ndcg@10", counts)
    mine = pooled({g: new.metrics[g]["model"] for g in ("warm", "cold")}, "ndcg@10", counts)
    assert new.promoted == (mine > old)
    assert f"{mine:.4f}" in new.reason and first in new.reason
    assert artifacts.current_version(models) == (new.version if new.promoted else first)
    assert (models / new.version / "metrics.json").exists()  # kept for comparison either way
    forced = train(city_dir, models, epochs=1, no_components=2, eval_residents=300, quiet=True, force=True)
    assert forced.promoted and "--force" in forced.reason
    assert artifacts.current_version(models) == forced.version
    assert Recommender.load(models).version == forced.version


def test_decide_refuses_a_worse_model_and_explains():
    new = {"warm": {"model": {"ndcg@10": 0.30}}, "cold": {"model": {"ndcg@10": 0.20}},
           "counts": {"warm_residents_evaluated": 100, "cold_residents_evaluated": 100}}
    better_current = {"warm": {"ndcg@10": 0.31}, "cold": {"ndcg@10": 0.22}}
    ok, why = decide(new, "v1", better_current, force=False, primary="ndcg@10")
    assert not ok and "does not beat current v1" in why
    ok, why = decide(new, "v1", {"warm": {"ndcg@10": 0.2}, "cold": {"ndcg@10": 0.2}}, force=False, primary="ndcg@10")
    assert ok and "beats current v1" in why
    # warm and cold are weighted by residents: a model cannot win by serving only the larger group
    lopsided = {"warm": {"model": {"ndcg@10": 0.40}}, "cold": {"model": {"ndcg@10": 0.00}},
                "counts": {"warm_residents_evaluated": 100, "cold_residents_evaluated": 100}}
    ok, _ = decide(lopsided, "v1", better_current, force=False, primary="ndcg@10")
    assert not ok
    assert decide(new, None, None, force=False, primary="ndcg@10")[0]


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
    extra = pd.DataFrame({"resident_id": ["R000001", "R000001"], "service_id": inter["service_id"].iloc[:2],
                          "event": ["completed", "declined"], "timestamp": ["2030-01-01T00:00:00Z"] * 2})
    extra.to_csv(tmp_path / "events.csv", index=False)
    report = train(city_dir, tmp_path / "m", extra_interactions=[tmp_path / "events.csv"], epochs=1,
                   eval_residents=100, quiet=True, cold_residents=0)
    assert report.metrics["data"]["interactions"] == len(inter) + 2
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
