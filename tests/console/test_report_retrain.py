"""``servicematch report`` and ``servicematch retrain`` as a trainer runs them, on real model folders
and a real state store (the SQLite file next to the models, and a real redis-server)."""
from __future__ import annotations

import json
import re
import shutil
import stat

import pytest

from recommender import artifacts
from recommender.engine import Recommender
from training.cli import main

from .conftest import link_models

NEW_RESIDENT = "API-0001"


def test_report_is_one_self_contained_page(trained_models, tmp_path, capsys):
    models = link_models(trained_models, tmp_path / "models")
    current = artifacts.current_version(models)
    # A second version whose metrics.json has per-group figures (as the equity work writes them).
    second = models / "29990101T000000Z-groups"
    shutil.copytree(models / current, second)
    metrics = json.loads((second / "metrics.json").read_text())
    metrics["groups"] = {"age band": {"under 25": {"n": 40, "ndcg@10": 0.31}, "65 and over": {"n": 55, "ndcg@10": 0.44}}}
    metrics["promotion"] = {"current_before": current, "promoted": False, "current_rescored": None,
                            "reason": "not promoted: ndcg@10 0.1 does not beat current"}
    (second / "metrics.json").write_text(json.dumps(metrics))
    (second / "model.json").write_text(json.dumps(dict(json.loads((second / "model.json").read_text()),
                                                       trained_at="2999-01-01T00:00:00+00:00")))
    artifacts.set_current(models, second.name)

    out = tmp_path / "report.html"
    assert main(["report", "--models", str(models), "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    # Self-contained: no script, and no URL but the SVG namespace (a name, never fetched).
    assert "<script" not in page
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) <= {"http://www.w3.org/2000/svg"}
    assert page.count("<svg") >= 6
    for text in (current, second.name, "popularity", "need_match", "Promotion decisions",
                 "not promoted: ndcg@10 0.1 does not beat current", "65 and over", "ndcg@10 by age band"):
        assert text in page, text
    # Users read phase names, not the code's keys.
    assert "fit_lightfm_fit" not in page and "fitting the collaborative model" in page


def test_metrics_table_has_a_legend_and_no_internal_timing_names(city_dir, trained_models, tmp_path, capsys):
    from training.cli import _fmt_metrics, _fmt_timing

    metrics = json.loads((trained_models / artifacts.current_version(trained_models) / "metrics.json").read_text())
    table = _fmt_metrics(metrics)
    assert "legend:" in table and "need_coverage@5" in table.split("legend:")[1]
    timing = _fmt_timing(metrics["timing"])
    assert "fit_" not in timing and "fitting the collaborative model" in timing


def _record(store, city_dir):
    """What the API would have recorded: a new resident's profile and events, an update of a known
    resident, and two events that cannot be used."""
    import pandas as pd

    services = pd.read_csv(city_dir / "services.csv", dtype=str)["service_id"].tolist()
    store.put_profile(NEW_RESIDENT, {"age": 41, "district": "d03", "languages": ["en", "zh"],
                                     "disability": False, "needs": ["food"], "not_a_column": "x"})
    store.put_profile("R000007", {"age": 33, "district": "d01"})
    store.add_events([
        {"event_id": "e1", "resident_id": NEW_RESIDENT, "service_id": services[0], "event": "referred", "timestamp": 1.7e9},
        {"event_id": "e2", "resident_id": NEW_RESIDENT, "service_id": services[1], "event": "enrolled", "timestamp": 1.7e9 + 60},
        {"event_id": "e3", "resident_id": "R000007", "service_id": services[2], "event": "declined", "timestamp": 1.7e9},
        {"event_id": "e4", "resident_id": "R000011", "service_id": "NO-SUCH-SERVICE", "event": "viewed", "timestamp": 1.7e9},
        {"event_id": "e5", "resident_id": "GHOST", "service_id": services[3], "event": "viewed", "timestamp": 1.7e9},
    ])


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_retrain_takes_the_api_feedback_gates_and_reports(backend, city_dir, trained_models, tmp_path, capsys,
                                                          request):
    from api.state import open_store

    models = link_models(trained_models, tmp_path / "models")
    before = artifacts.current_version(models)
    redis_url = request.getfixturevalue("redis_url") if backend == "redis" else None
    store = open_store(models, redis_url=redis_url)
    try:
        _record(store, city_dir)
    finally:
        store.close()
    args = ["retrain", "--models", str(models), "--data", str(city_dir), "--epochs", "3",
            "--eval-residents", "200", "--quiet"] + (["--redis-url", redis_url] if redis_url else [])

    assert main([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "4 events, 1 new residents, 1 updated profiles" in out and "1 skipped (unknown service)" in out
    assert "dry run: the new model would" in out
    assert sorted(p.name for p in models.iterdir() if not p.name.startswith("state.")) == sorted(
        [before, "CURRENT"]), "a dry run wrote to the models folder"
    assert artifacts.current_version(models) == before

    assert main(args) == 0
    out = capsys.readouterr().out
    new = next(p for p in models.iterdir() if (p / "model.json").exists() and p.name != before)
    metrics = json.loads((new / "metrics.json").read_text())
    base = json.loads((models / before / "metrics.json").read_text())
    assert metrics["data"]["interactions"] == base["data"]["interactions"] + 4
    assert metrics["data"]["residents"] == base["data"]["residents"] + 2  # the new profile, and GHOST without one
    rec = Recommender.load(new)
    assert rec.knows(NEW_RESIDENT), "a resident recorded through the API did not reach training"
    assert rec.knows("GHOST"), "feedback of a resident without a profile did not reach training"
    old_profile, new_profile = Recommender.load(models / before).resident_profile("R000007"), rec.resident_profile("R000007")
    assert new_profile["age"] == 33, "the newer profile did not replace the old one"
    assert new_profile.get("gender") == old_profile.get("gender"), "fields the API did not set were lost"
    promoted = metrics["promotion"]["promoted"]
    assert artifacts.current_version(models) == (new.name if promoted else before)
    assert metrics["promotion"]["reason"] in out
    report = models / "report.html"
    assert report.exists() and new.name in report.read_text(encoding="utf-8")
    leftovers = [p.name for p in models.iterdir() if p.name.startswith(".retrain-")]
    assert leftovers == [], "the feedback files (resident data) were left behind"
    assert not stat.S_IMODE(new.stat().st_mode) & 0o007


def test_an_odd_or_broken_version_folder_does_not_break_the_report(trained_models, tmp_path):
    from training.report import render_report

    models = link_models(trained_models, tmp_path / "models")
    current = artifacts.current_version(models)
    odd = models / "20000101T000000Z-odd"
    shutil.copytree(models / current, odd)
    (odd / "metrics.json").write_text(json.dumps({"warm": [], "cold": {"model": "x", "popularity": {"ndcg@10": "?"}},
                                                  "data": {"warm_residents_evaluated": "many"}, "promotion": 3}))
    broken = models / "20000102T000000Z-broken"
    shutil.copytree(models / current, broken)
    (broken / "metrics.json").write_text("{not json")
    page = render_report(models)
    assert odd.name in page and broken.name in page and "unreadable" in page and current in page


def test_report_shows_the_equity_audit_by_group(trained_models, tmp_path):
    """The layout training.equity writes: population -> grouping -> groups with n and per-ranker figures."""
    from training.report import render_report

    models = link_models(trained_models, tmp_path / "models")
    current = artifacts.current_version(models)
    own = models / "29990101T000000Z-equity"
    shutil.copytree(models / current, own)
    metrics = json.loads((own / "metrics.json").read_text())

    def entry(n, ndcg):
        return {"n": n, "model": {"ndcg@10": ndcg, "need_coverage@5": 0.9, "eligible_share": 1.0, "n_with_needs": n},
                "popularity": {"ndcg@10": 0.2, "need_coverage@5": 0.5, "eligible_share": 1.0, "n_with_needs": n}}

    metrics["groups"] = {"min_group": 30, "cold": {"district": {
        "groups": {"d01": entry(80, 0.41), "d02": entry(12, 0.9), "d03": entry(95, 0.55)},
        "worst_to_best": {"model": {"ndcg@10": 0.7455}}, "worst": {"model": {"ndcg@10": "d01"}}}}}
    (own / "metrics.json").write_text(json.dumps(metrics))
    artifacts.set_current(models, own.name)
    page = render_report(models)
    equity = page[page.index('id="equity"'):page.index('id="promotions"')]
    assert "cold residents by district" in equity and "worst d01 at 0.75 of the best" in equity
    assert "d02 (small)" in equity and "0.4100" in equity and "popularity ndcg@10" in equity
    plot = equity[equity.index("<svg"):equity.index("</svg>")]
    assert "d01" in plot and "d03" in plot and "d02" not in plot, "a small group was plotted"
