"""The equity audit on a real generated residents table (loaded and validated as training loads it).

The per-resident figures stand in for an evaluation's output: seeded random values, with one district
made worse on purpose, so every expected figure is recomputed here from the same frame.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.equity import MIN_GROUP, NOT_GIVEN, TOLERANCE, equity_gate, format_worst, group_metrics, group_labels
from training.generate import generate_city
from training.tables import load_data_dir

RANKERS = ("model", "popularity", "need_match")


@pytest.fixture(scope="module")
def residents(tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("equity-city")
    generate_city(out, residents=2500, services=120, seed=11, progress=False)
    table = load_data_dir(out).residents.copy()
    # a few residents who did not say their district or disability
    table.loc[table.index[:40], "district"] = ""
    table["disability"] = table["disability"].astype("boolean")
    table.loc[table.index[40:70], "disability"] = pd.NA
    return table


def per_resident(residents: pd.DataFrame, seed: int = 0, worse: dict | None = None) -> pd.DataFrame:
    """Figures per resident and ranker; ``worse``: {(population, district): amount} lowers the model's
    ndcg@10 and need_coverage@5 there."""
    rng = np.random.default_rng(seed)
    ids = residents["resident_id"].to_numpy()
    district = residents.set_index("resident_id")["district"]
    pops = np.where(rng.random(len(ids)) < 0.7, "warm", "cold")
    frames = []
    for ranker in RANKERS:
        ndcg = rng.random(len(ids)) * (0.6 if ranker == "model" else 0.3)
        cov = np.where(residents["needs"].to_numpy() == "", np.nan, (rng.random(len(ids)) < 0.9).astype(float))
        frame = pd.DataFrame({"resident_id": ids, "ranker": ranker, "group": pops, "ndcg@10": ndcg,
                              "need_coverage@5": cov, "has_eligible": rng.random(len(ids)) < 0.95})
        if ranker == "model":
            for (pop, d), amount in (worse or {}).items():
                m = (frame["group"] == pop) & (district.loc[ids].to_numpy() == d)
                frame.loc[m, "ndcg@10"] -= amount
                frame.loc[m, "need_coverage@5"] -= amount
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_figures_per_group_are_the_group_means_for_every_ranker(residents):
    pr = per_resident(residents)
    out = group_metrics(pr, residents)
    assert out["min_group"] == MIN_GROUP
    labels = group_labels(residents).set_index("resident_id")
    for pop in ("warm", "cold"):
        assert set(out[pop]) == {"district", "language", "age_band", "disability", "gender"}
        for grouping in ("district", "age_band", "language"):
            for value, entry in out[pop][grouping]["groups"].items():
                rows = pr[(pr["group"] == pop) & (labels.loc[pr["resident_id"], grouping].to_numpy() == value)]
                assert entry["n"] == rows["resident_id"].nunique()
                for ranker in RANKERS:
                    r = rows[rows["ranker"] == ranker]
                    assert entry[ranker]["ndcg@10"] == pytest.approx(r["ndcg@10"].mean(), abs=1e-4)
                    assert entry[ranker]["need_coverage@5"] == pytest.approx(r["need_coverage@5"].mean(), abs=1e-4)
                    assert entry[ranker]["eligible_share"] == pytest.approx(r["has_eligible"].mean(), abs=1e-4)
                    assert entry[ranker]["n_with_needs"] == int(r["need_coverage@5"].notna().sum())


def test_worst_to_best_leaves_out_small_and_not_given_groups(residents):
    out = group_metrics(per_resident(residents, worse={("cold", "d07"): 0.3}), residents)
    district = out["cold"]["district"]
    assert district["groups"][NOT_GIVEN]["n"] > 0  # reported ...
    assert district["worst"]["model"]["ndcg@10"] == "d07"  # ... the harmed district is found
    big = {g: v["model"]["ndcg@10"] for g, v in district["groups"].items() if g != NOT_GIVEN and v["n"] >= MIN_GROUP}
    assert district["worst_to_best"]["model"]["ndcg@10"] == pytest.approx(min(big.values()) / max(big.values()), abs=1e-3)
    # the baselines' figures for the same groups are compared too, and were not harmed
    assert district["worst"]["popularity"]["ndcg@10"] != "d07" or district["worst_to_best"]["popularity"]["ndcg@10"] > 0.8
    language = out["warm"]["language"]
    small = [g for g, v in language["groups"].items() if v["n"] < MIN_GROUP]
    assert small, "the generated city has small language groups"
    assert all(language["worst"][r]["ndcg@10"] not in small for r in RANKERS)
    assert out["warm"]["disability"]["groups"].keys() >= {"yes", "no", NOT_GIVEN}


def test_groupings_missing_from_the_table_are_skipped(residents):
    table = residents.drop(columns=["gender"]).assign(age=np.nan)
    out = group_metrics(per_resident(residents), table)
    assert "gender" not in out["warm"] and "age_band" not in out["warm"]
    with pytest.raises(ValueError, match="has_eligible"):
        group_metrics(per_resident(residents).drop(columns=["has_eligible"]), residents)


def test_gate_refuses_a_challenger_that_serves_one_district_worse_and_names_it(residents):
    current = group_metrics(per_resident(residents, seed=1), residents)
    harmed = group_metrics(per_resident(residents, seed=1, worse={("warm", "d04"): 0.12}), residents)
    ok, reason = equity_gate(harmed, current, tolerance=TOLERANCE)
    assert not ok
    assert "warm" in reason and "district 'd04'" in reason and ("ndcg@10" in reason or "need_coverage@5" in reason)
    slight = group_metrics(per_resident(residents, seed=1, worse={("warm", "d04"): 0.01}), residents)
    ok, reason = equity_gate(slight, current, tolerance=TOLERANCE)
    assert ok and "largest drop" in reason
    assert equity_gate(current, current, tolerance=0.0)[0]
    with pytest.raises(ValueError):
        equity_gate(current, current, tolerance=-1)


def test_gate_does_not_judge_groups_below_the_minimum(residents):
    current = group_metrics(per_resident(residents, seed=2), residents)
    labels = group_labels(residents)
    small = labels["language"].value_counts()
    tiny = small[small < MIN_GROUP // 2].index[0]
    pr = per_resident(residents, seed=2)
    members = pr["resident_id"].isin(labels.loc[labels["language"] == tiny, "resident_id"]) & (pr["ranker"] == "model")
    pr.loc[members, ["ndcg@10", "need_coverage@5"]] = 0.0
    ok, reason = equity_gate(group_metrics(pr, residents), current)
    assert ok, reason


def test_format_worst_names_the_worst_group_of_each_grouping(residents):
    out = group_metrics(per_resident(residents, worse={("warm", "d02"): 0.3}), residents)
    text = format_worst(out)
    lines = text.splitlines()
    assert any(line.startswith("warm district: worst ndcg@10 d02") for line in lines)
    assert sum(line.startswith("cold ") for line in lines) == len(out["cold"])


def test_on_a_real_evaluation_of_a_trained_model(trained_models, city_dir):
    """The evaluation's own per-resident output, as train hands it over."""
    from recommender.engine import Recommender
    from training.evaluate import evaluate_holdout
    from training.split import split_interactions

    data = load_data_dir(city_dir)
    split = split_interactions(data.interactions, cold_fraction=0.1, seed=0)
    rec = Recommender.load(trained_models)
    metrics = evaluate_holdout(rec, residents=data.residents, train=split.train, holdout=split.holdout,
                               max_residents=400, progress=False)
    out = group_metrics(metrics["per_resident"], data.residents)
    for pop in ("warm", "cold"):
        evaluated = metrics["counts"][f"{pop}_residents_evaluated"]
        for grouping, g in out[pop].items():
            assert sum(v["n"] for v in g["groups"].values()) == evaluated, grouping
            # the groups' figures pool back to the evaluation's own means
            pooled = sum(v["n"] * v["model"]["ndcg@10"] for v in g["groups"].values()) / evaluated
            assert pooled == pytest.approx(metrics[pop]["model"]["ndcg@10"], abs=2e-3)
            for ranker in RANKERS:
                assert set(g["worst_to_best"][ranker]) == {"ndcg@10", "need_coverage@5", "eligible_share"}
    assert equity_gate(out, out)[0]
    assert "warm district: worst" in format_worst(out)
