"""Failures under real conditions: Redis killed or hung mid-run, model swaps under load."""
from __future__ import annotations

import threading
import time
from collections import Counter

import httpx

from api.app import create_app
from recommender import artifacts

from .conftest import wait_until

WALK_IN = {"age": 44, "district": "d05", "needs": ["housing", "jobs"], "languages": ["en"]}
RESIDENT = "R000042"


def event(event_id: str, service_id: str = "S00003") -> dict:
    return {"event_id": event_id, "resident_id": RESIDENT, "service_id": service_id,
            "event": "enrolled", "timestamp": 1700000000}


def test_redis_killed_mid_run(models_dir, api_keys, redis_factory, serve_app):
    redis = redis_factory()
    app = create_app(models_dir, keys_file=api_keys["file"], redis_url=redis.url)
    server = serve_app(app)
    cw, admin = server.client(api_keys["caseworker"]), server.client(api_keys["admin"])
    portal = server.client(api_keys["portal"])
    assert portal.get(f"/v1/residents/{RESIDENT}/recommendations").status_code == 200
    assert cw.post("/v1/events", json={"events": [event("before")]}).status_code == 200

    assert wait_until(lambda: app.state.ctx.audit.pending == 0)  # the portal call's entry is stored
    redis.kill()  # SIGKILL: no chance to flush anything

    outage_ids = []
    for _ in range(5):
        r = cw.post("/v1/recommendations", json={"profile": WALK_IN, "k": 5})
        assert r.status_code == 200, r.text  # a walk-in needs no state ...
        outage_ids.append(r.json()["request_id"])
    # ... and each list was audited durably before it was answered: in the local spool (0600).
    spools = list((models_dir / "audit-spool").glob("*.jsonl"))
    assert spools and all(p.stat().st_mode & 0o077 == 0 for p in spools)
    spooled = "".join(p.read_text() for p in spools)
    assert all(rid in spooled for rid in outage_ids)
    for call in (lambda: portal.get(f"/v1/residents/{RESIDENT}/recommendations"),
                 lambda: cw.post("/v1/recommendations", json={"resident_id": RESIDENT}),
                 lambda: cw.post("/v1/events", json={"events": [event("during")]}),
                 lambda: cw.put("/v1/residents/someone", json=WALK_IN),
                 lambda: cw.get(f"/v1/residents/{RESIDENT}"),
                 lambda: admin.patch("/v1/services/S00001", json={"capacity": 1}),
                 lambda: admin.get("/v1/events/export"),
                 lambda: server.client().get("/readyz")):
        r = call()
        assert r.status_code == 503, (r.request.url, r.status_code, r.text)
        if r.request.url.path != "/readyz":
            assert int(r.headers["retry-after"]) > 0
    assert server.client().get("/healthz").status_code == 200

    redis.start()  # same port and data directory: a restart after a crash
    assert wait_until(lambda: server.client().get("/readyz").status_code == 200, timeout=15)
    rows = admin.get("/v1/events/export").text
    assert ",before" in rows and ",during" not in rows  # the refused batch was never stored
    # The lists served during the outage were audited once the store came back.
    assert wait_until(lambda: set(outage_ids) <= {
        e["request_id"] for e in admin.get("/v1/audit", params={"limit": 50}).json()["items"]})
    assert cw.post("/v1/recommendations", json={"profile": WALK_IN}).status_code == 200
    assert cw.post("/v1/events", json={"events": [event("during")]}).json() == \
        {"accepted": 1, "duplicates": 0}
    for c in (cw, admin, portal):
        c.close()


def test_hung_redis_does_not_stall_walk_ins(models_dir, api_keys, redis_factory, serve_app):
    redis = redis_factory()
    app = create_app(models_dir, keys_file=api_keys["file"], redis_url=redis.url)
    server = serve_app(app)
    with server.client(api_keys["caseworker"]) as cw, server.client(api_keys["portal"]) as portal:
        assert cw.post("/v1/recommendations", json={"profile": WALK_IN}).status_code == 200
        redis.pause()  # SIGSTOP: connections accepted by the kernel, never answered
        try:
            box = {}
            t = threading.Thread(target=lambda: box.update(
                r=portal.get(f"/v1/residents/{RESIDENT}/recommendations")))
            t.start()  # this one waits for the Redis timeout, in a pool thread
            statuses = [cw.post("/v1/recommendations", json={"profile": WALK_IN}).status_code
                        for _ in range(5)]
            t.join(timeout=30)
            assert statuses == [200] * 5
            assert box["r"].status_code == 503 and box["r"].headers["retry-after"]
        finally:
            redis.resume()


def test_model_swaps_under_load_fail_no_request(models_dir, api_keys, trained, serve_app):
    app = create_app(models_dir, keys_file=api_keys["file"], refresh_interval=0.1)
    server = serve_app(app)
    stop = threading.Event()
    statuses: Counter = Counter()
    versions: Counter = Counter()
    failures: list = []

    def hammer(path: str, token: str, body: dict | None):
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"},
                          timeout=30) as c:
            while not stop.is_set():
                try:
                    r = c.post(path, json=body) if body is not None else c.get(path)
                except httpx.HTTPError as exc:  # a dropped connection is a failed request too
                    failures.append(repr(exc))
                    continue
                statuses[r.status_code] += 1
                if r.status_code == 200:
                    versions[r.json()["model_version"]] += 1

    threads = [
        threading.Thread(target=hammer, args=("/v1/recommendations", api_keys["caseworker"],
                                              {"profile": WALK_IN, "k": 10})),
        threading.Thread(target=hammer, args=(f"/v1/residents/{RESIDENT}/recommendations?k=10",
                                              api_keys["portal"], None)),
    ]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        artifacts.set_current(models_dir, trained["v2"])  # picked up by the refresher
        assert wait_until(lambda: versions[trained["v2"]] > 20, timeout=20)
        artifacts.set_current(models_dir, trained["v1"])
        with server.client(api_keys["trainer"]) as c:  # and an explicit reload
            assert c.post("/v1/model/reload").json()["version"] == trained["v1"]
        seen_v1 = versions[trained["v1"]]
        assert wait_until(lambda: versions[trained["v1"]] > seen_v1 + 20, timeout=20)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert failures == []
    assert set(statuses) == {200}, statuses
    assert versions[trained["v1"]] and versions[trained["v2"]]
