"""The FastAPI application factory.

    app = create_app(Settings(models_dir="models/", keys_file="keys.toml"))
    app = create_app("models/", keys_file="keys.toml")          # the same: settings fields as keywords
    app = create_app("models/", redis_url="redis://127.0.0.1/0")  # shared state for replicas

Keywords that are ``Settings`` fields override the environment's values (``Settings.from_env``).
The model is loaded before the factory returns (a wrong models dir fails at start, not at the
first request). The background threads -- model refresher and audit writer -- run between the
app's start-up and shutdown (its lifespan), so an app that is never started leaves nothing running.
"""
from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from api import errors, heap
from api.audit import AuditLog
from api.capacity import CapacityView
from api.auth import KeyStore, add_security_to_openapi, check_routes
from api.context import AppContext, OverridesView, store_is_local
from api.hashing import Hasher, load_secret
from api.metrics import Metrics
from api.middleware import EdgeMiddleware
from api.model_watch import ModelHolder, Refresher, default_loader
from api.ratelimit import RateLimiter
from api.resident_tokens import ResidentTokens
from api.routes import allocations, audit, console, docs, events, health, model, recommendations, residents, services
from api.settings import Settings

log = logging.getLogger("servicematch.api")

DESCRIPTION = """\
Suggests public and social services to residents, from their needs, eligibility and place.

Authenticate with an API key: `Authorization: Bearer <key>` or `X-API-Key: <key>`. Each key has a
role (caseworker, portal, trainer, admin) that decides which routes it may call and what the
answers hold (a portal answer carries nothing of the stored profile); `/healthz`, `/readyz`,
`/metrics` and these docs need no key.
"""


def create_app(
    models_dir: str | os.PathLike | Settings | None = None,
    *,
    settings: Settings | None = None,
    store=None,
    loader=default_loader,
    **fields,
) -> FastAPI:
    """Build the app from ``settings`` (or ``Settings.from_env(models_dir=..., **fields)``).

    ``store``: a ``StateStore``; when None one is opened with ``api.state.open_store`` and closed
    at shutdown.
    """
    unknown = set(fields) - set(Settings.model_fields)
    if unknown:
        raise TypeError(f"create_app: unknown settings {sorted(unknown)}")
    if isinstance(models_dir, Settings):
        settings, models_dir = models_dir, None
    if settings is None:
        settings = Settings.from_env(models_dir=models_dir, **fields)
    elif fields or models_dir is not None:
        settings = settings.with_(**({"models_dir": Path(models_dir)} if models_dir else {}), **fields)
    models_dir = Path(settings.models_dir)
    if not models_dir.exists():
        raise FileNotFoundError(f"models directory {models_dir} does not exist")
    owns_store = store is None
    if owns_store:
        from api.state import open_store

        store = open_store(models_dir, redis_url=settings.redis_url)
    try:
        keys = KeyStore(settings.keys_file)
        metrics = Metrics(settings.metrics_dir)
        holder = ModelHolder(models_dir, loader=loader,
                             on_swap=lambda m: metrics.set_model_version(m.version))
        hasher = Hasher(load_secret(settings.secret_path))
        tokens = (ResidentTokens(settings.resident_token_key_file, settings.resident_token_algorithms,
                                 settings.resident_token_audience)
                  if settings.resident_token_key_file else None)
    except BaseException:
        if owns_store:
            store.close()
        raise
    offload = not store_is_local(store)
    audit_log = AuditLog(store, hasher, models_dir / "audit-spool", metrics=metrics,
                         max_pending=settings.audit_max_pending)
    refresher = Refresher(holder, store, metrics, interval=settings.refresh_interval)
    ctx = AppContext(settings=settings, holder=holder, store=store, audit=audit_log, metrics=metrics,
                     overrides=OverridesView(store), hasher=hasher, keys=keys, refresher=refresher,
                     offload=offload, capacity=CapacityView(store))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        heap.freeze()  # the model and the app, loaded: out of the full collections from now on
        audit_log.start()
        refresher.start()
        try:
            yield
        finally:
            refresher.stop()
            audit_log.stop()
            heap.release()
            metrics.close()
            if owns_store:
                store.close()

    app = FastAPI(title="servicematch", version="1", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)  # served offline by api.routes.docs
    app.state.ctx = ctx
    app.state.keys = keys
    app.state.resident_tokens = tokens
    app.state.limiter = RateLimiter(store, per_second=settings.rate_limit_per_key,
                                    events_per_minute=settings.events_per_key_per_minute,
                                    offload=offload)
    for module in (recommendations, residents, events, services, model, audit, health, allocations):
        app.include_router(module.router)
    console.install(app)
    docs.install(app)
    check_routes(app)
    add_security_to_openapi(app)
    errors.install(app)
    app.add_middleware(EdgeMiddleware, metrics=metrics, max_body=settings.max_body)
    return app
