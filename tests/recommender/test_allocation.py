"""The allocation solver against brute force and LP sensitivity, and a caseload through the real engine."""
from __future__ import annotations

import csv
import itertools
import json
import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from recommender.allocation import allocate
from recommender.caseload import Case, allocate_caseload


def random_instance(rng, n_res=40, per=(1, 3), n_services=12, n_cand=4, cap_max=4):
    counts = rng.integers(per[0], per[1], n_res)
    resident = np.repeat(np.arange(n_res), counts)
    n_pairs = len(resident)
    pair = np.repeat(np.arange(n_pairs), n_cand)
    # popular services first: independent ranking piles onto them
    service = np.minimum(rng.geometric(0.35, len(pair)) - 1, n_services - 1)
    keep = np.unique(pair * n_services + service, return_index=True)[1]  # a service once per pair
    pair, service = pair[keep], service[keep]
    score = rng.normal(2.0, 1.0, len(pair)) + (n_services - service) * 0.2
    unknown = rng.random(len(pair)) < 0.15
    capacity = rng.integers(0, cap_max + 1, n_services).astype(float)
    capacity[rng.random(n_services) < 0.2] = np.nan
    return dict(pair=pair, service=service, score=score, unknown=unknown, n_pairs=n_pairs,
                capacity=capacity, resident=resident)


def brute_force(inst, penalty):
    """Best value over every feasible assignment (tiny instances only)."""
    pair, service = inst["pair"], inst["service"]
    adjusted = inst["score"] - penalty * inst["unknown"]
    value = adjusted - adjusted.min() + 1.0
    options = [[None] + list(np.flatnonzero(pair == p)) for p in range(inst["n_pairs"])]
    best = 0.0
    cap = np.where(np.isnan(inst["capacity"]), np.inf, inst["capacity"])
    for combo in itertools.product(*options):
        chosen = [e for e in combo if e is not None]
        load = np.bincount(service[chosen], minlength=len(cap)) if chosen else np.zeros(len(cap))
        held = [(inst["resident"][pair[e]], service[e]) for e in chosen]
        if np.all(load <= cap) and len(set(held)) == len(held):
            best = max(best, float(value[chosen].sum()))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_optimal_on_small_instances_checked_by_brute_force(seed):
    rng = np.random.default_rng(seed)
    inst = random_instance(rng, n_res=4, per=(1, 3), n_services=4, n_cand=3, cap_max=2)
    out = allocate(**inst, floor=0.0, unknown_penalty=0.7)
    assert out.report["objective"] == pytest.approx(brute_force(inst, 0.7), abs=1e-3)
    assert out.report["objective"] <= out.report["bound"] + 1e-6


@pytest.mark.parametrize("method", ["auto", "milp", "round"])
@pytest.mark.parametrize("seed", range(4))
def test_feasible_every_time(seed, method):
    rng = np.random.default_rng(100 + seed)
    inst = random_instance(rng, n_res=300, n_services=30, n_cand=5, cap_max=6)
    groups = {"district": np.array([f"d{r % 5}" for r in inst["resident"]], dtype=object)}
    out = allocate(**inst, groups=groups, method=method)
    chosen = out.edge[out.edge >= 0]
    assert len(set(inst["pair"][chosen].tolist())) == len(chosen)  # one service per pair at most
    load = np.bincount(inst["service"][chosen], minlength=len(inst["capacity"]))
    finite = ~np.isnan(inst["capacity"])
    assert np.all(load[finite] <= inst["capacity"][finite])
    assert out.report["over_capacity"] == 0
    held = list(zip(inst["resident"][inst["pair"][chosen]], inst["service"][chosen]))
    assert len(set(held)) == len(held)  # one place per resident and service
    assert out.report["objective"] <= out.report["bound"] + 1e-6
    assert out.report["gap"] == pytest.approx(1 - out.report["objective"] / out.report["bound"], abs=1e-5)
    # independent top-1 ranking overfills what the allocation respects
    top1 = out.report["independent_top1"]
    assert top1["over_capacity"] > 0 and top1["pairs_sent_to_full"] == top1["over_capacity"]
    assert out.report["need_coverage"] >= top1["need_coverage"]
    assert out.report["coverage_gained"] == pytest.approx(out.report["need_coverage"] - top1["need_coverage"], abs=1e-4)


def test_coverage_floor_lifts_the_worst_district():
    # district "b" residents value the shared services less, so an unconstrained optimum serves "a" first
    rng = np.random.default_rng(7)
    n_pairs = 200
    group = np.array(["a"] * 100 + ["b"] * 100, dtype=object)
    pair = np.repeat(np.arange(n_pairs), 3)
    service = np.tile([0, 1, 2], n_pairs)
    score = np.where(group[pair] == "a", 5.0, 1.0) + rng.random(len(pair))
    capacity = np.array([40.0, 40.0, 40.0])  # 120 places for 200 pairs
    free = allocate(pair, service, score, np.zeros(len(pair), bool), n_pairs=n_pairs, capacity=capacity,
                    groups={"district": group}, floor=0.0)
    assert free.report["groups"]["district"]["worst_to_best"] < 0.5
    fair = allocate(pair, service, score, np.zeros(len(pair), bool), n_pairs=n_pairs, capacity=capacity,
                    groups={"district": group}, floor=0.9)
    g = fair.report["groups"]["district"]
    assert g["worst"] == "b" and g["worst_to_best"] >= 0.9 - 1e-9
    assert fair.report["over_capacity"] == 0 and fair.report["assigned"] == 120
    assert fair.report["objective"] < free.report["objective"]
    assert fair.report["objective"] >= 0.99 * fair.report["bound"]


