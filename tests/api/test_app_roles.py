"""The route x role matrix, tested whole: every row of api.auth.PERMISSIONS x every role (and no key)."""
from __future__ import annotations

import shutil

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import INLINE_PROFILE, PERMISSIONS, ROLES, AuthorizedRoute, check_routes, matrix_markdown
from api.keys import add_key, revoke_key

from .conftest import auth, make_models_dir, wait_until

PROFILE = {"age": 30, "needs": ["food"]}
EVENT = {"event_id": "role-test", "resident_id": "R000042", "service_id": "S00001",
         "event": "viewed", "timestamp": 1700000000}

#: One well-formed request per row of the matrix: what an allowed role must not be refused.
REQUESTS = {
    "POST /v1/recommendations": ("POST", "/v1/recommendations", {"resident_id": "R000042", "k": 3}),
    INLINE_PROFILE: ("POST", "/v1/recommendations", {"profile": PROFILE, "k": 3}),
    "GET /v1/residents/{resident_id}/recommendations": ("GET", "/v1/residents/R000042/recommendations", None),
    "PUT /v1/residents/{resident_id}": ("PUT", "/v1/residents/role-test", PROFILE),
    "GET /v1/residents/{resident_id}": ("GET", "/v1/residents/R000042", None),
    "DELETE /v1/residents/{resident_id}": ("DELETE", "/v1/residents/role-test", None),
    "POST /v1/events": ("POST", "/v1/events", {"events": [EVENT]}),
    "GET /v1/events/export": ("GET", "/v1/events/export", None),
    "GET /v1/services": ("GET", "/v1/services", None),
    "GET /v1/services/{service_id}": ("GET", "/v1/services/S00001", None),
    "PATCH /v1/services/{service_id}": ("PATCH", "/v1/services/S00001", {"capacity": 5}),
    "GET /v1/model": ("GET", "/v1/model", None),
    "POST /v1/model/reload": ("POST", "/v1/model/reload", None),
    "GET /v1/audit": ("GET", "/v1/audit", None),
    "POST /v1/allocations": ("POST", "/v1/allocations", {"residents": [{"profile": PROFILE}]}),
    "GET /v1/whoami": ("GET", "/v1/whoami", None),
    "GET /v1/residents/{resident_id}/events": ("GET", "/v1/residents/R000042/events", None),
    "GET /v1/model/report": ("GET", "/v1/model/report", None),
}


@pytest.fixture(scope="module")
def client(trained, api_keys, tmp_path_factory):
    models = make_models_dir(trained, tmp_path_factory.mktemp("roles") / "models")
    app = create_app(models, keys_file=api_keys["file"])
    with TestClient(app) as c:
        yield c


def test_every_matrix_row_has_a_request_here():
    assert set(REQUESTS) == set(PERMISSIONS)


@pytest.mark.parametrize("role", [*ROLES, None])
@pytest.mark.parametrize("action", list(PERMISSIONS))
def test_route_x_role(client, api_keys, action, role):
    method, url, body = REQUESTS[action]
    headers = auth(api_keys[role]) if role else {}
    r = client.request(method, url, json=body, headers=headers)
    if role is None:
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    elif role in PERMISSIONS[action]:
        assert r.status_code < 400, (action, role, r.status_code, r.text)
    else:
        assert r.status_code == 403, (action, role, r.status_code, r.text)
        assert role in r.json()["detail"]


def test_x_api_key_header_and_bad_keys(client, api_keys):
    assert client.get("/v1/model", headers={"X-API-Key": api_keys["trainer"]}).status_code == 200
    assert client.get("/v1/model", headers={"X-API-Key": api_keys["portal"]}).status_code == 403
    for bad in ("nope", api_keys["trainer"][:-2] + "xx", "sm_0123_abc", ""):
        r = client.get("/v1/model", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401, bad
    assert client.get("/v1/model", headers={"Authorization": "Basic abc"}).status_code == 401


def test_keys_added_or_revoked_take_effect_without_restart(trained, api_keys, tmp_path):
    keys = tmp_path / "keys.toml"
    shutil.copy(api_keys["file"], keys)
    app = create_app(make_models_dir(trained, tmp_path / "models"), keys_file=keys, refresh_interval=0.05)
    with TestClient(app) as c:
        key_id, token = add_key(keys, "trainer")
        assert wait_until(lambda: c.get("/v1/model", headers=auth(token)).status_code == 200)
        revoke_key(keys, key_id)
        assert wait_until(lambda: c.get("/v1/model", headers=auth(token)).status_code == 401)


def test_no_keys_file_means_no_access(trained, tmp_path):
    app = create_app(make_models_dir(trained, tmp_path / "models"))
    with TestClient(app) as c:
        assert c.get("/v1/services", headers=auth("sm_abc_def")).status_code == 401
        assert c.get("/healthz").status_code == 200


def test_a_route_missing_from_the_matrix_cannot_be_built():
    router = APIRouter(route_class=AuthorizedRoute)
    with pytest.raises(RuntimeError, match="no row in api.auth.PERMISSIONS"):
        router.add_api_route("/v1/secret", lambda: {}, methods=["GET"])
    app = FastAPI()
    app.add_api_route("/v1/open", lambda: {}, methods=["GET"])  # a plain route under /v1
    with pytest.raises(RuntimeError, match="neither public nor checked"):
        check_routes(app)


def test_matrix_markdown_lists_every_row():
    table = matrix_markdown()
    for action, roles in PERMISSIONS.items():
        line = next(l for l in table.splitlines() if f"`{action}`" in l)
        cells = [c.strip() for c in line.strip("|").split("|")[1:]]
        assert cells == ["yes" if r in roles else "-" for r in ROLES]
