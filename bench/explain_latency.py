"""What explanations add to the latency of a k=10 suggestion.

    python bench/explain_latency.py [--models bench/out/city/models] [--n 300]

Uses a trained model (by default it trains one on the 20,000-resident demo-size city), draws ``--n``
walk-in profiles and ``--n`` known residents from the model's own residents, and times
``recommend(k=10)`` with and without explanations (eligibility reasons, need paths, score
contributions and the sentence). Prints the medians and p99s and the overhead (target <= 20%).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recommender import artifacts  # noqa: E402
from recommender.engine import Recommender  # noqa: E402


def ensure_model(models: Path) -> None:
    try:
        artifacts.resolve(models)
        return
    except artifacts.ModelFileError:
        pass
    from training.generate import generate_city
    from training.pipeline import train

    data = models.parent / "data-explain"
    if not (data / "interactions.csv").exists():
        generate_city(data, residents=20_000, services=2_000, seed=7, progress=False)
    train(data, models, quiet=True)


def timed(fn, reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=Path, default=ROOT / "bench" / "out" / "explain" / "models")
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    ensure_model(args.models)
    rec = Recommender.load(args.models)
    ids = [str(r) for r in rec._resident_index[: args.n]]
    profiles = [rec.resident_profile(r) for r in ids]
    rows = []
    for label, kwargs in (("walk-in profile", [{"profile": p} for p in profiles]),
                          ("known resident", [{"resident_id": r} for r in ids])):
        for kw in kwargs[:20]:  # warm-up
            rec.recommend(**kw, k=10)
        plain, full = [], []
        for kw in kwargs:
            # interleaved so both see the same machine state
            plain += timed(lambda: rec.recommend(**kw, k=10, explain=False), 1)
            full += timed(lambda: rec.recommend(**kw, k=10, explain=True), 1)
        p99 = lambda xs: sorted(xs)[int(0.99 * (len(xs) - 1))]
        m0, m1 = statistics.median(plain), statistics.median(full)
        rows.append((label, m0, m1, p99(plain), p99(full), (m1 / m0 - 1) * 100))
    print(f"model {rec.version}: {len(rec.catalog)} services, k=10, {args.n} requests each")
    print(f"{'request':<18}{'median ms':>12}{'+explain':>12}{'p99 ms':>10}{'+explain':>12}{'overhead':>10}")
    for label, m0, m1, q0, q1, over in rows:
        print(f"{label:<18}{m0:>12.2f}{m1:>12.2f}{q0:>10.2f}{q1:>12.2f}{over:>9.1f}%")
    print("target: explanations add <= 20% to the median")


if __name__ == "__main__":
    main()
