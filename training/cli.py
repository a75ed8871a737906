"""The ``servicematch`` command. Each subcommand is a thin shell over a library function."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from api.cli import add_commands as add_api_commands
from training.options import add_models_option


def _cmd_generate(args) -> int:
    if args.catalog:
        from .catalog_city import generate_for_catalog

        counts = generate_for_catalog(args.catalog, args.out, residents=args.residents, seed=args.seed,
                                      interactions_per_resident=args.interactions_per_resident,
                                      fmt=args.format, progress=not args.quiet)
    else:
        from .generate import generate_city

        counts = generate_city(args.out, residents=args.residents, services=args.services, seed=args.seed,
                               interactions_per_resident=args.interactions_per_resident, fmt=args.format,
                               progress=not args.quiet, n_jobs=args.jobs)
    print(json.dumps(counts, indent=1, default=str))
    return 0


def _fmt_metrics(metrics: dict) -> str:
    lines = []
    keys = ("precision@10", "recall@10", "ndcg@10", "map@10", "auc", "coverage@10", "need_coverage@5")
    for group in ("warm", "cold"):
        if group not in metrics or not metrics[group]:
            continue
        n = metrics.get("data", {}).get(f"{group}_residents_evaluated", "?")
        lines.append(f"{group} residents ({n} evaluated)")
        lines.append("  " + f"{'ranker':<12}" + "".join(f"{k:>16}" for k in keys))
        for ranker, m in metrics[group].items():
            lines.append("  " + f"{ranker:<12}" + "".join(
                f"{m[k]:>16.4f}" if isinstance(m.get(k), (int, float)) else f"{'-':>16}" for k in keys))
    if lines:
        from .labels import metrics_legend

        lines.append(metrics_legend())
    return "\n".join(lines)


def _fmt_timing(timing: dict) -> str:
    from .labels import timing_label

    return "timing: " + ", ".join(f"{timing_label(k)} {v:.1f} s" for k, v in timing.items())


def _cmd_train(args) -> int:
    from .pipeline import train

    report = train(args.data, args.models, holdout_file=args.holdout, extra_interactions=args.events or (),
                   cold_residents=args.cold_residents, epochs=args.epochs, no_components=args.components,
                   learning_rate=args.learning_rate, loss=args.loss, alpha=args.alpha, eval_residents=args.eval_residents,
                   seed=args.seed, num_threads=args.threads, force=args.force, quiet=args.quiet)
    print(_fmt_metrics(report.metrics))
    if report.metrics.get("groups"):
        from .equity import format_worst

        print("equity (the model's worst group of each grouping):\n" + format_worst(report.metrics["groups"]))
    print(_fmt_timing(report.metrics["timing"]))
    print(f"model {report.version} written to {report.folder}")
    print(report.reason)
    return 0


def _cmd_report(args) -> int:
    from .report import write_report

    if not Path(args.models).is_dir():
        raise FileNotFoundError(f"--models {args.models}: no such folder")
    print(f"report written to {write_report(args.models, args.out)}")
    return 0


def _cmd_retrain(args) -> int:
    from .retrain import retrain

    result = retrain(args.data, args.models, redis_url=args.redis_url, dry_run=args.dry_run, report_out=args.out,
                     epochs=args.epochs, eval_residents=args.eval_residents, seed=args.seed,
                     num_threads=args.threads, quiet=args.quiet)
    fb, report = result.feedback, result.report
    skipped = "; ".join(f"{n} skipped ({why})" for why, n in fb.skipped.items())
    print(f"feedback from the API: {len(fb.events):,} events, {fb.new_residents:,} new residents, "
          f"{fb.updated_residents:,} updated profiles" + (f"; {skipped}" if skipped else ""))
    print(_fmt_metrics(report.metrics))
    if report.metrics.get("groups"):
        from .equity import format_worst

        print("equity (the model's worst group of each grouping):\n" + format_worst(report.metrics["groups"]))
    print(_fmt_timing(report.metrics["timing"]))
    if result.dry_run:
        verdict = "would be promoted" if report.promoted else "would not be promoted"
        print(f"dry run: the new model {verdict} ({report.reason})")
        print("dry run: nothing was written to the models folder")
    else:
        print(f"model {report.version} written to {report.folder}")
        print(report.reason)
        print(f"report written to {result.report_path}")
    return 0


def _print_result(result, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.to_dict(), indent=1, ensure_ascii=False))
        return
    print(f"model {result.model_version} ({result.mode} resident"
          f"{' ' + result.resident_id if result.resident_id else ''})")
    for s in result.items:
        where = f", {s.distance_km:.1f} km" if s.distance_km is not None else ""
        print(f"{s.rank:>2}. {s.name} [{s.service_id}] score {s.score:.3f}, {s.eligibility}{where}")
        print(f"    {s.explanation}")
        refer = [(label, value) for label, value in (
            ("how to apply", s.how_to_apply), ("referral required", "yes" if s.referral_required else None),
            ("documents", s.documents), ("fees", s.fees), ("hours", s.hours), ("wait", s.wait_time)) if value]
        if refer:
            print("    before you refer: " + "; ".join(f"{k}: {' '.join(str(v).split())}" for k, v in refer))
    for need, ans in result.needs.items():
        if not ans.service_ids:
            print(f"need {need}: not answered ({ans.reason})")


def _cmd_recommend(args) -> int:
    from recommender.engine import Recommender

    profile = None
    if args.profile:
        try:
            profile = json.loads(args.profile)
        except json.JSONDecodeError as e:
            print(f"--profile: not valid JSON ({e})", file=sys.stderr)
            return 2
    if args.resident_id is None and profile is None:
        print("give --resident-id or --profile", file=sys.stderr)
        return 2
    rec = Recommender.load(args.models)
    result = rec.recommend(resident_id=args.resident_id, profile=profile, k=args.k,
                           needs=args.needs.split(";") if args.needs else None)
    _print_result(result, args.json)
    return 0


def _cmd_models(args) -> int:
    from recommender import artifacts

    from .promote import pooled

    root = Path(args.models)
    current = artifacts.current_version(root)
    rows = []
    for folder in sorted(p for p in root.iterdir() if (p / "model.json").exists()) if root.exists() else []:
        try:
            metrics = artifacts.read_json(folder / "metrics.json")
            meta = artifacts.read_json(folder / "model.json")
        except artifacts.ModelFileError as e:
            rows.append(f"  {folder.name}  unreadable: {e}")
            continue
        model_metrics = {g: metrics[g]["model"] for g in ("warm", "cold") if "model" in metrics.get(g, {})}
        score = pooled(model_metrics, "ndcg@10", metrics.get("data"))
        mark = "*" if folder.name == current else " "
        rows.append(f"{mark} {folder.name}  trained {meta.get('trained_at', '?')}  "
                    f"ndcg@10 {score if score is None else round(score, 4)}")
    print("\n".join(rows) if rows else f"no model versions under {root}")
    return 0


def _cmd_compare(args) -> int:
    from .promote import CONFIDENCE, PRIMARY, compare_versions

    c = compare_versions(args.models, args.version_a, args.version_b, args.data, extra_interactions=args.events or (),
                         seed=args.seed, threads=os.cpu_count() or 1)
    print(f"{c.residents} residents with positives newer than both models' training data "
          f"(after {c.since}; {c.excluded_residents} left out: known to one model only)")
    print(f"  {PRIMARY} {args.version_a}: {c.mean_a:.4f}")
    print(f"  {PRIMARY} {args.version_b}: {c.mean_b:.4f}")
    print(f"  difference (b - a): {c.diff:+.4f}, {CONFIDENCE:.0%} interval [{c.low:+.4f}, {c.high:+.4f}] "
          "(paired bootstrap over residents)")
    for group, g in c.per_group.items():
        print(f"  {group}: {g['residents']} residents, {g[PRIMARY + '_a']:.4f} vs {g[PRIMARY + '_b']:.4f}")
    if args.json:
        print(json.dumps(c.to_json()))
    return 0


def _cmd_promote(args) -> int:
    from recommender import artifacts

    artifacts.load_version(Path(args.models) / args.version)  # checks the files before pointing at them
    artifacts.set_current(args.models, args.version)
    print(f"{args.version} is now current")
    return 0


def _cmd_import(args) -> int:
    from .importers import import_directory
    from .importers.report import ImportFailed

    try:
        report = import_directory(args.source, args.out, schema_dir=args.schema_dir, strict=args.strict)
    except ImportFailed as e:
        print(f"cannot import {args.source}; nothing was written:", file=sys.stderr)
        for issue in e.issues:
            print(f"  {issue}", file=sys.stderr)
        return 2
    print(report)
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="servicematch", description=(
        "Match residents' needs to the public and social services they can use.\n"
        "Typical flow: generate (or import-hsds) -> train -> recommend / serve."),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    g = sub.add_parser("generate", help="write a synthetic city (services, residents, interactions)",
                       description="Write a data directory in the servicematch data contract, from a documented "
                                   "generative model; deterministic per seed.")
    g.add_argument("--out", required=True, type=Path, help="directory to write")
    g.add_argument("--residents", type=int, default=100_000, help="number of residents (default 100000)")
    g.add_argument("--services", type=int, default=2_000, help="number of services (default 2000; ignored with --catalog)")
    g.add_argument("--interactions-per-resident", type=float, default=12.0,
                   help="mean choices per resident (default 12)")
    g.add_argument("--catalog", type=Path, help="a data directory whose services.csv (e.g. from import-hsds) "
                                                 "to use instead of generating services")
    g.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    g.add_argument("--format", choices=("csv", "parquet"), default="csv", help="table format (default csv)")
    g.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="threads for the choice model (default: up to 2; output is the same for any number)")
    g.add_argument("--quiet", action="store_true", help="no progress bars")
    g.set_defaults(func=_cmd_generate)

    t = sub.add_parser("train", help="train, evaluate and (if better) promote a model",
                       description="Train the hybrid model on a data directory, evaluate it and two baselines on a "
                                   "holdout, write models/<version>/ and make it current only if it beats the "
                                   "current model, paired and beyond noise, on interactions newer than both "
                                   "models' training data, serving no group worse (or with --force).")
    t.add_argument("--data", required=True, type=Path, help="data directory (services, residents, interactions)")
    add_models_option(t, help="models root (default models/)")
    t.add_argument("--holdout", type=Path, help="an interactions file to evaluate on (default: the most recent 20%% "
                                                 "of interactions by time)")
    t.add_argument("--cold-residents", type=float, default=0.1,
                   help="fraction of residents whose interactions all go to the holdout (default 0.1; 0 = off)")
    t.add_argument("--events", type=Path, action="append",
                   help="extra interactions file, e.g. from export-events (repeatable)")
    t.add_argument("--epochs", type=int, default=20, help="LightFM epochs (default 20)")
    t.add_argument("--components", type=int, default=32, help="embedding size (default 32)")
    t.add_argument("--learning-rate", type=float, default=0.05, help="LightFM learning rate (default 0.05)")
    t.add_argument("--alpha", type=float, default=0.0,
                   help="L2 penalty on resident and service embeddings (default 0; costs fitting time)")
    t.add_argument("--loss", choices=("warp", "bpr", "warp-kos", "logistic"), default="warp", help="default warp")
    t.add_argument("--eval-residents", type=int, default=2_000,
                   help="evaluate at most this many residents per group, a seeded sample (default 2000)")
    t.add_argument("--seed", type=int, default=0, help="random seed for splits and fitting (default 0)")
    t.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="LightFM threads, and validation and evaluation batches ranked at once (default: all cores)")
    t.add_argument("--force", action="store_true", help="make the new model current even if it is not better")
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.set_defaults(func=_cmd_train)

    r = sub.add_parser("recommend", help="ranked, explained suggestions for a resident",
                       description="Suggest services for a known resident (--resident-id) or a walk-in profile "
                                   "(--profile JSON with the contract's resident fields).")
    add_models_option(r, help="models root or version folder")
    r.add_argument("--resident-id", help="a resident in the training data")
    r.add_argument("--profile", help='inline profile, e.g. \'{"age": 67, "district": "D04", "needs": ["eldercare"]}\'')
    r.add_argument("-k", type=int, default=10, help="number of suggestions, 1..50 (default 10)")
    r.add_argument("--needs", help="override declared needs, ';'-separated")
    r.add_argument("--json", action="store_true", help="print the full result as JSON")
    r.set_defaults(func=_cmd_recommend)

    m = sub.add_parser("models", help="list model versions and which is current")
    add_models_option(m)
    m.set_defaults(func=_cmd_models)

    p = sub.add_parser("promote", help="make a model version current (e.g. to roll back)")
    p.add_argument("version")
    add_models_option(p)
    p.set_defaults(func=_cmd_promote)

    rp = sub.add_parser("report", help="write the trainer's report (every version's metrics) as one HTML page",
                        description="One self-contained HTML page: the current model against the baselines, every "
                                    "version's metrics over time, per-group equity, promotion decisions.")
    add_models_option(rp, help="models root (default models/)")
    rp.add_argument("--out", type=Path, default=Path("report.html"), help="file to write (default report.html)")
    rp.set_defaults(func=_cmd_report)

    rt = sub.add_parser("retrain", help="the periodic job: train on the API's recorded feedback, gate, promote, report",
                        description="Take the events and profiles the API recorded (SQLite next to the models, or "
                                    "Redis with REDIS_URL), train on the data folder plus them, promote the new model "
                                    "only if it beats the current one on the same holdout, and write the report.")
    add_models_option(rt, help="models root (default models/)")
    rt.add_argument("--data", required=True, type=Path, help="data directory the models are trained on")
    rt.add_argument("--redis-url", default=os.environ.get("REDIS_URL"),
                    help="the API's Redis (default $REDIS_URL; unset: the SQLite file in the models folder)")
    rt.add_argument("--dry-run", action="store_true", help="train and show the decision; change nothing")
    rt.add_argument("--out", type=Path, help="report file (default <models>/report.html)")
    rt.add_argument("--epochs", type=int, default=20, help="LightFM epochs (default 20)")
    rt.add_argument("--eval-residents", type=int, default=2_000, help="residents evaluated per group (default 2000)")
    rt.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    rt.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="LightFM threads, and validation and evaluation batches ranked at once (default: all cores)")
    rt.add_argument("--quiet", action="store_true", help="no progress bars")
    rt.set_defaults(func=_cmd_retrain)

    c = sub.add_parser("compare", help="score two model versions on data neither was trained on",
                       description="Score versions A and B on the interactions of --data newer than both models' "
                                   "training data, on the same residents, with the paired difference and its "
                                   "bootstrap confidence interval.")
    c.add_argument("version_a")
    c.add_argument("version_b")
    add_models_option(c)
    c.add_argument("--data", required=True, type=Path, help="data directory holding the newer interactions")
    c.add_argument("--events", type=Path, action="append", help="extra interactions file (repeatable)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--json", action="store_true", help="also print the comparison as JSON")
    c.set_defaults(func=_cmd_compare)

    i = sub.add_parser("import-hsds", help="import a service directory (HSDS 3.0, HSDS 1.x, Ohana CSV)",
                       description="Turn a published service directory into the services table of the data "
                                   "contract plus taxonomy.csv, and report what was kept, dropped and why.")
    i.add_argument("source", type=Path, help="directory holding the published files")
    i.add_argument("--out", required=True, type=Path, help="data directory to write")
    i.add_argument("--schema-dir", type=Path, help="HSDS 3.0 JSON Schemas to validate against "
                                                   "(default: ../shared/data/hsds3-schema when present)")
    i.add_argument("--strict", action="store_true", help="fail (writing nothing) on any schema violation")
    i.set_defaults(func=_cmd_import)

    from .allocate import add_command as add_allocate  # the command's code lives in training/allocate.py

    add_allocate(sub)
    add_api_commands(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    from recommender.artifacts import ModelFileError

    from .tables import DataError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except DataError as e:
        print(f"invalid data:\n{e}", file=sys.stderr)
        return 2
    except (ModelFileError, ValueError, KeyError, FileNotFoundError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
