"""The console's routes over HTTP (no browser): pages and their headers, the history and report
routes, the offline docs assets."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app

from .conftest import link_models


@pytest.fixture(scope="module")
def client(trained_models, console_keys, tmp_path_factory):
    models = link_models(trained_models, tmp_path_factory.mktemp("console-routes") / "models")
    with TestClient(create_app(models, keys_file=console_keys["file"])) as c:
        yield c


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_pages_need_no_key_and_forbid_other_origins(client):
    assert client.get("/", follow_redirects=False).headers["location"] == "/console"
    for path in ("/console", "/console/models"):
        r = client.get(path)
        assert r.status_code == 200 and 'data-testid="api-key"' in r.text
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["cache-control"] == "no-store"
    assert client.get("/console/static/console.js").status_code == 200
    assert client.get("/console/static/../routes/console.py").status_code == 404


def test_whoami_names_the_role_only(client, console_keys):
    for role in ("caseworker", "portal", "trainer", "admin"):
        assert client.get("/v1/whoami", headers=auth(console_keys[role])).json() == {"role": role}
    assert client.get("/v1/whoami").status_code == 401


def test_history_of_a_resident(client, console_keys):
    h = auth(console_keys["caseworker"])
    assert client.get("/v1/residents/NOBODY-AT-ALL/events", headers=h).status_code == 404
    # a resident the model saw use services (some residents' history is all held out)
    rid, known = next((rid, body) for rid in (f"R{i:06d}" for i in range(1, 100))
                      if (body := client.get(f"/v1/residents/{rid}/events", headers=h).json())["training_history"])
    assert known["events"] == [] and all(s["name"] for s in known["training_history"])
    sid = known["training_history"][0]["service_id"]
    events = [{"event_id": f"hist-{i}", "resident_id": rid, "service_id": sid, "event": e,
               "timestamp": 1_800_000_000 + i} for i, e in enumerate(("referred", "enrolled"))]
    assert client.post("/v1/events", json={"events": events}, headers=h).status_code == 200
    history = client.get(f"/v1/residents/{rid}/events", headers=h).json()["events"]
    assert [e["event"] for e in history] == ["enrolled", "referred"]  # newest first
    assert all(e["name"] for e in history)
    assert client.get(f"/v1/residents/{rid}/events", headers=auth(console_keys["portal"])).status_code == 403


def test_report_route(client, console_keys):
    r = client.get("/v1/model/report", headers=auth(console_keys["trainer"]))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "trainer's report" in r.text and "<svg" in r.text
    assert client.get("/v1/model/report", headers=auth(console_keys["caseworker"])).status_code == 403


def test_docs_are_served_from_the_package(client):
    page = client.get("/docs").text
    assert "/docs/assets/swagger-ui-bundle.js" in page and "cdn" not in page
    assert "fonts.googleapis" not in client.get("/redoc").text
    bundle = client.get("/docs/assets/redoc.standalone.js")
    assert bundle.status_code == 200 and b"cdn.redoc.ly" not in bundle.content
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
