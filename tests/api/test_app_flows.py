"""The routes' contract over real HTTP (uvicorn on loopback, httpx), against both state backends.

Each test runs twice: with the embedded SQLite store and with a real redis-server.
"""
from __future__ import annotations

import csv
import io
import logging
import hashlib
import re

import pytest

from api.app import create_app
from recommender import artifacts
from recommender.schema import CODE_SEP

from .conftest import auth, make_models_dir, wait_until

WALK_IN = {"age": 71, "gender": "female", "district": "d03", "household_size": 1,
           "monthly_income": 900, "disability": False, "languages": ["en"],
           "needs": ["food", "health"], "latitude": 39.29, "longitude": -76.61}


@pytest.fixture
def make_server(models_dir, api_keys, state_backend, serve_app):
    """``make_server(models_dir=None, **create_app_kwargs)`` -> a started LiveServer."""

    def make(dir_=None, **kwargs):
        app = create_app(dir_ or models_dir, keys_file=api_keys["file"], refresh_interval=0.1,
                         **{**state_backend, **kwargs})
        return serve_app(app)

    return make


@pytest.fixture
def api(make_server):
    return make_server()


#: A resident of the generated city, so the model knows them.
RESIDENT = "R000042"


def metric(text: str, name: str, **labels) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(want) + r"\}" if labels else "") + r" ([0-9.e+-]+)"
    m = re.search(pattern, text)
    return float(m.group(1)) if m else 0.0


def export_rows(api, api_keys) -> list[dict]:
    with api.client(api_keys["trainer"]) as c:
        r = c.get("/v1/events/export")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.text)))


# ----------------------------------------------------------------------------- recommendations
def test_inline_profile_gets_ranked_explained_items_and_a_need_map(api, api_keys, trained):
    with api.client(api_keys["caseworker"]) as c:
        r = c.post("/v1/recommendations", json={"profile": WALK_IN, "k": 7})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["request_id"] == r.headers["x-request-id"]
    assert body["model_version"] == trained["v1"]
    assert body["mode"] == "cold" and body["resident_id"] is None
    items = body["items"]
    assert 1 <= len(items) <= 7
    assert [i["rank"] for i in items] == list(range(1, len(items) + 1))
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    assert len({i["service_id"] for i in items}) == len(items)
    for item in items:
        assert item["eligibility"] in ("eligible", "unknown")
        assert item["name"] and item["explanation"]
        assert item["distance_km"] is None or item["distance_km"] >= 0
    # Every declared need is accounted for: answered by listed items, or with a reason.
    assert set(body["needs"]) == {"food", "health"}
    ids = {i["service_id"] for i in items}
    for need, answer in body["needs"].items():
        assert set(answer["service_ids"]) <= ids
        assert answer["service_ids"] or answer["reason"]


def test_filters_are_honoured(api, api_keys):
    with api.client(api_keys["caseworker"]) as c:
        base = c.post("/v1/recommendations", json={"profile": WALK_IN, "k": 10}).json()["items"]
        excluded = [base[0]["service_id"], base[1]["service_id"]]
        r = c.post("/v1/recommendations", json={"profile": WALK_IN, "k": 10,
                                                "exclude_service_ids": excluded})
        assert r.status_code == 200
        assert not {i["service_id"] for i in r.json()["items"]} & set(excluded)

        r = c.post("/v1/recommendations", json={"profile": WALK_IN, "k": 10, "categories": ["health"]})
        assert r.status_code == 200 and r.json()["items"]
        for item in r.json()["items"]:
            cats = c.get(f"/v1/services/{item['service_id']}").json()["categories"]
            assert any(x == "health" or x.startswith("health" + CODE_SEP) for x in cats), cats

        near = {"lat": 39.29, "lon": -76.61, "max_km": 3}
        r = c.post("/v1/recommendations", json={"profile": WALK_IN, "k": 10, "near": near})
        assert r.status_code == 200
        for item in r.json()["items"]:
            assert item["distance_km"] is not None and item["distance_km"] <= 3

        r = c.post("/v1/recommendations", json={"profile": WALK_IN, "k": 10,
                                                "include_unknown_eligibility": False})
        assert r.status_code == 200
        assert {i["eligibility"] for i in r.json()["items"]} <= {"eligible"}

        r = c.post("/v1/recommendations", json={"profile": WALK_IN, "k": 5, "needs": ["transport"]})
        assert set(r.json()["needs"]) == {"transport"}


