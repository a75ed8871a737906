"""Replays issue 9's attacks and bad days against real servers and prints its figures.

    .venv/bin/python bench/reliability.py            # generate + train a small city (about a minute)
    .venv/bin/python bench/reliability.py --models models/

Figures (each against a uvicorn server in its own process, SQLite state unless said):
  1. portal reconstruction: 60 residents with stored profiles; a portal key fetches their lists and
     the service catalogue and tries to recover income and age (from reasons, explanations,
     contributions) and the home (multilateration from distances or distance bands: < 1 km counts)
  2. one resident with 100,000 events (the per-resident cap raised to let them in): their list
     with the cache off (median and p95 ms), and /healthz meanwhile (max ms)
  3. kill -9 of the API while portal lists are served: served lists missing from the audit
     (SQLite and Redis)
  4. revocation: seconds until a revoked key is refused, with the keys file fine, CURRENT broken,
     Redis down; and with the keys file deleted (every key refused, /readyz says why)
  5. 5xx answers over all of the above plus a fuzz of odd profile values and oversized needs
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api_load import Server, free_port  # noqa: E402

FIVE_XX = {"count": 0}
BANDS = {"under 1 km": (0.0, 1.0), "1-3 km": (1.0, 3.0), "3-10 km": (3.0, 10.0), "over 10 km": (10.0, 30.0)}


def count(r: httpx.Response) -> httpx.Response:
    """Counts server errors; 503 + Retry-After while Redis is down is the documented answer, so
    it is counted apart."""
    if r.status_code == 503 and r.headers.get("retry-after"):
        FIVE_XX["503"] = FIVE_XX.get("503", 0) + 1
    elif r.status_code >= 500:
        FIVE_XX["count"] += 1
    return r


def server(models: Path, keys: Path, env: dict | None = None, log: Path | None = None) -> Server:
    code = (f"from api.serve import serve; serve({str(models)!r}, {str(keys)!r}, port=PORT, "
            "access_log=False, log_level='warning')")
    return Server(code, env={"PYTHONPATH": str(ROOT), **(env or {})}, log=log)


def prepare(args, work: Path) -> tuple[Path, list[str]]:
    from recommender import artifacts

    if args.models:
        src = Path(args.models).resolve()
        version = artifacts.current_version(src)
    else:
        from training.generate import generate_city
        from training.pipeline import train

        data, src = work / "city", work / "trained"
        print("generating and training a small city ...", flush=True)
        generate_city(data, residents=5000, services=300, seed=3, progress=False)
        version = train(data, src, epochs=3, quiet=True, seed=0).version
    models = work / "models"
    models.mkdir(mode=0o750)
    (models / version).symlink_to(src / version, target_is_directory=True)
    artifacts.set_current(models, version)
    from recommender.engine import Recommender

    rec = Recommender.load(models)
    return models, [str(r) for r in rec._resident_index[:200]]


def haversine(lat, lon, lats, lons):
    p1, p2 = np.radians(lat), np.radians(lats)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lons - lon) / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def locate(observations: list[tuple[float, float, float, float]]) -> tuple[float, float] | None:
    """Grid search for the point whose distances to the services best fit the (lo, hi) km ranges."""
    if len(observations) < 3:
        return None
    lats = np.array([o[0] for o in observations])
    lons = np.array([o[1] for o in observations])
    lo = np.array([o[2] for o in observations])
    hi = np.array([o[3] for o in observations])
    best, best_err = None, math.inf
    centre = (lats.mean(), lons.mean())
    span = 0.5
    for _ in range(4):  # coarse to fine
        grid = np.linspace(-span, span, 41)
        for dlat in grid:
            for dlon in grid:
                lat, lon = centre[0] + dlat, centre[1] + dlon
                d = haversine(lat, lon, lats, lons)
                err = float(np.sum(np.maximum(lo - d, 0) ** 2 + np.maximum(d - hi, 0) ** 2))
                if err < best_err:
                    best, best_err = (lat, lon), err
        centre, span = best, span / 8
    return best


def attack_portal(url: str, tokens: dict, rng: np.random.Generator) -> dict:
    """Figure 1."""
    cw = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['caseworker']}"}, timeout=60)
    portal = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['portal']}"}, timeout=60)
    services = {}
    offset = 0
    while True:
        page = count(portal.get("/v1/services", params={"limit": 1000, "offset": offset})).json()
        services.update({s["service_id"]: s for s in page["items"]})
        offset += len(page["items"])
        if offset >= page["total"] or not page["items"]:
            break
    income = age = place = any_leak = 0
    for i in range(60):
        truth = {"age": int(rng.integers(18, 95)), "monthly_income": int(rng.integers(500, 9000)),
                 "district": f"d{int(rng.integers(1, 13)):02d}", "needs": ["food", "health"],
                 "latitude": round(39.29 + float(rng.normal(0, 0.04)), 5),
                 "longitude": round(-76.61 + float(rng.normal(0, 0.04)), 5),
                 "employment_status": "employed", "disability": bool(rng.integers(0, 2))}
        rid = f"bench-privacy-{i}"
        count(cw.put(f"/v1/residents/{rid}", json=truth))
        text = count(portal.get(f"/v1/residents/{rid}/recommendations", params={"k": 50})).text
        body = json.loads(text)
        got_income = any(int(m.replace(",", "")) == truth["monthly_income"]
                         for m in re.findall(r"income ([\d,]+)", text))
        got_age = any(int(m) == truth["age"] for m in re.findall(r"\bage (\d+)", text))
        obs = []
        for item in body.get("items", []):
            s = services.get(item["service_id"])
            if not s or s.get("latitude") is None:
                continue
            if item.get("distance_km") is not None:
                d = float(item["distance_km"])
                obs.append((s["latitude"], s["longitude"], max(0.0, d - 0.005), d + 0.005))
            elif item.get("distance_band") in BANDS:
                obs.append((s["latitude"], s["longitude"], *BANDS[item["distance_band"]]))
        guess = locate(obs)
        got_place = guess is not None and float(haversine(guess[0], guess[1], np.array([truth["latitude"]]),
                                                         np.array([truth["longitude"]]))[0]) < 1.0
        leaked_contrib = any(c.get("feature", "").startswith(("income", "age", "disability", "employment"))
                             for item in body.get("items", []) for c in item.get("contributions", []))
        income += got_income
        age += got_age
        place += got_place
        any_leak += bool(got_income or got_age or got_place or leaked_contrib)
    cw.close()
    portal.close()
    return {"residents": 60, "income": income, "age": age, "location_lt_1km": place, "any": any_leak}


def heavy_history(url: str, tokens: dict, resident: str, n_events: int) -> dict:
    """Figure 2."""
    cw = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['caseworker']}"}, timeout=120)
    sids = [s["service_id"] for s in count(cw.get("/v1/services", params={"limit": 300})).json()["items"]]
    t0 = time.perf_counter()
    accepted = 0
    for b in range(0, n_events, 1000):
        batch = [{"event_id": f"flood-{b + i}", "resident_id": resident, "service_id": sids[(b + i) % len(sids)],
                  "event": "viewed", "timestamp": 1.7e9 + b + i} for i in range(min(1000, n_events - b))]
        r = count(cw.post("/v1/events", json={"events": batch}))
        if r.status_code == 200:
            accepted += r.json()["accepted"]
        elif r.status_code == 429:
            time.sleep(float(r.headers.get("retry-after", "1")))
    load_s = time.perf_counter() - t0
    portal = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['portal']}"}, timeout=60)
    health_ms: list[float] = []
    stop = threading.Event()

    def probe():
        with httpx.Client(base_url=url, timeout=60) as c:
            while not stop.is_set():
                t = time.perf_counter()
                count(c.get("/healthz"))
                health_ms.append((time.perf_counter() - t) * 1000)
                time.sleep(0.01)

    th = threading.Thread(target=probe)
    th.start()
    lat = []
    for _ in range(60):
        t = time.perf_counter()
        count(portal.get(f"/v1/residents/{resident}/recommendations", params={"k": 10}))
        lat.append((time.perf_counter() - t) * 1000)
    stop.set()
    th.join()
    cw.close()
    portal.close()
    lat.sort()
    return {"events_accepted": accepted, "load_s": round(load_s, 1), "list_median_ms": round(statistics.median(lat), 1),
            "list_p95_ms": round(lat[int(0.95 * len(lat)) - 1], 1), "healthz_max_ms": round(max(health_ms), 1),
            "healthz_median_ms": round(statistics.median(health_ms), 1)}


def kill9_audit(models: Path, keys: Path, tokens: dict, residents: list[str], env: dict, work: Path,
                reader) -> dict:
    """Figure 3: served lists vs audited ones after kill -9 mid-run."""
    served: list[str] = []
    lock = threading.Lock()
    srv = server(models, keys, env)
    srv.__enter__()
    stop = threading.Event()

    def hammer(offset: int):
        with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {tokens['portal']}"},
                          timeout=10) as c:
            i = offset
            while not stop.is_set():
                try:
                    r = c.get(f"/v1/residents/{residents[i % len(residents)]}/recommendations")
                except httpx.HTTPError:
                    return
                i += 1
                if r.status_code == 200:
                    with lock:
                        served.append(r.json()["request_id"])

    threads = [threading.Thread(target=hammer, args=(k * 37,)) for k in range(6)]
    for t in threads:
        t.start()
    time.sleep(3.0)
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait()
    stop.set()
    for t in threads:
        t.join()
    audited = reader()
    missing = [r for r in served if r not in audited]
    return {"served": len(served), "missing_from_audit": len(missing)}


def sqlite_audit_ids(models: Path):
    def read():
        # what the next start copies in from the spool counts: a fresh app start does that
        import sqlite3

        ids = set()
        with sqlite3.connect(models / "state.sqlite3") as conn:
            ids |= {json.loads(e)["request_id"] for (e,) in conn.execute("SELECT entry FROM audit")}
        for spool in (models / "audit-spool").glob("*.jsonl"):
            ids |= {json.loads(line)["request_id"] for line in spool.read_text().splitlines() if line}
        return ids
    return read


def redis_audit_ids(url: str, models: Path):
    def read():
        import redis

        raw = redis.Redis.from_url(url)
        ids = {json.loads(f[b"a"])["request_id"] for _, f in raw.xrange("sm:audit")}
        raw.close()
        for spool in (models / "audit-spool").glob("*.jsonl"):
            ids |= {json.loads(line)["request_id"] for line in spool.read_text().splitlines() if line}
        return ids
    return read


def revocation(models: Path, keys: Path, env: dict, state: str, redis_proc=None) -> float | str:
    """Figure 4: seconds from `keys revoke` to the first 401."""
    from api.keys import add_key, revoke_key

    key_id, token = add_key(keys, "trainer")
    with server(models, keys, env) as srv, httpx.Client(base_url=srv.url, timeout=10,
                                                        headers={"Authorization": f"Bearer {token}"}) as c:
        deadline = time.monotonic() + 5
        while count(c.get("/v1/model")).status_code != 200:
            if time.monotonic() > deadline:
                return "key never accepted"
            time.sleep(0.05)
        current = (models / "CURRENT").read_text()
        if state == "CURRENT broken":
            (models / "CURRENT").write_text("../../nowhere\n")
        if state == "Redis down" and redis_proc is not None:
            redis_proc.send_signal(signal.SIGSTOP)
        try:
            time.sleep(0.3)
            t0 = time.monotonic()
            revoke_key(keys, key_id)
            while time.monotonic() - t0 < 10:
                if count(c.get("/v1/model")).status_code == 401:
                    return round(time.monotonic() - t0, 2)
                time.sleep(0.02)
            return "not refused in 10 s"
        finally:
            (models / "CURRENT").write_text(current)
            if state == "Redis down" and redis_proc is not None:
                redis_proc.send_signal(signal.SIGCONT)


def keys_deleted(models: Path, keys: Path, tokens: dict, work: Path) -> dict:
    copy = work / "keys-copy.toml"
    shutil.copy(keys, copy)
    with server(models, copy, {}) as srv:
        with httpx.Client(base_url=srv.url, timeout=10, headers={"Authorization": f"Bearer {tokens['caseworker']}"}) as c:
            before = count(c.get("/v1/services", params={"limit": 1})).status_code
            copy.unlink()
            t0 = time.monotonic()
            while count(c.get("/v1/services", params={"limit": 1})).status_code != 401 and time.monotonic() - t0 < 10:
                time.sleep(0.02)
            after = round(time.monotonic() - t0, 2)
            ready = httpx.get(srv.url + "/readyz")  # a deliberate 503 ("not ready"), not a server error
    return {"before": before, "refused_after_s": after, "readyz": ready.status_code,
            "reason": ready.json()["reasons"][:1]}


def fuzz(url: str, tokens: dict) -> int:
    """Odd values in every profile field, oversized needs: counts 4xx (5xx go to FIVE_XX)."""
    cw = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['caseworker']}",
                                              "content-type": "application/json"}, timeout=60)
    values = ["true", "false", "null", str(2**64), str(-(2**70)), "1e30", "-1e30", "1e999", "\"x\"", "[]",
              "{}", "0.5", "-1", "\"" + "n" * 5000 + "\""]
    fields = ["age", "household_size", "monthly_income", "latitude", "longitude", "disability", "district",
              "languages", "needs", "veteran", "savings"]
    n4 = 0
    for field in fields:
        for v in values:
            body = '{"profile": {"district": "d03", "%s": %s}, "k": 5}' % (field, v)
            n4 += 400 <= count(cw.post("/v1/recommendations", content=body)).status_code < 500
            n4 += 400 <= count(cw.put("/v1/residents/fuzz", content='{"%s": %s}' % (field, v))).status_code < 500
    for needs in (["x" * 121], ["need"] * 11, ["can't pay my rent this month " * 4] * 10):
        count(cw.post("/v1/recommendations", json={"profile": {"age": 40}, "needs": needs}))
    cw.close()
    return n4


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", help="existing models dir (with CURRENT)")
    ap.add_argument("--events", type=int, default=100_000, help="events for the one resident (figure 2)")
    args = ap.parse_args(argv)
    from api.keys import add_key

    work = Path(tempfile.mkdtemp(prefix="servicematch-reliability-"))
    try:
        models, residents = prepare(args, work)
        keys = work / "keys.toml"
        tokens = {role: add_key(keys, role)[1] for role in ("caseworker", "portal", "trainer", "admin")}
        rng = np.random.default_rng(9)
        results = {}
        flood = {"SERVICEMATCH_CACHE": "off", "SERVICEMATCH_MAX_EVENTS_PER_RESIDENT": str(args.events),
                 "SERVICEMATCH_EVENTS_PER_KEY_PER_MINUTE": str(10 * args.events)}
        with server(models, keys, flood, log=work / "server.log") as srv:
            results["1 portal reconstruction"] = attack_portal(srv.url, tokens, rng)
            print("1", results["1 portal reconstruction"], flush=True)
            results["2 one resident with many events"] = heavy_history(srv.url, tokens, residents[0], args.events)
            print("2", results["2 one resident with many events"], flush=True)
            results["5 fuzz 4xx answers"] = fuzz(srv.url, tokens)
        with server(models, keys, {}) as srv:  # the default cap
            with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {tokens['caseworker']}"}) as c:
                r = count(c.post("/v1/events", json={"events": [
                    {"event_id": f"capped-{i}", "resident_id": residents[0], "service_id": "S00001",
                     "event": "viewed", "timestamp": 1.7e9} for i in range(10)]}))
                results["2b default cap: a further batch"] = f"{r.status_code} {r.json()['detail'][:90]}"
        results["3 kill -9, SQLite"] = kill9_audit(models, keys, tokens, residents[1:], {}, work,
                                                   sqlite_audit_ids(models))
        print("3", results["3 kill -9, SQLite"], flush=True)
        redis_dir = work / "redis"
        redis_dir.mkdir()
        port = free_port()
        redis_proc = subprocess.Popen(["redis-server", str(ROOT / "api/state/redis.conf"), "--port", str(port),
                                       "--dir", str(redis_dir)], stdout=subprocess.DEVNULL)
        try:
            url = f"redis://127.0.0.1:{port}/0"
            time.sleep(0.5)
            results["3 kill -9, Redis"] = kill9_audit(models, keys, tokens, residents[1:], {"REDIS_URL": url}, work,
                                                      redis_audit_ids(url, models))
            print("3", results["3 kill -9, Redis"], flush=True)
            rev = {"keys file fine": revocation(models, keys, {}, "fine"),
                   "CURRENT broken": revocation(models, keys, {}, "CURRENT broken"),
                   "Redis down": revocation(models, keys, {"REDIS_URL": url}, "Redis down", redis_proc)}
        finally:
            redis_proc.kill()
            redis_proc.wait()
        rev["keys file deleted"] = keys_deleted(models, keys, tokens, work)
        results["4 revocation (s until refused)"] = rev
        results["5 5xx answers, all of the above"] = FIVE_XX["count"]
        print()
        print("| figure | measured | target |")
        print("|---|---|---|")
        p = results["1 portal reconstruction"]
        print(f"| portal: residents with income / age / home (< 1 km) recoverable | "
              f"{p['income']} / {p['age']} / {p['location_lt_1km']} of {p['residents']} (any: {p['any']}) | 0 of 60 |")
        h = results["2 one resident with many events"]
        print(f"| {h['events_accepted']:,} events for one resident: list, cache off (median / p95) | "
              f"{h['list_median_ms']} / {h['list_p95_ms']} ms | <= 20 ms |")
        print(f"| /healthz meanwhile (median / max) | {h['healthz_median_ms']} / {h['healthz_max_ms']} ms | <= 50 ms |")
        print(f"| default per-resident cap, a further batch | {results['2b default cap: a further batch']} | 422 naming the limit |")
        for k in ("3 kill -9, SQLite", "3 kill -9, Redis"):
            r = results[k]
            print(f"| {k[2:]}: served lists missing from the audit | {r['missing_from_audit']} of {r['served']:,} | 0 |")
        for state, v in rev.items():
            print(f"| revoked key refused after, {state} | {v} | <= 2 s |")
        print(f"| 5xx answers over all of the above ({results['5 fuzz 4xx answers']} fuzz cases answered 4xx; "
              f"{FIVE_XX.get('503', 0)} documented 503 + Retry-After while Redis was down) | "
              f"{FIVE_XX['count']} | 0 |")
        (ROOT / "bench" / "out").mkdir(exist_ok=True)
        (ROOT / "bench" / "out" / "reliability.json").write_text(json.dumps(results, indent=1, default=str))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
