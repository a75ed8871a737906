"""MovieLens 100K as a servicematch data directory, trained and scored the way the reference was.

    python bench/movielens.py [--ml DIR] [--out bench/out/movielens] [--seeds 0 1 2 3 4]

Users become residents (age, gender, occupation as an extra column), movies become services (genres
as categories), every rating an ``enrolled`` interaction (all ratings positive, as in the reference
figures of ../shared/data/README.md). Two protocols, each the mean over ``--seeds``:

Training uses the defaults but ``--alpha 1e-4`` (a small L2 penalty that measured better on MovieLens).

* warm: ``--holdout ua.test``, no cold residents: precision@10 and AUC against 0.254 / 0.939;
* cold: ``--holdout ua.test --cold-residents 0.2``: cold precision@10 against the popularity
  baseline on the same split (the reference: plain LightFM from features reaches 0.514 vs 0.537).

MovieLens is fetched with ../shared/data/get-movielens-100k when ``--ml`` has no copy (research use
only: it is never written into the repository; bench/out/ is git-ignored).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.pipeline import train  # noqa: E402
from training.tables import write_table  # noqa: E402


def fetch(ml: Path) -> Path:
    if not (ml / "u.data").exists():
        script = ROOT / ".." / "shared" / "data" / "get-movielens-100k"
        subprocess.run([sys.executable, str(script), str(ml)], check=True)
    return ml


def convert(ml: Path, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    users = pd.read_csv(ml / "u.user", sep="|", header=None, names=["u", "age", "gender", "occupation", "zip"],
                        dtype=str)
    write_table(pd.DataFrame({
        "resident_id": "u" + users["u"], "age": users["age"],
        "gender": users["gender"].map({"M": "male", "F": "female"}), "occupation": users["occupation"],
    }), out / "residents.csv")
    items = pd.read_csv(ml / "u.item", sep="\t", header=None, names=["i", "title", "year", "genres"], dtype=str,
                        keep_default_na=False, quoting=3)
    genres = items["genres"].str.lower().str.replace("'", "", regex=False).str.replace(" ", "_", regex=False)
    write_table(pd.DataFrame({
        "service_id": "m" + items["i"], "name": items["title"],
        "description": items["title"] + " (" + items["year"] + ")",
        "categories": genres.str.replace("|", ";", regex=False),
    }), out / "services.csv")

    def ratings(name: str) -> pd.DataFrame:
        r = pd.read_csv(ml / name, sep="\t", header=None, names=["u", "i", "rating", "ts"], dtype=str)
        return pd.DataFrame({"resident_id": "u" + r["u"], "service_id": "m" + r["i"], "event": "enrolled",
                             "timestamp": r["ts"], "weight": 1.0})

    write_table(ratings("ua.base"), out / "interactions.csv")
    write_table(ratings("ua.test"), out / "holdout.csv")
    return out


def run(data: Path, cold: float, seed: int, epochs: int) -> dict:
    with tempfile.TemporaryDirectory() as models:
        report = train(data, models, holdout_file=data / "holdout.csv", cold_residents=cold, epochs=epochs, alpha=1e-4,
                       seed=seed, quiet=True)
    return report.metrics


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ml", type=Path, default=ROOT / "bench" / "out" / "ml-100k")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "movielens")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--epochs", type=int, default=20)
    args = ap.parse_args()
    data = convert(fetch(args.ml), args.out)
    rows = []
    for label, cold in (("warm", 0.0), ("cold", 0.2)):
        for seed in args.seeds:
            m = run(data, cold, seed, args.epochs)
            g = m[label]
            rows.append({"protocol": label, "seed": seed, "model_p@10": g["model"]["precision@10"],
                         "model_auc": g["model"].get("auc"), "popularity_p@10": g["popularity"]["precision@10"],
                         "residents": m["data"][f"{label}_residents_evaluated"],
                         "train_s": m["timing"]["total"]})
            print(json.dumps(rows[-1]), flush=True)
    df = pd.DataFrame(rows)
    summary = df.groupby("protocol")[["model_p@10", "model_auc", "popularity_p@10", "train_s"]].mean().round(4)
    print("\nmean over seeds", args.seeds)
    print(summary.to_string())
    warm, cold = summary.loc["warm"], summary.loc["cold"]
    print(f"\nwarm precision@10 {warm['model_p@10']:.4f} (target >= 0.254), AUC {warm['model_auc']:.4f} (target >= 0.939)")
    print(f"cold precision@10 {cold['model_p@10']:.4f} vs popularity {cold['popularity_p@10']:.4f} "
          f"(target: model >= popularity)")


if __name__ == "__main__":
    main()
