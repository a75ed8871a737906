"""The robustness suite of issue 8: synthetic cities with different stories and MovieLens 100K in
three protocols, each scored by the project's pipeline and by plain LightFM on the same split.

    python bench/quality.py [--datasets ...] [--seeds 0 1 2] [--ml-seeds 0 1 2 3 4] [--aside]
                            [--quick] [--threads 2] [--eval-residents 2000]

Datasets (``--datasets``; default all but the kept-aside city):

* cities from ``training/scenarios`` (generated once per size and story version, cached under
  ``bench/out/quality/data/``): ``life_events``, ``deep_funnel``, ``long_tail`` and, only with
  ``--aside`` (or by name), ``aside``. Each is trained with ``training.pipeline.train(data_dir,
  models_dir, seed=seed, quiet=True, force=True, eval_residents=..., num_threads=...)``: the
  pipeline's defaults (last 20% of the time span held out, 10% of residents cold);
* MovieLens 100K (``bench/ml_protocols.py``): ``ml_ua``, ``ml_cold_users``, ``ml_cold_movies``,
  trained with the holdout file and ``cold_residents=0`` (the cold sets are in the files).

Rankers: ``model``, ``need_match`` and ``popularity`` are the pipeline's own (its report's
``metrics[group][ranker]``); ``plain_lightfm`` is ``bench/plain_lightfm.py`` (its docstring says
exactly how it is fitted and scored) on the same split. Every figure is the mean over seeds; the
JSON (``bench/out/quality/quality.json``) has each seed. ``warm`` = residents with training
interactions, ``cold`` = residents without (held-out residents and newcomers of the holdout period).

Targets checked: every city — model ndcg@10 >= 1.1 x max(need_match, popularity), warm and cold
apart, and need_coverage@5 >= 0.95 in both groups; ``ml_ua`` — precision@10 > 0.254 and AUC >= 0.939;
``ml_cold_users`` — cold precision@10 >= 1.05 x popularity; ``ml_cold_movies`` — AUC >= plain
LightFM with genre features (same run); ``long_tail`` — pipeline.train wall time <= 5 x a plain
LightFM fit (same epochs and threads) plus its evaluation of the same residents.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ml_protocols  # noqa: E402
import plain_lightfm  # noqa: E402
from training import scenarios  # noqa: E402
from training.pipeline import load_taxonomy, train  # noqa: E402
from training.split import split_interactions  # noqa: E402
from training.tables import load_data_dir, load_interactions  # noqa: E402

OUT = ROOT / "bench" / "out" / "quality"
CITIES = ("life_events", "deep_funnel", "long_tail")
ML = {"ml_ua": "ua", "ml_cold_users": "cold_users", "ml_cold_movies": "cold_movies"}
RANKERS = ("model", "plain_lightfm", "need_match", "popularity")
METRICS = ("ndcg@10", "precision@10", "auc", "need_coverage@5")
#: (residents, services) of each city under --quick
QUICK = {"life_events": (6_000, 300), "deep_funnel": (4_000, 200), "long_tail": (3_000, 5_000), "aside": (1_500, 60)}
TIMED = "long_tail"


def story_version(name: str) -> str:
    """Hash of a scenario's code and story file: a changed story is generated again, not read from cache."""
    folder = Path(scenarios.__file__).parent
    text = "".join((folder / f).read_text() for f in (f"{name}.py", "draw.py", "output.py", f"data/{name}.json"))
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def city_dir(name: str, quick: bool, data_seed: int) -> Path:
    n_res, n_svc = QUICK[name] if quick else scenarios.SCENARIOS[name]
    d = OUT / "data" / f"{name}-{n_res}x{n_svc}-seed{data_seed}-{story_version(name)}"
    if not (d / "scenario.json").exists():
        t = time.perf_counter()
        scenarios.generate(name, d, residents=n_res, services=n_svc, seed=data_seed)
        print(f"generated {name} ({n_res:,} residents, {n_svc:,} services) in {time.perf_counter() - t:.1f}s",
              flush=True)
    return d


def _parents(data_dir: Path) -> dict[str, str]:
    return {k: v for k, v in load_taxonomy(data_dir).parents.items() if v}


