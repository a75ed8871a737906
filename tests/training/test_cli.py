"""The servicematch command as a user runs it: real processes, real files."""
import json
import subprocess
import sys

import pytest

from recommender import artifacts


def sm(*args, check=True, timeout=300):
    p = subprocess.run([sys.executable, "-m", "training.cli", *map(str, args)], capture_output=True, text=True,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


@pytest.mark.parametrize("cmd", ["", "generate", "train", "recommend", "models", "promote", "compare", "import-hsds"])
def test_every_command_explains_itself(cmd):
    out = sm(*([cmd] if cmd else []), "--help").stdout
    assert "usage: servicematch" in out
    if cmd == "train":
        for option in ("--holdout", "--cold-residents", "--force", "--events", "--quiet"):
            assert option in out


def test_generate_train_recommend_end_to_end(tmp_path):
    data, models = tmp_path / "city", tmp_path / "models"
    sm("generate", "--out", data, "--residents", 1500, "--services", 120, "--seed", 5, "--quiet")
    for name in ("services.csv", "residents.csv", "interactions.csv", "taxonomy.csv"):
        assert (data / name).exists()
    out = sm("train", "--data", data, "--models", models, "--epochs", 3, "--eval-residents", 200, "--quiet").stdout
    assert "warm residents" in out and "need_match" in out and "promoted" in out
    version = artifacts.current_version(models)
    assert version and version in out

    walk_in = sm("recommend", "--models", models, "-k", 4, "--json",
                 "--profile", json.dumps({"age": 70, "needs": ["eldercare", "food"]})).stdout
    result = json.loads(walk_in)
    assert result["mode"] == "cold" and len(result["items"]) == 4
    assert set(result["needs"]) == {"eldercare", "food"}
    from recommender.engine import Recommender

    rec = Recommender.load(models)
    known = next(r for r in (f"R{i:06d}" for i in range(1, 1500)) if rec.has_history(r))
    text = sm("recommend", "--models", models, "--resident-id", known, "-k", 3).stdout
    assert f"warm resident {known}" in text and " 1. " in text

    listing = sm("models", "--models", models).stdout
    assert f"* {version}" in listing


def test_errors_are_clear_and_exit_2(tmp_path, city_dir):
    p = sm("recommend", "--models", tmp_path, "--profile", "{}", check=False)
    assert p.returncode == 2 and "train a model first" in p.stderr
    p = sm("recommend", "--models", tmp_path, "--profile", "{not json", check=False)
    assert p.returncode == 2 and "--profile" in p.stderr
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "services.csv").write_text("service_id,name,min_age,max_age\nS1,Pantry,70,60\n")
    (bad / "residents.csv").write_text("resident_id,age\nR1,abc\n")
    (bad / "interactions.csv").write_text("resident_id,service_id,event\nR1,S1,liked\n")
    p = sm("train", "--data", bad, "--models", tmp_path / "m", "--quiet", check=False)
    assert p.returncode == 2
    for fragment in ("services", "min_age", "residents", "age", "interactions", "event", "row 2"):
        assert fragment in p.stderr, fragment
    assert not (tmp_path / "m").exists()


def test_promote_switches_current_and_refuses_damaged_versions(trained_models, tmp_path):
    import shutil

    models = tmp_path / "models"
    shutil.copytree(trained_models, models)
    version = artifacts.current_version(models)
    copy = models / "copy-of-current"
    shutil.copytree(models / version, copy)
    sm("promote", "copy-of-current", "--models", models)
    assert artifacts.current_version(models) == "copy-of-current"
    (copy / "metrics.json").write_text("{}")
    p = sm("promote", "copy-of-current", "--models", models, check=False)
    assert p.returncode == 2 and "checksum" in p.stderr


def test_compare_scores_two_versions_on_data_neither_saw(city_dir, tmp_path):
    """Two versions trained on the past, compared on what came after: paired, with an interval."""
    import shutil

    import pandas as pd

    past = tmp_path / "past"
    shutil.copytree(city_dir, past)
    inter = pd.read_csv(city_dir / "interactions.csv")
    cut = inter["timestamp"].quantile(0.7)
    inter[inter["timestamp"] < cut].to_csv(past / "interactions.csv", index=False)
    models = tmp_path / "models"
    versions = []
    for epochs in (1, 5):
        sm("train", "--data", past, "--models", models, "--epochs", epochs, "--eval-residents", 200, "--force", "--quiet")
        versions.append(artifacts.current_version(models))
    out = sm("compare", *versions, "--models", models, "--data", city_dir, "--json").stdout
    c = json.loads(out.strip().splitlines()[-1])
    assert c["since"] < cut and c["residents"] > 100
    assert c["diff"] == pytest.approx(c["ndcg@10_b"] - c["ndcg@10_a"], abs=1e-4)
    assert c["ci"][0] <= c["diff"] <= c["ci"][1]
    # nothing newer than both: a clear error, not a comparison on training data
    older = tmp_path / "older"
    shutil.copytree(past, older)
    inter[inter["timestamp"] <= c["since"]].to_csv(older / "interactions.csv", index=False)
    err = sm("compare", *versions, "--models", models, "--data", older, check=False)
    assert err.returncode == 2 and "no interaction is newer" in err.stderr