def test_resident_id_uses_the_stored_profile_else_the_training_one(api, api_keys):
    rid = RESIDENT
    with api.client(api_keys["caseworker"]) as c:
        trained_profile = c.get(f"/v1/residents/{rid}").json()
        assert trained_profile["source"] == "model"
        before = c.post("/v1/recommendations", json={"resident_id": rid, "k": 5})
        assert before.status_code == 200
        assert set(before.json()["needs"]) == set(trained_profile["profile"].get("needs", []))

        new_needs = ["legal"] if "legal" not in trained_profile["profile"].get("needs", []) else ["jobs"]
        r = c.put(f"/v1/residents/{rid}", json={**WALK_IN, "needs": new_needs})
        assert r.status_code == 200 and r.json()["source"] == "store"
        assert c.get(f"/v1/residents/{rid}").json()["profile"]["needs"] == new_needs
        after = c.post("/v1/recommendations", json={"resident_id": rid, "k": 5})
        assert after.status_code == 200
        assert set(after.json()["needs"]) == set(new_needs)

        # A resident only the store knows (registered through the API, never trained on).
        assert c.put("/v1/residents/walk-in-77", json=WALK_IN).status_code == 200
        r = c.post("/v1/recommendations", json={"resident_id": "walk-in-77", "k": 3})
        assert r.status_code == 200 and r.json()["resident_id"] == "walk-in-77"

        r = c.post("/v1/recommendations", json={"resident_id": "nobody-at-all"})
        assert r.status_code == 404 and "nobody-at-all" in r.json()["detail"]


def test_portal_call_is_cached_and_a_profile_change_invalidates_it(api, api_keys):
    rid = RESIDENT
    url = f"/v1/residents/{rid}/recommendations?k=5"
    with api.client(api_keys["portal"]) as portal, api.client(api_keys["caseworker"]) as cw:
        first = portal.get(url)
        second = portal.get(url)
        assert first.status_code == second.status_code == 200
        assert first.json()["request_id"] != second.json()["request_id"]
        assert {**first.json(), "request_id": None} == {**second.json(), "request_id": None}
        metrics = portal.get("/metrics").text
        assert metric(metrics, "servicematch_recommendation_cache_total", result="hit") == 1
        assert metric(metrics, "servicematch_recommendation_cache_total", result="miss") == 1

        assert cw.put(f"/v1/residents/{rid}", json={**WALK_IN, "needs": ["legal"]}).status_code == 200
        third = portal.get(url)
        assert third.status_code == 200 and third.json()["needs"] == {}  # the portal never sees needs
        metrics = portal.get("/metrics").text
        assert metric(metrics, "servicematch_recommendation_cache_total", result="miss") == 2
        assert set(cw.get(url).json()["needs"]) == {"legal"}  # the new profile was used
        # A different k is a different answer.
        assert len(portal.get(f"/v1/residents/{rid}/recommendations?k=2").json()["items"]) == 2
        assert portal.get("/v1/residents/nobody-at-all/recommendations").status_code == 404


def test_cache_off_computes_every_time(make_server, api_keys, monkeypatch):
    monkeypatch.setenv("SERVICEMATCH_CACHE", "off")
    api = make_server()
    with api.client(api_keys["portal"]) as c:
        for _ in range(3):
            assert c.get(f"/v1/residents/{RESIDENT}/recommendations").status_code == 200
        metrics = c.get("/metrics").text
    assert metric(metrics, "servicematch_recommendation_cache_total", result="hit") == 0


