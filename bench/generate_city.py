"""Benchmark the synthetic city generator: seconds per phase, rows written and peak memory.

    .venv/bin/python bench/generate_city.py --residents 100000 --services 2000 --seed 7 --out /tmp/city
    .venv/bin/python bench/generate_city.py --residents 1000000 --services 10000 --out /tmp/city1m --jobs 2

Prints one JSON object; ``peak_rss_mb`` is the process's maximum resident set size
(``resource.getrusage``), which covers everything the run allocated.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.generate import generate_city  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--residents", type=int, default=100_000)
    ap.add_argument("--services", type=int, default=2_000)
    ap.add_argument("--interactions-per-resident", type=float, default=12.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--format", choices=("csv", "parquet"), default="csv")
    ap.add_argument("--jobs", type=int, default=1, help="threads scoring resident chunks")
    ap.add_argument("--out", help="output folder (default: a temporary folder, removed afterwards)")
    ap.add_argument("--progress", action="store_true")
    args = ap.parse_args(argv)

    tmp = None
    out = args.out
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="servicematch-city-")
        out = tmp.name
    started = time.perf_counter()
    result = generate_city(
        out, residents=args.residents, services=args.services,
        interactions_per_resident=args.interactions_per_resident, seed=args.seed, fmt=args.format,
        progress=args.progress, n_jobs=args.jobs)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # ru_maxrss is KiB on Linux, bytes on macOS
    peak_mb = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    sizes = {name: round(os.path.getsize(path) / 1e6, 1) for name, path in result["files"].items()}
    print(json.dumps({
        "residents": result["residents"], "services": result["services"],
        "interactions": result["interactions"], "jobs": args.jobs, "format": args.format,
        "seconds": result["seconds"], "wall_seconds": round(wall, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(peak_mb, 1), "file_mb": sizes,
    }, indent=2))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
