"""The edge middleware on its own: the last-resort 500, body limits, request ids."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request

from api import errors
from api.metrics import Metrics
from api.middleware import EdgeMiddleware

from .conftest import LiveServer


def edge_app(max_body: int = 1 << 20) -> FastAPI:
    app = FastAPI()

    @app.post("/boom")
    async def boom(request: Request):
        body = await request.body()
        raise RuntimeError(f"could not handle {body!r}")  # a message quoting request data

    @app.post("/echo-size")
    async def echo_size(request: Request):
        return {"size": len(await request.body())}

    errors.install(app)
    app.add_middleware(EdgeMiddleware, metrics=Metrics(), max_body=max_body)
    return app


def test_an_unhandled_exception_is_a_500_with_request_id_and_a_bodyless_log(caplog):
    caplog.set_level(logging.ERROR, logger="servicematch.error")
    with LiveServer(edge_app()) as server, server.client() as c:
        r = c.post("/boom", json={"profile": {"district": "zq-body-value-8812"}})
        assert r.status_code == 500
        assert r.json()["request_id"] == r.headers["x-request-id"]
        assert "zq-body-value" not in r.text
        assert c.post("/echo-size", content=b"abc").json() == {"size": 3}  # still serving
    logged = [rec for rec in caplog.records if rec.name == "servicematch.error"]
    assert len(logged) == 1
    message = logged[0].getMessage()
    assert "RuntimeError" in message and "boom" in message and r.json()["request_id"] in message
    assert "zq-body-value" not in message  # the traceback's frames, not the exception's message


def test_body_limit_counts_what_arrives():
    with LiveServer(edge_app(max_body=1000)) as server, server.client() as c:
        assert c.post("/echo-size", content=b"x" * 1000).json() == {"size": 1000}
        assert c.post("/echo-size", content=b"x" * 1001).status_code == 413
        r = c.post("/echo-size", content=iter([b"x" * 600, b"x" * 600]))  # chunked, no length
        assert r.status_code == 413 and "1000 bytes" in r.json()["detail"]


def test_request_ids_are_unique():
    with LiveServer(edge_app()) as server, server.client() as c:
        ids = {c.post("/echo-size").headers["x-request-id"] for _ in range(50)}
    assert len(ids) == 50 and all(len(i) == 32 for i in ids)