def test_unknown_eligibility_is_allowed_but_penalised():
    pair = np.array([0, 0, 1, 1])
    service = np.array([0, 1, 0, 1])
    score = np.array([3.0, 2.8, 3.0, 2.8])
    unknown = np.array([True, False, True, False])
    capacity = np.array([5.0, 5.0])
    cheap = allocate(pair, service, score, unknown, n_pairs=2, capacity=capacity, unknown_penalty=0.1)
    assert cheap.service.tolist() == [0, 0] and cheap.report["unknown_eligibility_assigned"] == 2
    strict = allocate(pair, service, score, unknown, n_pairs=2, capacity=capacity, unknown_penalty=0.5)
    assert strict.service.tolist() == [1, 1] and strict.report["unknown_eligibility_assigned"] == 0
    only_unknown = allocate(pair[:1], service[:1], score[:1], unknown[:1], n_pairs=2, capacity=capacity,
                            unknown_penalty=10.0)
    assert only_unknown.service.tolist() == [0, -1]  # still better than nothing
    assert only_unknown.report["need_coverage"] == 0.5 and only_unknown.report["answerable_pairs"] == 1


def test_shadow_price_is_what_one_more_place_adds_to_the_bound():
    rng = np.random.default_rng(3)
    inst = random_instance(rng, n_res=120, n_services=10, n_cand=4, cap_max=5)
    out = allocate(**inst, floor=0.0)
    binding = np.flatnonzero(out.shadow_prices > 1e-6)
    assert len(binding) > 0
    assert np.all(out.shadow_prices[np.isnan(inst["capacity"])] == 0)
    for s in binding[:3]:
        more = dict(inst, capacity=inst["capacity"].copy())
        more["capacity"][s] += 1
        gain = allocate(**more, floor=0.0).report["bound"] - out.report["bound"]
        # the dual is a rate: the first extra place adds at most the price (degenerate LPs: less)
        assert gain <= out.shadow_prices[s] + 1e-3
        assert gain >= 0


@pytest.mark.parametrize("bad, match", [
    (dict(service=np.array([0])), "service"),
    (dict(n_pairs=1, pair=np.array([0, 5])), "pair"),
    (dict(score=np.array([1.0, math.nan])), "score"),
    (dict(capacity=np.array([-1.0, 2.0])), "capacity"),
    (dict(floor=1.5), "floor"),
    (dict(method="greedy"), "method"),
])
def test_bad_inputs_name_the_argument(bad, match):
    args = dict(pair=np.array([0, 1]), service=np.array([0, 1]), score=np.array([1.0, 2.0]),
                unknown=np.array([False, False]), n_pairs=2, capacity=np.array([1.0, 1.0]))
    args.update(bad)
    with pytest.raises(ValueError, match=match):
        allocate(**args)


def test_empty_caseload():
    out = allocate([], [], [], [], n_pairs=3, capacity=np.array([1.0]))
    assert out.report["assigned"] == 0 and out.report["need_coverage"] == 0.0 and out.report["gap"] == 0.0


# ---------------------------------------------------------------- through the engine (one ranking path)

def test_score_penalty_reorders_without_changing_the_score_shown(recommender):
    profile = {"age": 40, "district": "d02", "languages": "en", "needs": "food"}
    plain = recommender.recommend(profile=profile, k=6, categories=["food"], explain=False)
    ids = [i.service_id for i in plain.items]
    first = plain.items[0]
    # a penalty just big enough to put the first below the sixth
    penalty = first.score - plain.items[-1].score + 0.05
    moved = recommender.recommend(profile=profile, k=50, categories=["food"], explain=False,
                                  score_penalty={first.service_id: penalty, "no-such-service": 5.0})
    order = [i.service_id for i in moved.items]
    assert order[:5] == ids[1:]  # the others keep their order, the first falls below them
    assert order.index(first.service_id) >= 5
    assert moved.items[order.index(first.service_id)].score == first.score  # the score shown is the match's