# ----------------------------------------------------------------------------- events
def test_events_are_idempotent_and_a_declined_service_is_not_suggested_again(api, api_keys):
    rid = RESIDENT
    with api.client(api_keys["portal"]) as portal, api.client(api_keys["caseworker"]) as cw:
        top = portal.get(f"/v1/residents/{rid}/recommendations?k=10").json()["items"]
        declined = top[0]["service_id"]
        batch = {"events": [
            {"event_id": "ev-1", "resident_id": rid, "service_id": declined, "event": "declined",
             "timestamp": "2025-03-01T09:00:00Z"},
            {"event_id": "ev-2", "resident_id": rid, "service_id": top[1]["service_id"],
             "event": "viewed", "timestamp": 1740819600},
        ]}
        r = portal.post("/v1/events", json=batch)
        assert r.status_code == 200 and r.json() == {"accepted": 2, "duplicates": 0}
        r = portal.post("/v1/events", json=batch)  # a replay: nothing counted twice
        assert r.status_code == 200 and r.json() == {"accepted": 0, "duplicates": 2}

        after = portal.get(f"/v1/residents/{rid}/recommendations?k=10").json()["items"]
        assert declined not in {i["service_id"] for i in after}
        by_id = cw.post("/v1/recommendations", json={"resident_id": rid, "k": 50}).json()["items"]
        assert declined not in {i["service_id"] for i in by_id}
        # A view does not count as use: that service may still be suggested.
        assert top[1]["service_id"] in {i["service_id"] for i in by_id}
        metrics = portal.get("/metrics").text
        assert metric(metrics, "servicematch_events_accepted_total") == 2
        assert metric(metrics, "servicematch_events_duplicate_total") == 2

    rows = export_rows(api, api_keys)
    assert sorted(r["event_id"] for r in rows) == ["ev-1", "ev-2"]
    row = next(r for r in rows if r["event_id"] == "ev-1")
    assert row == {"resident_id": rid, "service_id": declined, "event": "declined",
                   "timestamp": "2025-03-01T09:00:00Z", "event_id": "ev-1"}


def test_an_unknown_service_rejects_the_whole_batch_naming_index_and_field(api, api_keys):
    good = {"event_id": "ok-1", "resident_id": "R000001", "service_id": "S00001", "event": "viewed",
            "timestamp": 1700000000}
    bad = {**good, "event_id": "bad-1", "service_id": "S99999"}
    with api.client(api_keys["caseworker"]) as c:
        r = c.post("/v1/events", json={"events": [good, bad]})
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "body.events.1.service_id"
        assert "S99999" in r.json()["detail"]
        r = c.post("/v1/events", json={"events": [good, {**good, "event_id": "x", "event": "liked"}]})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.events.1.event"
    assert export_rows(api, api_keys) == []  # nothing of a rejected batch was stored


def test_exported_events_load_as_an_interactions_table(api, api_keys, city, tmp_path):
    from training.tables import load_data_dir, load_interactions

    with api.client(api_keys["portal"]) as c:
        r = c.post("/v1/events", json={"events": [
            {"event_id": f"e{i}", "resident_id": "R000010", "service_id": f"S0000{i + 1}",
             "event": "applied", "timestamp": 1700000000 + i} for i in range(3)]})
        assert r.status_code == 200
    with api.client(api_keys["trainer"]) as c:
        path = tmp_path / "feedback.csv"
        path.write_text(c.get("/v1/events/export").text)
    data = load_data_dir(city, quiet=True)
    table = load_interactions(path, services=data.services, residents=data.residents)
    assert len(table) == 3 and set(table["event"]) == {"applied"}


# ----------------------------------------------------------------------------- residents
def test_delete_erases_profile_events_and_cached_answers(api, api_keys):
    rid = "walk-in-erase"
    with api.client(api_keys["caseworker"]) as c, api.client(api_keys["portal"]) as portal:
        assert c.put(f"/v1/residents/{rid}", json=WALK_IN).status_code == 200
        assert portal.get(f"/v1/residents/{rid}/recommendations").status_code == 200
        assert c.post("/v1/events", json={"events": [
            {"event_id": "er-1", "resident_id": rid, "service_id": "S00001", "event": "viewed",
             "timestamp": 1700000000}]}).status_code == 200

        r = c.delete(f"/v1/residents/{rid}")
        assert r.status_code == 200 and r.json() == {"resident_id": rid, "deleted": True}
        assert c.get(f"/v1/residents/{rid}").status_code == 404
        # The cached answer went with them.
        assert portal.get(f"/v1/residents/{rid}/recommendations").status_code == 404
        assert c.delete(f"/v1/residents/{rid}").json()["deleted"] is False
    assert all(row["resident_id"] != rid for row in export_rows(api, api_keys))


