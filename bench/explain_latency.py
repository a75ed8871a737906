"""What explanations add to the latency of a k=10 suggestion.

    python bench/explain_latency.py [--models bench/out/explain/models] [--n 300]

Measured twice: in the library (``Recommender.recommend``) and as a caseworker's client sees it,
``POST /v1/recommendations`` over HTTP on loopback to ``servicematch serve`` (one worker, embedded
state), sequential requests with keep-alive.

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


def http_rows(models: Path, profiles: list[dict], n: int) -> list[tuple]:
    import socket
    import subprocess
    import tempfile

    import httpx

    from api.keys import add_key

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys.toml"
        _, token = add_key(keys, "caseworker")
        proc = subprocess.Popen([sys.executable, "-m", "training.cli", "serve", "--models", str(models),
                                 "--keys", str(keys), "--port", str(port), "--no-access-log"],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": token}, timeout=10)
            for _ in range(100):
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            clean = [{k: v for k, v in p.items()} for p in profiles[:n]]

            def post(p, explain):
                r = client.post("/v1/recommendations", json={"profile": p, "k": 10, "explain": explain})
                r.raise_for_status()

            for p in clean[:20]:
                post(p, True)
            plain, full = [], []
            for p in clean:
                plain += timed(lambda: post(p, False), 1)
                full += timed(lambda: post(p, True), 1)
        finally:
            proc.terminate()
            proc.wait(10)
    return [("HTTP walk-in", plain, full)]


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
        rows.append((label, plain, full))
    rows += http_rows(args.models, profiles, args.n)
    p99 = lambda xs: sorted(xs)[int(0.99 * (len(xs) - 1))]
    rows = [(label, statistics.median(a), statistics.median(b), p99(a), p99(b),
             (statistics.median(b) / statistics.median(a) - 1) * 100) for label, a, b in rows]
    print(f"model {rec.version}: {len(rec.catalog)} services, k=10, {args.n} requests each")
    print(f"{'request':<18}{'median ms':>12}{'+explain':>12}{'p99 ms':>10}{'+explain':>12}{'overhead':>10}")
    for label, m0, m1, q0, q1, over in rows:
        print(f"{label:<18}{m0:>12.2f}{m1:>12.2f}{q0:>10.2f}{q1:>12.2f}{over:>9.1f}%")
    print("target: explanations add <= 20% to the latency of a k=10 suggestion")


if __name__ == "__main__":
    main()
