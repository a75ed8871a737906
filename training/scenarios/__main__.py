"""python -m training.scenarios NAME --out DIR [--residents N] [--services M] [--seed S]"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from . import SCENARIOS, generate


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.scenarios",
                                 description="Write a synthetic city with one of the robustness stories.")
    ap.add_argument("name", choices=list(SCENARIOS))
    ap.add_argument("--out", type=Path, required=True, help="data directory to write")
    ap.add_argument("--residents", type=int, help="default: the scenario's own")
    ap.add_argument("--services", type=int, help="default: the scenario's own")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    counts = generate(args.name, args.out, residents=args.residents, services=args.services, seed=args.seed)
    print(json.dumps(counts, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