# ----------------------------------------------------------------------------- services
def test_a_patch_takes_effect_at_once_on_every_replica(make_server, api_keys):
    a = make_server()
    b = make_server()  # a second replica on the same state (SQLite file or Redis)
    with a.client(api_keys["admin"]) as ca, b.client(api_keys["caseworker"]) as cb:
        top = cb.post("/v1/recommendations", json={"profile": WALK_IN, "k": 5}).json()["items"][0]
        sid = top["service_id"]
        r = ca.patch(f"/v1/services/{sid}", json={"status": "temporarily closed"})
        assert r.status_code == 200 and r.json()["status"] == "temporarily closed"
        assert cb.get(f"/v1/services/{sid}").json()["status"] == "temporarily closed"
        items = cb.post("/v1/recommendations", json={"profile": WALK_IN, "k": 50}).json()["items"]
        assert sid not in {i["service_id"] for i in items}
        listed = cb.get("/v1/services", params={"status": "temporarily closed", "limit": 1000}).json()
        assert sid in {s["service_id"] for s in listed["items"]}

        assert ca.patch(f"/v1/services/{sid}", json={"status": "active", "capacity": 3}).status_code == 200
        items = cb.post("/v1/recommendations", json={"profile": WALK_IN, "k": 50}).json()["items"]
        match = [i for i in items if i["service_id"] == sid]
        assert match and match[0]["capacity"] == 3

        assert ca.patch("/v1/services/S99999", json={"capacity": 1}).status_code == 404
        assert ca.patch(f"/v1/services/{sid}", json={}).status_code == 422


def test_service_listing_filters_and_pages(api, api_keys):
    with api.client(api_keys["portal"]) as c:
        everything = c.get("/v1/services", params={"limit": 1000}).json()
        assert everything["total"] == 200 == len(everything["items"])
        page = c.get("/v1/services", params={"limit": 10, "offset": 5}).json()
        assert [s["service_id"] for s in page["items"]] == \
            [s["service_id"] for s in everything["items"][5:15]]
        food = c.get("/v1/services", params={"category": "food", "limit": 1000}).json()
        assert food["total"] > 0
        assert all(any(x.split("/")[0] == "food" for x in s["categories"]) for s in food["items"])
        assert c.get("/v1/services/S99999").status_code == 404


# ----------------------------------------------------------------------------- model
def test_model_info_and_a_new_current_reaches_every_replica(make_server, api_keys, trained, models_dir,
                                                           tmp_path):
    a = make_server()
    b = make_server()  # same models dir: both watch the same CURRENT
    with a.client(api_keys["trainer"]) as ca, b.client(api_keys["trainer"]) as cb:
        info = ca.get("/v1/model").json()
        assert info["version"] == trained["v1"] and info["services"] == 200 and info["metrics"]
        artifacts.set_current(models_dir, trained["v2"])
        assert wait_until(lambda: ca.get("/v1/model").json()["version"] == trained["v2"]
                          and cb.get("/v1/model").json()["version"] == trained["v2"])
        assert 'servicematch_model_info{version="%s"} 1.0' % trained["v2"] in ca.get("/metrics").text


def test_reload_endpoint_notifies_replicas_through_the_store(make_server, api_keys, trained, models_dir,
                                                            tmp_path, state_backend):
    from api.state import open_store

    a = make_server()
    other_dir = make_models_dir(trained, tmp_path / "replica-b")
    # B's CURRENT stays at v1, so only the store's notice can move it; with SQLite it shares A's
    # state file explicitly.
    store = open_store(models_dir, **state_backend)
    b = make_server(other_dir, store=store)
    with a.client(api_keys["trainer"]) as ca, b.client(api_keys["trainer"]) as cb:
        artifacts.set_current(models_dir, trained["v2"])
        r = ca.post("/v1/model/reload")
        assert r.status_code == 200
        assert r.json()["version"] == trained["v2"] and r.json()["published"] is True
        assert wait_until(lambda: cb.get("/v1/model").json()["version"] == trained["v2"])
    store.close()


