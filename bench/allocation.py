"""Caseload allocation on the 100k generated city, and single-resident serving with live capacity.

    python bench/allocation.py [--residents 5000] [--capacity-scales 1,0.1] [--out bench/out/alloc]

Builds (once, cached under ``--out``) the city of ``servicematch generate --residents 100000
--services 2000 --seed 7`` and a model trained on it with ``servicematch train``. Then:

1. Allocation: ``--residents`` residents of the city (a seeded sample; known ids bring their history
   and profile) allocated at once, through the same code as ``servicematch allocate``, for each
   capacity scale (1 = the catalogue's open places, 40% of services unbounded; 0.1 = every service
   bounded -- the median where none is stated -- at a tenth of its places: scarce, so the coverage
   floor and the solver have work to do). Reported against the targets: 0 over capacity, objective >= 0.99 x
   LP bound, worst district's coverage >= 0.9 x the best's, <= 30 s end to end (ranking + solve);
   and against independent top-1 ranking: residents it would send to full programmes, coverage
   gained.
2. Serving: the work of POST /v1/recommendations (inline walk-in, k=10, explanations) and of the
   portal's GET on a cache miss, in the real app (SQLite state), with live capacity (every referral
   of the allocation recorded, its shadow prices stored) vs without (the app's capacity view
   switched off), alternating call by call; median latency of each and median paired ratio.

Writes ``<out>/allocation_bench.json``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recommender.caseload import allocate_caseload  # noqa: E402
from recommender.engine import Recommender  # noqa: E402
from training.allocate import cases_from_table  # noqa: E402
from training.tables import load_residents  # noqa: E402

PROFILE = {"age": 67, "gender": "female", "district": "d03", "household_size": 1,
           "monthly_income": 1200, "employment_status": "retired", "disability": False,
           "languages": ["en"], "needs": ["food", "housing"], "latitude": 39.29, "longitude": -76.61}


def sm(*args) -> None:
    subprocess.run([sys.executable, "-m", "training.cli", *map(str, args)], check=True, cwd=ROOT)


def prepare(out: Path) -> tuple[Path, Path]:
    city, models = out / "city", out / "models"
    if not (city / "interactions.csv").exists():
        sm("generate", "--out", city, "--residents", 100_000, "--services", 2_000, "--seed", 7, "--quiet")
    if not (models / "CURRENT").exists():
        sm("train", "--data", city, "--models", models, "--quiet")
    return city, models


def allocation_run(rec: Recommender, caseload: pd.DataFrame, scale: float) -> dict:
    cap = rec.catalog.capacity
    overrides = None
    if scale != 1:
        # places are scarce: every service bounded (no stated capacity: the median), times the scale
        median = float(np.nanmedian(cap))
        overrides = {sid: {"capacity": int(np.floor((median if np.isnan(c) else c) * scale))}
                     for sid, c in zip(rec.catalog.ids, cap)}
    t = time.perf_counter()
    result = allocate_caseload(rec, cases_from_table(caseload), overrides=overrides)
    seconds = time.perf_counter() - t
    r = result.report
    district = r["groups"]["district"]
    top1 = r["independent_top1"]
    return {
        "capacity_scale": scale, "residents": r["residents"], "pairs": r["pairs"], "candidates": r["candidates"],
        "solver": r["solver"], "seconds": round(seconds, 1), "ranking_seconds": r["ranking_seconds"],
        "solve_seconds": r["solve_seconds"], "lp_seconds": r["lp_seconds"], "objective": r["objective"], "bound": r["bound"],
        "objective_over_bound": round(r["objective"] / r["bound"], 5) if r["bound"] else None,
        "over_capacity": r["over_capacity"], "need_coverage": r["need_coverage"],
        "floor_met": r["floor_met"],
        "district_worst_to_best": district.get("worst_to_best"), "district_worst": district.get("worst"),
        "language_worst_to_best": r["groups"]["language"].get("worst_to_best"),
        "top1_residents_sent_to_full": top1["residents_sent_to_full"],
        "top1_pairs_sent_to_full": top1["pairs_sent_to_full"], "top1_need_coverage": top1["need_coverage"],
        "top1_district_worst_to_best": top1["groups"]["district"].get("worst_to_best"),
        "coverage_gained": r["coverage_gained"], "shadow_prices": len(result.shadow_prices),
        "_prices": result.shadow_prices, "_rows": result.rows,
    }


def serving(models: Path, alloc: dict, rounds: int, n: int) -> dict:
    """The routes' own work (store reads, live capacity, engine), called in-process: HTTP framing,
    auth and serialisation are the same with and without live capacity, so they are left out (an
    in-process HTTP client's thread hops would swamp the difference)."""
    from api.app import create_app
    from api.routes.recommendations import recommend_for_resident

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "models"
        work.mkdir()
        current = (models / "CURRENT").read_text().strip()
        (work / current).symlink_to((models / current).resolve(), target_is_directory=True)
        (work / "CURRENT").write_text(current + "\n")
        app = create_app(work, cache=False)
        ctx = app.state.ctx
        model = ctx.model
        live_view = ctx.capacity
        # the live state a city would have: the allocation's referrals recorded, its prices kept
        events = [{"event_id": f"b{i}", "resident_id": row["resident_id"], "service_id": row["service_id"],
                   "event": "referred", "timestamp": 1_700_000_000}
                  for i, row in enumerate(alloc["_rows"]) if row["service_id"]]
        for start in range(0, len(events), 1000):
            ctx.store.add_events(events[start:start + 1000])
            ctx.store.record_places(events[start:start + 1000])
        ctx.store.put_shadow_prices(alloc["_prices"])
        taken, prices = ctx.store.capacity_state()
        resident = next(row["resident_id"] for row in alloc["_rows"] if row["resident_id"])
        calls = {
            # what POST /v1/recommendations does for an inline profile
            "inline POST": lambda: model.rec.recommend(profile=PROFILE, k=10,
                                                       **ctx.engine_overrides(model.rec, lenient=True)),
            # what the portal's GET does on a cache miss
            "portal GET": lambda: recommend_for_resident(ctx, model, resident, k=10),
        }
        times: dict = {name: {"with": [], "without": []} for name in calls}
        for call in calls.values():
            for _ in range(50):  # warm up
                call()
        # the two modes alternate call by call (in a seeded random order), so load from other work
        # on the machine falls on both alike
        order = np.random.default_rng(0)
        for name, call in calls.items():
            for _ in range(rounds * n):
                for mode in (("without", "with") if order.random() < 0.5 else ("with", "without")):
                    ctx.capacity = live_view if mode == "with" else None
                    t = time.perf_counter()
                    call()
                    times[name][mode].append((time.perf_counter() - t) * 1000)
        ctx.capacity = live_view
        ctx.store.close()
        out = {"services_with_places_taken": len(taken), "shadow_prices": len(prices), "rounds": rounds,
               "requests_per_round": n}
        for name, t in times.items():
            w, wo = statistics.median(t["with"]), statistics.median(t["without"])
            # paired: the ratio of each call's two timings, then its median
            ratio = statistics.median(a / b for a, b in zip(t["with"], t["without"]))
            out[name] = {"median_ms_without": round(wo, 3), "median_ms_with": round(w, 3),
                         "overhead": round(w / wo - 1, 4), "paired_overhead": round(ratio - 1, 4),
                         "calls": len(t["with"])}
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--residents", type=int, default=5_000)
    ap.add_argument("--capacity-scales", default="1,0.1")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=300, help="requests per round and mode (0: skip the serving figures)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "alloc")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    city, models = prepare(args.out)
    residents, _ = load_residents(city / "residents.csv")
    caseload = residents.sample(n=args.residents, random_state=args.seed).reset_index(drop=True)
    rec = Recommender.load(models)
    result: dict = {"city": "generate --residents 100000 --services 2000 --seed 7", "model": rec.version,
                    "runs": []}
    for scale in (float(s) for s in args.capacity_scales.split(",")):
        run = allocation_run(rec, caseload, scale)
        result["runs"].append(run)
        print(f"capacity x{scale}: {run['pairs']:,} pairs of {run['residents']:,} residents, {run['candidates']:,} "
              f"candidates; {run['solver']}, {run['seconds']} s ({run['ranking_seconds']} s ranking, "
              f"{run['solve_seconds']} s solve, {run['lp_seconds']} s of it to build and solve the LP)\n"
              f"  over capacity {run['over_capacity']}, objective/bound {run['objective_over_bound']}, "
              f"need_coverage {run['need_coverage']}, district worst/best {run['district_worst_to_best']} "
              f"({run['district_worst']}), language worst/best {run['language_worst_to_best']}\n"
              f"  independent top-1: {run['top1_residents_sent_to_full']:,} residents "
              f"({run['top1_pairs_sent_to_full']:,} pairs) sent to full programmes, need_coverage "
              f"{run['top1_need_coverage']}, district worst/best {run['top1_district_worst_to_best']}; "
              f"coverage gained {run['coverage_gained']}", flush=True)
    serve = serving(models, result["runs"][-1], args.rounds, args.requests) if args.requests else {}
    result["serving"] = serve
    for name in serve and ("inline POST", "portal GET"):
        s = serve[name]
        print(f"serving {name}: median {s['median_ms_without']} ms without live capacity, {s['median_ms_with']} ms "
              f"with ({s['overhead']:+.1%}; paired median {s['paired_overhead']:+.1%}; {serve['services_with_places_taken']} services with places taken, "
              f"{serve['shadow_prices']} shadow prices)", flush=True)
    for run in result["runs"]:
        run.pop("_prices")
        run.pop("_rows")
    (args.out / "allocation_bench.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