def run_one(name: str, data_dir: Path, seed: int, args) -> dict:
    """The pipeline's report and plain LightFM on the same split, for one dataset and seed."""
    ml = name in ML
    kw = dict(holdout_file=data_dir / "holdout.csv", cold_residents=0.0) if ml else {}
    with tempfile.TemporaryDirectory() as models:
        t = time.perf_counter()
        report = train(data_dir, models, seed=seed, quiet=True, force=True, eval_residents=args.eval_residents,
                       num_threads=args.threads, **kw)
        wall = time.perf_counter() - t
    data = load_data_dir(data_dir)
    if ml:
        tr = data.interactions
        ho = load_interactions(data_dir / "holdout.csv", services=data.services, residents=data.residents)
    else:
        split = split_interactions(data.interactions, fraction=0.2, cold_fraction=0.1, seed=seed)
        tr, ho = split.train, split.holdout
    plain = plain_lightfm.run(data.residents, data.services, tr, ho, parents=_parents(data_dir), seed=seed,
                              threads=args.threads, max_residents=args.eval_residents,
                              items_from_features_only=(name == "ml_cold_movies"))
    m = report.metrics
    out = {"seed": seed, "groups": {}, "pipeline_seconds": round(wall, 2), "pipeline_timing": m.get("timing", {}),
           "plain_timing": {k: round(v, 2) for k, v in plain["timing"].items()},
           "evaluated": {g: m.get("data", {}).get(f"{g}_residents_evaluated") for g in ("warm", "cold")},
           "plain_evaluated": plain["residents_evaluated"]}
    for g in ("warm", "cold"):
        rows = {r: {k: v for k, v in (m.get(g) or {}).get(r, {}).items() if k in METRICS}
                for r in ("model", "need_match", "popularity")}
        rows["plain_lightfm"] = plain.get(g, {})
        out["groups"][g] = rows
    return out


def mean_over_seeds(runs: list[dict]) -> dict:
    out: dict = {}
    for g in ("warm", "cold"):
        out[g] = {}
        for r in RANKERS:
            vals = {k: [run["groups"][g][r][k] for run in runs if k in run["groups"][g].get(r, {})] for k in METRICS}
            out[g][r] = {k: round(float(np.mean(v)), 4) for k, v in vals.items() if v}
    return out


def _ratio(mean: dict, g: str, metric: str = "ndcg@10", against=("need_match", "popularity")) -> float | None:
    model = mean[g]["model"].get(metric)
    base = [mean[g][b].get(metric) for b in against if mean[g][b].get(metric) is not None]
    if model is None or not base or max(base) <= 0:
        return None
    return model / max(base)


def targets(name: str, mean: dict, runs: list[dict]) -> list[tuple[str, bool]]:
    """(what was checked, passed) for a dataset."""
    checks = []
    if name in ML:
        if name == "ml_ua":
            p, a = mean["warm"]["model"].get("precision@10"), mean["warm"]["model"].get("auc")
            checks.append((f"p@10 {_fmt(p)} > 0.254", p is not None and p > 0.254))
            checks.append((f"AUC {_fmt(a)} >= 0.939", a is not None and a >= 0.939))
        elif name == "ml_cold_users":
            r = _ratio(mean, "cold", "precision@10", ("popularity",))
            checks.append((f"cold p@10 {_fmt(r, 2)}x popularity >= 1.05", r is not None and r >= 1.05))
        else:
            a, b = mean["warm"]["model"].get("auc"), mean["warm"]["plain_lightfm"].get("auc")
            checks.append((f"AUC {_fmt(a)} >= plain {_fmt(b)}", a is not None and b is not None and a >= b))
        return checks
    for g in ("warm", "cold"):
        r = _ratio(mean, g)
        checks.append((f"{g} ndcg {r:.2f}x >= 1.1" if r is not None else f"{g}: no residents", r is not None and r >= 1.1))
    cov = [mean[g]["model"].get("need_coverage@5") for g in ("warm", "cold")]
    cov = [c for c in cov if c is not None]
    checks.append((f"need_cov@5 {min(cov):.3f} >= 0.95" if cov else "need_cov@5: none", bool(cov) and min(cov) >= 0.95))
    if name == TIMED:
        r = timing_ratio(runs)
        checks.append((f"time {r:.1f}x plain <= 5", r <= 5))
    return checks


def timing_ratio(runs: list[dict]) -> float:
    """pipeline.train wall time / (plain warm fit + plain evaluation of warm and cold), medians over seeds."""
    pipe = np.median([r["pipeline_seconds"] for r in runs])
    plain = np.median([sum(r["plain_timing"].get(k, 0.0) for k in ("warm_fit", "warm_evaluate", "cold_evaluate"))
                       for r in runs])
    return float(pipe / plain)