def test_a_broken_current_is_refused_and_the_old_model_kept(api, api_keys, models_dir, trained):
    (models_dir / "CURRENT").write_text("no-such-version\n")
    with api.client(api_keys["trainer"]) as c:
        r = c.post("/v1/model/reload")
        assert r.status_code == 409 and trained["v1"] in r.json()["detail"]
        assert c.get("/v1/model").json()["version"] == trained["v1"]
    with api.client(api_keys["caseworker"]) as c:
        assert c.post("/v1/recommendations", json={"profile": WALK_IN}).status_code == 200


# ----------------------------------------------------------------------------- audit, logs, metrics
def test_every_served_list_is_audited_without_the_profile(api, api_keys):
    secret_district = "zq-district-4471"
    profile = {**WALK_IN, "district": secret_district}
    with api.client(api_keys["caseworker"]) as cw, api.client(api_keys["portal"]) as portal:
        inline = cw.post("/v1/recommendations", json={"profile": profile, "k": 4}).json()
        rid = RESIDENT
        portal.get(f"/v1/residents/{rid}/recommendations?k=3")
        cached = portal.get(f"/v1/residents/{rid}/recommendations?k=3").json()
    with api.client(api_keys["admin"]) as admin:
        r = admin.get("/v1/audit", params={"limit": 10})
    assert r.status_code == 200
    entries = {e["request_id"]: e for e in r.json()["items"]}
    assert len(entries) == 3  # the cached answer is a served list too
    e = entries[inline["request_id"]]
    assert e["resident_hash"] is None and re.fullmatch(r"[0-9a-f]{64}", e["profile_hash"])
    assert e["service_ids"] == [i["service_id"] for i in inline["items"]]
    assert e["model_version"] == inline["model_version"] and e["key_id"]
    assert secret_district not in r.text and '"age"' not in r.text
    e = entries[cached["request_id"]]
    # The resident is linked across entries by a keyed hash, never named (nor a plain sha256 of
    # the id, which anyone could recompute from a list of ids).
    assert rid not in r.text and e["profile_hash"] is None
    first = [x for x in entries.values() if x["request_id"] not in (cached["request_id"], inline["request_id"])][0]
    assert re.fullmatch(r"[0-9a-f]{64}", e["resident_hash"]) and e["resident_hash"] == first["resident_hash"]
    assert e["resident_hash"] != hashlib.sha256(rid.encode()).hexdigest()
    assert e["service_ids"] == [i["service_id"] for i in cached["items"]]
    assert e["key_id"] != entries[inline["request_id"]]["key_id"]  # portal's key, not caseworker's


def test_logs_hold_no_profile_no_body_and_no_query(api, api_keys, caplog):
    secret = "zq-secret-9931"
    caplog.set_level(logging.DEBUG)
    with api.client(api_keys["caseworker"]) as c:
        c.post("/v1/recommendations", json={"profile": {**WALK_IN, "district": secret}})
        c.put("/v1/residents/log-test", json={**WALK_IN, "district": secret})
        c.post("/v1/recommendations", json={"profile": {**WALK_IN, "age": "not a number " + secret}})
        c.get("/v1/residents/R000042/recommendations?k=3&token=" + secret)
    # Everything the server side logged (the test's own HTTP client logs its URLs: not ours).
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert server
    text = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in server)
    assert secret not in text
    access = [r.getMessage() for r in caplog.records if r.name == "servicematch.access"]
    assert any(line.startswith("POST /v1/recommendations 200") for line in access)
    assert any(line.startswith("GET /v1/residents/R000042/recommendations 200") for line in access)
    assert all("?" not in line for line in access)


def test_metrics_are_labelled_by_route_template(api, api_keys, trained):
    with api.client(api_keys["portal"]) as c:
        c.get("/v1/residents/R000042/recommendations")
        c.get("/v1/residents/R000043/recommendations")
        c.get("/no/such/path")
        text = c.get("/metrics").text
    route = "/v1/residents/{resident_id}/recommendations"
    assert metric(text, "servicematch_request_duration_seconds_count", method="GET", route=route) == 2
    assert metric(text, "servicematch_requests_total", method="GET", route=route, status="200") == 2
    assert 'route="<unmatched>"' in text
    assert "R000042" not in text
    assert metric(text, "servicematch_model_info", version=trained["v1"]) == 1