def test_caseload_respects_live_capacity_and_the_ranking_path(recommender):
    profile = {"age": 35, "district": "d03", "languages": "en", "needs": "food;health"}
    top = recommender.recommend(profile=profile, needs=["food"], categories=["food"], k=3, explain=False)
    overrides = {s.service_id: {"capacity": 1} for s in top.items}
    cases = [Case(profile=profile) for _ in range(6)]
    out = allocate_caseload(recommender, cases, candidates=8, overrides=overrides, floor=0.0)
    assert len(out.rows) == 12 and {r["need"] for r in out.rows} == {"food", "health"}
    food = [r["service_id"] for r in out.rows if r["need"] == "food"]
    assert all(food.count(sid) <= 1 for sid in overrides)
    for r in out.rows:
        if r["service_id"]:
            assert r["need"] in recommender.service(r["service_id"])["categories"] or any(
                c.startswith(r["need"] + "/") for c in recommender.service(r["service_id"])["categories"])
    assert out.report["over_capacity"] == 0 and out.report["independent_top1"]["pairs_sent_to_full"] >= 5
    assert out.report["model_version"] == recommender.version
    assert set(out.shadow_prices) & set(overrides)  # contested places are priced
    with pytest.raises(KeyError, match="resident #1"):
        allocate_caseload(recommender, [Case(profile=profile), Case(resident_id="nobody")])
    with pytest.raises(ValueError, match="resident #0.*age"):
        allocate_caseload(recommender, [Case(profile={**profile, "age": "old"})])


def test_allocate_command_writes_one_row_per_declared_need(trained_models, city_dir, tmp_path):
    table = pd.read_csv(city_dir / "residents.csv").head(60)
    table.loc[3, ["resident_id", "needs"]] = ["walk-in-3", ""]  # a walk-in with no declared need gets no row
    known_needs = table.loc[5, "needs"]
    table.loc[5, "needs"] = ""  # a known resident's empty cell: the model's profile says what they need
    table.loc[4, "resident_id"] = "walk-in-4"  # unknown to the model: a walk-in from its profile
    caseload = tmp_path / "caseload.csv"
    table.to_csv(caseload, index=False)
    out, report = tmp_path / "alloc.csv", tmp_path / "alloc.json"
    p = subprocess.run([sys.executable, "-m", "training.cli", "allocate", "--models", trained_models,
                        "--residents", caseload, "--out", out, "--report", report],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "over capacity 0" in p.stdout and "sent to full programmes" in p.stdout
    rows = list(csv.DictReader(out.open()))
    declared = sum(len(str(n).split(";")) for n in table["needs"] if isinstance(n, str) and n)
    declared += len(known_needs.split(";"))
    assert len(rows) == declared and list(rows[0]) == ["resident_id", "need", "service_id", "score"]
    assert any(r["resident_id"] == "walk-in-4" for r in rows)
    assert not any(r["resident_id"] == "walk-in-3" for r in rows)
    assert ";".join(r["need"] for r in rows if r["resident_id"] == table.loc[5, "resident_id"]) == known_needs
    rep = json.loads(report.read_text())
    for key in ("objective", "bound", "gap", "need_coverage", "over_capacity", "seconds", "independent_top1", "groups"):
        assert key in rep
    no_needs = sum(1 for i, n in table["needs"].items() if i != 5 and not (isinstance(n, str) and n))
    assert rep["over_capacity"] == 0 and rep["residents_without_needs"] == no_needs >= 1
    assert oct(os.stat(out).st_mode & 0o777) == "0o600" and oct(os.stat(report).st_mode & 0o777) == "0o600"
    # a bad table is refused with file, row and column
    table["age"] = table["age"].astype(object)
    table.loc[7, "age"] = "old"
    table.to_csv(caseload, index=False)
    p = subprocess.run([sys.executable, "-m", "training.cli", "allocate", "--models", trained_models,
                        "--residents", caseload, "--out", out, "--report", report],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and "caseload.csv" in p.stderr and "row 9" in p.stderr and "age" in p.stderr


def test_batched_ranking_gives_the_same_candidates_as_one_call_per_pair(recommender, city_dir):
    table = pd.read_csv(city_dir / "residents.csv").head(120)
    cases = [Case(resident_id=str(r["resident_id"]),
                  profile={k: v for k, v in r.items() if k != "resident_id" and isinstance(v, str) or
                           (k != "resident_id" and isinstance(v, (int, float)) and not math.isnan(v))})
             for r in table.to_dict("records")]
    ids = recommender.service_ids
    cases[0].history = [(ids[5], "enrolled"), (ids[7], "declined"), (ids[9], "viewed")]
    cases[1].exclude_service_ids = [ids[3]]
    cases.append(Case(profile={"age": 70, "district": "d02", "needs": "food;eldercare"}))
    overrides = {sid: {"capacity": 0} for sid in ids[:15]} | {sid: {"capacity": 2} for sid in ids[15:40]}
    one = allocate_caseload(recommender, cases, overrides=overrides, batch=False)
    many = allocate_caseload(recommender, cases, overrides=overrides, batch=True)
    # the same choices; scores agree to float32 rounding (the batch kernel sums in another order)
    assert [(r["case"], r["need"], r["service_id"]) for r in many.rows] == \
        [(r["case"], r["need"], r["service_id"]) for r in one.rows]
    assert [r["score"] for r in many.rows] == pytest.approx([r["score"] for r in one.rows], abs=2e-4)
    assert many.report["candidates"] == one.report["candidates"] > 0
    assert many.report["bound"] == pytest.approx(one.report["bound"], rel=1e-6)