def _fmt(x, digits: int = 4) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def table(results: dict) -> str:
    head = ["dataset", "ranker"] + [f"{g} {k}" for g in ("warm", "cold") for k in ("ndcg@10", "p@10", "AUC")] + [
        "need_cov@5 w/c", "model / max(nm, pop) w/c", "targets"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, res in results.items():
        mean = res["mean"]
        for r in RANKERS:
            cells = [name, r]
            for g in ("warm", "cold"):
                m = mean[g].get(r, {})
                cells += [_fmt(m.get("ndcg@10")), _fmt(m.get("precision@10")), _fmt(m.get("auc"))]
            cov = [mean[g].get(r, {}).get("need_coverage@5") for g in ("warm", "cold")]
            cells.append("-" if all(c is None for c in cov) else " / ".join("-" if c is None else f"{c:.3f}" for c in cov))
            if r == "model":
                ratios = [_ratio(mean, g) for g in ("warm", "cold")]
                cells.append(" / ".join("-" if x is None else f"{x:.2f}" for x in ratios))
                cells.append("; ".join(("PASS " if ok else "FAIL ") + what for what, ok in res["targets"]))
            else:
                cells += ["", ""]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def timing_table(results: dict) -> str:
    lines = ["| dataset | pipeline.train s | plain warm fit s | plain evaluation s | ratio |", "|---|---|---|---|---|"]
    for name, res in results.items():
        runs = res["runs"]
        pipe = np.median([r["pipeline_seconds"] for r in runs])
        fit_s = np.median([r["plain_timing"].get("warm_fit", 0.0) for r in runs])
        ev = np.median([r["plain_timing"].get("warm_evaluate", 0.0) + r["plain_timing"].get("cold_evaluate", 0.0)
                        for r in runs])
        lines.append(f"| {name} | {pipe:.1f} | {fit_s:.1f} | {ev:.1f} | {timing_ratio(runs):.1f}x |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", nargs="+", choices=list(scenarios.SCENARIOS) + list(ML),
                    help="default: every city but 'aside', and the three MovieLens protocols")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds of the cities")
    ap.add_argument("--ml-seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="training seeds of MovieLens")
    ap.add_argument("--data-seed", type=int, default=0, help="generation seed of the cities")
    ap.add_argument("--aside", action="store_true", help="also run the kept-aside city")
    ap.add_argument("--quick", action="store_true", help="small cities and one seed: a smoke run")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-residents", type=int, default=2_000)
    ap.add_argument("--ml", type=Path, default=ROOT / "bench" / "out" / "ml-100k", help="MovieLens 100K copy")
    ap.add_argument("--out", type=Path, default=OUT / "quality.json")
    args = ap.parse_args(argv)
    names = args.datasets or [*CITIES, *ML]
    if args.aside and "aside" not in names:
        names = [*names, "aside"]
    if args.quick:
        args.seeds, args.ml_seeds = args.seeds[:1], args.ml_seeds[:1]
    t0 = time.perf_counter()
    ml_dirs = ml_protocols.prepare(args.ml, OUT / "ml100k") if any(n in ML for n in names) else {}
    results = {}
    for name in names:
        data_dir = ml_dirs[ML[name]] if name in ML else city_dir(name, args.quick, args.data_seed)
        runs = []
        for seed in (args.ml_seeds if name in ML else args.seeds):
            runs.append(run_one(name, data_dir, seed, args))
            g = runs[-1]["groups"]
            print(f"{name} seed {seed}: model ndcg@10 warm {_fmt(g['warm']['model'].get('ndcg@10'))} "
                  f"cold {_fmt(g['cold']['model'].get('ndcg@10'))}; pipeline {runs[-1]['pipeline_seconds']:.1f}s",
                  flush=True)
        mean = mean_over_seeds(runs)
        results[name] = {"data_dir": str(data_dir), "mean": mean, "runs": runs}
        results[name]["targets"] = targets(name, mean, runs)
    text = table(results)
    print("\n" + text + "\n\n" + timing_table(results))
    print(f"\ntotal {time.perf_counter() - t0:.0f}s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "results": {n: {**r, "targets": [{"check": w, "passed": ok} for w, ok in r["targets"]]} for n, r in results.items()},
        "table": text, "seconds": round(time.perf_counter() - t0, 1)}, indent=1, default=float) + "\n")
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