def test_probes_and_docs_need_no_key(api):
    with api.client() as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        ready = c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["store"] is True
        assert c.get("/docs").status_code == 200
        assert c.get("/openapi.json").status_code == 200
        assert c.get("/metrics").status_code == 200
        assert c.get("/v1/model").status_code == 401


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("body, field", [
    ({"profile": WALK_IN, "k": 0}, "body.k"),
    ({"profile": WALK_IN, "k": 51}, "body.k"),
    ({"profile": WALK_IN, "k": "ten"}, "body.k"),
    ({"profile": {**WALK_IN, "age": -3}}, "body.profile.age"),
    ({"profile": {**WALK_IN, "household_size": "many"}}, "body.profile.household_size"),
    ({"profile": WALK_IN, "neds": ["food"]}, "body.neds"),
    ({"profile": WALK_IN, "near": {"lat": 95, "lon": 0, "max_km": 1}}, "body.near.lat"),
    ({"profile": WALK_IN, "resident_id": "R000042"}, "body"),
    ({}, "body"),
    ({"profile": {**WALK_IN, "languages": ["klingonese"]}}, "languages"),
    ({"profile": {**WALK_IN, "agee": 67}}, "did you mean 'age'"),
    ({"profile": {**WALK_IN, "income": 900}}, "did you mean 'monthly_income'"),
    ({"profile": {**WALK_IN, "shoe_size": 9}}, "accepted: age"),
    ({"profile": {**WALK_IN, "latitude": None}}, "latitude/longitude"),
])
def test_bad_bodies_get_a_4xx_naming_the_field(api, api_keys, body, field):
    with api.client(api_keys["caseworker"]) as c:
        r = c.post("/v1/recommendations", json=body)
    assert r.status_code == 422, r.text
    assert field in r.json()["detail"]
    assert r.json()["request_id"] == r.headers["x-request-id"]


def test_language_names_and_iso_639_3_codes_are_accepted_as_codes(api, api_keys):
    with api.client(api_keys["caseworker"]) as c:
        r = c.post("/v1/recommendations", json={"profile": {**WALK_IN, "languages": ["spanish", "hmn", "spa"]}})
    assert r.status_code == 200, r.text


def test_malformed_json_and_wrong_types_are_4xx(api, api_keys):
    with api.client(api_keys["caseworker"]) as c:
        r = c.post("/v1/recommendations", content=b'{"profile": {', headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and "body" in r.json()["detail"]
        r = c.post("/v1/recommendations", json=[1, 2, 3])
        assert r.status_code == 422
        r = c.post("/v1/events", json={"events": []})
        assert r.status_code == 422 and "body.events" in r.json()["detail"]
        r = c.post("/v1/events", json={"events": [{"event_id": "a", "resident_id": "r", "service_id": "S00001",
                                                   "event": "viewed", "timestamp": "yesterday"}]})
        assert r.status_code == 422 and "body.events.0.timestamp" in r.json()["detail"]
        assert c.get("/v1/residents/R000042/recommendations?k=0").status_code == 422
        assert "query.k" in c.get("/v1/residents/R000042/recommendations?k=x").json()["detail"]


def test_oversized_bodies_are_413_with_or_without_content_length(api, api_keys):
    big = b'{"profile": {"gender": "' + b"x" * (1 << 20) + b'"}}'
    with api.client(api_keys["caseworker"]) as c:
        r = c.post("/v1/recommendations", content=big, headers={"Content-Type": "application/json"})
        assert r.status_code == 413

        def chunks():  # no Content-Length: the server must count what arrives
            for i in range(0, len(big), 64 * 1024):
                yield big[i:i + 64 * 1024]

        r = c.post("/v1/recommendations", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        # Still serving afterwards.
        assert c.post("/v1/recommendations", json={"profile": WALK_IN}).status_code == 200


def test_chinese_free_text_with_several_needs_and_a_chinese_explanation(api, api_keys):
    with api.client(api_keys["caseworker"]) as c:
        r = c.post("/v1/recommendations", json={"profile": {**WALK_IN, "needs": ["我失业了，交不起房租"]},
                                                "k": 5, "lang": "zh"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert {"我失业了", "交不起房租"} <= set(body["needs"])
    assert all(item["explanation"].startswith("满足需求") for item in body["items"])
    assert all("how_to_apply" in item and "referral_required" in item for item in body["items"])
