"""``servicematch allocate``: allocate a caseload from a residents table, under capacity.

    servicematch allocate --models models/ --residents caseload.csv --out alloc.csv --report alloc.json

``caseload.csv`` is a residents table in the data contract (profiles with declared needs; an id the
model knows brings its training profile and history, and the row's non-empty fields are laid over
that profile). ``alloc.csv`` has one row per (resident, declared need): ``resident_id, need,
service_id`` (empty where no eligible service has room) and ``score``; ``alloc.json`` the report of
:mod:`recommender.allocation` (objective, LP bound, gap, need coverage, over capacity, seconds,
independent top-1 ranking's figures, per-group coverage) plus the shadow prices of the services
whose places were binding. Both files hold resident data: they are written atomically, mode 0600.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

import pandas as pd

from recommender import allocation
from recommender.caseload import CANDIDATES, Case, allocate_caseload
from recommender.files import atomic_file
from training.options import add_models_option

#: alloc.csv columns
COLUMNS = ("resident_id", "need", "service_id", "score")


def _present(value) -> bool:
    if value is None or value is pd.NA:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return value != ""


def cases_from_table(residents: pd.DataFrame) -> list[Case]:
    """One case per row: the resident id and the row's non-empty contract fields as the profile."""
    records = residents.to_dict("records")
    cases = []
    for rec in records:
        profile = {k: (bool(v) if k == "disability" else v) for k, v in rec.items()
                   if k != "resident_id" and _present(v)}
        cases.append(Case(resident_id=str(rec["resident_id"]), profile=profile))
    return cases


def allocate_file(models: str | Path, residents_file: str | Path, out: str | Path, report_file: str | Path,
                  **options) -> dict:
    """Load the model and the table, allocate, write both files; return the report."""
    from recommender.engine import Recommender

    from .tables import load_residents

    residents, _extras = load_residents(residents_file)
    rec = Recommender.load(models)
    result = allocate_caseload(rec, cases_from_table(residents), **options)
    report = dict(result.report)
    report["shadow_prices"] = result.shadow_prices
    with atomic_file(out, "w", encoding="utf-8", newline="", chmod=0o600) as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for row in result.rows:
            writer.writerow([row["resident_id"], row["need"], row["service_id"],
                             "" if row["score"] is None else row["score"]])
    with atomic_file(report_file, "w", encoding="utf-8", chmod=0o600) as f:
        json.dump(report, f, indent=1, ensure_ascii=False)
    return report


def summary(report: dict) -> str:
    top1 = report["independent_top1"]
    lines = [
        f"{report['assigned']:,} of {report['pairs']:,} (resident, need) pairs given a service "
        f"(need_coverage {report['need_coverage']}), over capacity {report['over_capacity']}",
        f"objective {report['objective']:,} vs LP bound {report['bound']:,} (gap {report['gap']:.4%}, "
        f"{report['solver']}), {report['seconds']} s ({report['ranking_seconds']} s ranking)",
        f"independent top-1 ranking: {top1['residents_sent_to_full']:,} residents "
        f"({top1['pairs_sent_to_full']:,} pairs) sent to full programmes, need_coverage "
        f"{top1['need_coverage']}; coverage gained {report.get('coverage_gained')}",
    ]
    for name, g in report["groups"].items():
        if "worst" in g:
            lines.append(f"{name}: worst {g['worst']} / best {g['best']} coverage ratio {g['worst_to_best']}")
    return "\n".join(lines)


def _cmd_allocate(args) -> int:
    report = allocate_file(args.models, args.residents, args.out, args.report, candidates=args.candidates,
                           unknown_penalty=args.unknown_penalty, floor=args.floor, min_group=args.min_group,
                           time_limit=args.time_limit, method=args.method)
    print(summary(report))
    print(f"wrote {args.out} and {args.report}")
    return 0


def _fraction(text: str) -> float:
    v = float(text)
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError("must be within 0..1")
    return v


def _positive_int(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return v


def add_command(sub) -> None:
    a = sub.add_parser("allocate", help="allocate a caseload's needs to services under capacity",
                       description="Give each (resident, declared need) of a residents table at most one "
                                   "service, maximising total match score within every service's open "
                                   "places and a coverage floor per district and language group.")
    add_models_option(a, help="models root or version folder")
    a.add_argument("--residents", required=True, type=Path, help="residents table (.csv or .parquet)")
    a.add_argument("--out", required=True, type=Path, help="alloc.csv to write")
    a.add_argument("--report", required=True, type=Path, help="alloc.json to write")
    a.add_argument("--candidates", type=_positive_int, default=CANDIDATES,
                   help=f"candidate services per (resident, need), from the ranking (default {CANDIDATES})")
    a.add_argument("--unknown-penalty", type=float, default=allocation.UNKNOWN_PENALTY,
                   help="score subtracted where eligibility is unknown "
                        f"(default {allocation.UNKNOWN_PENALTY})")
    a.add_argument("--floor", type=_fraction, default=allocation.FLOOR,
                   help="every district's and language group's coverage >= this x the best group's "
                        f"(default {allocation.FLOOR}; 0 = off)")
    a.add_argument("--min-group", type=int, default=allocation.MIN_GROUP,
                   help=f"groups with fewer answerable pairs are not constrained (default {allocation.MIN_GROUP})")
    a.add_argument("--time-limit", type=float, default=30.0, help="solver time limit in seconds (default 30)")
    a.add_argument("--method", choices=("auto", "milp", "round"), default="auto",
                   help="auto (default): LP, rounded and repaired, branch and bound only if that is over "
                        "0.5%% from the bound; milp: always branch and bound; round: never")
    a.set_defaults(func=_cmd_allocate)
