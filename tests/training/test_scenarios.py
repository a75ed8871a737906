"""The robustness cities (training/scenarios): valid tables, deterministic, and stories that differ."""
from __future__ import annotations

import filecmp
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from recommender.schema import POSITIVE_EVENTS
from training import scenarios
from training.pipeline import load_taxonomy
from training.tables import load_data_dir

TINY = {"life_events": (1_500, 120), "deep_funnel": (900, 90), "long_tail": (800, 2_500), "aside": (500, 40)}
DAY = 86_400


@pytest.fixture(scope="module")
def cities(tmp_path_factory):
    root = tmp_path_factory.mktemp("cities")
    out = {}
    for name, (n_res, n_svc) in TINY.items():
        scenarios.generate(name, root / name, residents=n_res, services=n_svc, seed=3)
        out[name] = load_data_dir(root / name)
        out[name].folder = root / name
    return out


@pytest.mark.parametrize("name", list(TINY))
def test_valid_tables_that_span_months(cities, name):
    data = cities[name]
    n_res, n_svc = TINY[name]
    assert (len(data.residents), len(data.services)) == (n_res, n_svc)
    assert len(data.interactions) > n_res  # loaded and validated: ids known, events and times parsed
    ts = data.interactions["timestamp"]
    assert ts.max() - ts.min() > 150 * DAY
    # declared needs are codes services carry (the need can be matched), in each story's own vocabulary
    tax = load_taxonomy(data.folder)
    cats = {c for cell in data.services["categories"] for c in cell.split(";") if c}
    tax.add_codes(cats)
    needs = {n for cell in data.residents["needs"] for n in cell.split(";") if n}
    assert needs
    for need in needs:
        assert any(need in tax.ancestors(c) for c in cats), need


@pytest.mark.parametrize("name", list(TINY))
def test_deterministic_per_seed(cities, tmp_path, name):
    n_res, n_svc = TINY[name]
    for folder, seed in (("same", 3), ("other", 4)):
        scenarios.generate(name, tmp_path / folder, residents=n_res, services=n_svc, seed=seed)
    files = ["services.csv", "residents.csv", "interactions.csv"]
    match, _, _ = filecmp.cmpfiles(cities[name].folder, tmp_path / "same", files, shallow=False)
    assert match == files
    _, differ, _ = filecmp.cmpfiles(cities[name].folder, tmp_path / "other", files, shallow=False)
    assert "interactions.csv" in differ


def test_need_vocabularies_differ(cities):
    vocab = {name: {n for cell in d.residents["needs"] for n in cell.split(";") if n} for name, d in cities.items()}
    names = list(vocab)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not vocab[a] & vocab[b], (a, b)


def _share(data, event: str) -> float:
    return float((data.interactions["event"] == event).mean())


def test_life_events_mostly_views_and_needs_recent(cities):
    le, df = cities["life_events"], cities["deep_funnel"]
    assert _share(le, "viewed") > 0.7
    assert (le.interactions["event"].isin(POSITIVE_EVENTS)).mean() < 0.3
    assert (le.folder / "taxonomy.csv").exists() and le.services["categories"].str.contains("/").all()
    # needs arise from events during the year: many residents have none at the end of it
    assert 0.1 < (le.residents["needs"] == "").mean() < 0.9
    # deeper funnels in deep_funnel: more events per active resident and every stage reached
    per = lambda d: len(d.interactions) / d.interactions["resident_id"].nunique()  # noqa: E731
    assert per(df) > 1.5 * per(le)
    assert set(df.interactions["event"]) == {"viewed", "referred", "applied", "enrolled", "completed", "declined"}


def test_deep_funnel_eligibility_is_strict_and_respected(cities):
    df = cities["deep_funnel"]
    svc = df.services.set_index("service_id")
    assert (svc["districts"] != "").mean() > 0.3 and svc["max_income"].notna().mean() > 0.1
    assert (svc["capacity"] == 0).any()
    # every referral or later stage happens at a service the resident may use (area, age, income)
    pos = df.interactions[df.interactions["event"].isin(POSITIVE_EVENTS)]
    j = pos.merge(df.residents, on="resident_id").merge(svc, left_on="service_id", right_index=True,
                                                        suffixes=("", "_s"))
    in_area = [a == "" or d in a.split(";") for a, d in zip(j["districts"], j["district"])]
    assert all(in_area)
    assert not (j["min_age"] > j["age"]).any() and not (j["max_income"] < j["monthly_income"]).any()
    tax = pd.read_csv(df.folder / "taxonomy.csv", dtype=str, keep_default_na=False)
    assert (tax["parent"] != "").sum() > 10 and not df.services["categories"].str.contains("/").any()


def test_long_tail_is_long_and_has_cold_services(cities):
    lt = cities["long_tail"]
    inter = lt.interactions
    uses = inter.groupby("service_id")["resident_id"].nunique()
    assert uses.median() <= 2 and (uses <= 2).mean() > 0.6
    assert uses.max() >= 5 * uses.median()  # a head exists
    assert lt.services["categories"].str.count(";").mean() >= 0.8  # a few tags each
    # services first used in the last 20% of the span: many of the holdout's services are new
    lo, hi = inter["timestamp"].min(), inter["timestamp"].max()
    late = inter["timestamp"] >= lo + 0.8 * (hi - lo)
    first = inter.groupby("service_id")["timestamp"].min()
    new = set(first[first >= lo + 0.8 * (hi - lo)].index)
    late_services = set(inter.loc[late & inter["event"].isin(POSITIVE_EVENTS), "service_id"])
    assert len(new & late_services) / len(late_services) > 0.3


def test_aside_is_multilingual_near_and_language_bound(cities):
    a = cities["aside"]
    res, svc = a.residents.set_index("resident_id"), a.services.set_index("service_id")
    assert res["latitude"].notna().all() and svc["latitude"].notna().all()
    langs = res["languages"].str.split(";")
    assert (langs.map(lambda x: x == ["zh"])).mean() > 0.03 and (langs.map(lambda x: x == ["es"])).mean() > 0.03
    assert svc["languages"].isin(["zh", "es"]).any()
    j = (a.interactions.merge(res[["languages"]], left_on="resident_id", right_index=True)
         .merge(svc[["languages"]], left_on="service_id", right_index=True, suffixes=("", "_s")))
    assert all(s == "" or set(s.split(";")) & set(r.split(";")) for r, s in zip(j["languages"], j["languages_s"]))
    # distance matters: residents use services much nearer than a random service of the town
    km = np.hypot(j.join(res[["latitude"]], on="resident_id")["latitude"].to_numpy()
                  - svc.loc[j["service_id"], "latitude"].to_numpy(), 0) * 111
    random_km = np.abs(res["latitude"].to_numpy()[:, None] - svc["latitude"].to_numpy()[None, :]).mean() * 111
    assert np.median(km) < 0.6 * random_km


def test_command_line_writes_a_city(tmp_path):
    out = tmp_path / "town"
    run = subprocess.run([sys.executable, "-m", "training.scenarios", "aside", "--out", str(out),
                          "--residents", "200", "--services", "20", "--seed", "1"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["residents"] == 200
    assert load_data_dir(out).services.shape[0] == 20
    bad = subprocess.run([sys.executable, "-m", "training.scenarios", "nowhere", "--out", str(out)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "invalid choice" in bad.stderr
