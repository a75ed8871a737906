"""The FastAPI application factory.

    app = create_app("models/", keys_file="keys.toml")            # SQLite state beside the models
    app = create_app("models/", redis_url="redis://127.0.0.1/0")  # shared state for replicas

The model is loaded before the factory returns (a wrong models dir fails at start, not at the first
request). The background threads -- model/keys refresher and audit writer -- run between the app's
start-up and shutdown (its lifespan), so an app that is never started leaves nothing running.
"""
from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from api import errors
from api.audit import AuditLog
from api.auth import KeyStore, add_security_to_openapi, check_routes
from api.context import AppContext, OverridesView, store_is_local
from api.metrics import Metrics
from api.middleware import MAX_BODY, EdgeMiddleware
from api.model_watch import ModelHolder, Refresher, default_loader
from api.routes import audit, console, docs, events, health, model, recommendations, residents, services

log = logging.getLogger("servicematch.api")

DESCRIPTION = """\
Suggests public and social services to residents, from their needs, eligibility and place.

Authenticate with an API key: `Authorization: Bearer <key>` or `X-API-Key: <key>`. Each key has a
role (caseworker, portal, trainer, admin) that decides which routes it may call; `/healthz`,
`/readyz`, `/metrics` and these docs need no key.
"""


def cache_enabled_from_env() -> bool:
    return os.environ.get("SERVICEMATCH_CACHE", "on").strip().lower() not in {"off", "0", "false", "no"}


def create_app(
    models_dir: str | os.PathLike,
    *,
    store=None,
    keys_file: str | os.PathLike | None = None,
    redis_url: str | None = None,
    cache: bool | None = None,
    refresh_interval: float = 2.0,
    audit_interval: float = 0.2,
    audit_max_pending: int = 10_000,
    max_body: int = MAX_BODY,
    loader=default_loader,
) -> FastAPI:
    """Build the app.

    ``store``: a ``StateStore``; when None one is opened with ``api.state.open_store(models_dir,
    redis_url)`` (``redis_url`` defaults to ``$REDIS_URL``) and closed at shutdown. ``keys_file``:
    the API keys (None: every protected route answers 401). ``cache``: the recommendation cache
    (None: on unless ``SERVICEMATCH_CACHE=off``). ``audit_max_pending``: served lists whose audit
    entries may wait for an unreachable store before lists are refused (503).
    """
    models_dir = Path(models_dir)
    if not models_dir.exists():
        raise FileNotFoundError(f"models directory {models_dir} does not exist")
    owns_store = store is None
    if owns_store:
        from api.state import open_store

        store = open_store(models_dir, redis_url=redis_url or os.environ.get("REDIS_URL") or None)
    try:
        keys = KeyStore(keys_file)
        metrics = Metrics()
        holder = ModelHolder(models_dir, loader=loader,
                             on_swap=lambda m: metrics.set_model_version(m.version))
    except BaseException:
        if owns_store:
            store.close()
        raise
    audit_log = AuditLog(store, metrics=metrics, interval=audit_interval, max_pending=audit_max_pending,
                         high_water=min(1_000, audit_max_pending // 2))
    refresher = Refresher(holder, store, keys, metrics, interval=refresh_interval)
    ctx = AppContext(holder=holder, store=store, audit=audit_log, metrics=metrics,
                     overrides=OverridesView(store),
                     cache_enabled=cache_enabled_from_env() if cache is None else cache,
                     offload=not store_is_local(store))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        audit_log.start()
        refresher.start()
        try:
            yield
        finally:
            refresher.stop()
            audit_log.stop()
            metrics.close()
            if owns_store:
                store.close()

    app = FastAPI(title="servicematch", version="1", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)  # served offline by api.routes.docs
    app.state.ctx = ctx
    app.state.keys = keys
    for module in (recommendations, residents, events, services, model, audit, health):
        app.include_router(module.router)
    console.install(app)
    docs.install(app)
    check_routes(app)
    add_security_to_openapi(app)
    errors.install(app)
    app.add_middleware(EdgeMiddleware, metrics=metrics, max_body=max_body)
    return app
