"""Probes and metrics: no API key needed."""
from __future__ import annotations

import shutil

from fastapi import APIRouter, Request, Response

from api.context import ctx_of, json_response
from api.models import Health, Readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Response:
    return json_response({"status": "ok"})


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": Readiness,
                             "description": "not ready; `reasons` says why (store, keys, disk, model)"}},
            summary="A model is loaded, the state store answers, the keys file is usable, the disk has room")
def readyz(request: Request) -> Response:
    ctx = ctx_of(request)
    model = ctx.holder.current
    reasons = []
    try:
        store_ok = bool(ctx.store.ping())
    except Exception:  # noqa: BLE001 -- any failure to answer is "not ready"
        store_ok = False
    if not store_ok:
        reasons.append("state store unreachable")
    if ctx.keys.error:
        reasons.append(ctx.keys.error)
    try:
        free = shutil.disk_usage(ctx.settings.models_dir).free
    except OSError:
        free = 0
    if free < ctx.settings.min_free_bytes:
        reasons.append(f"disk nearly full: {free:,} bytes free beside the models, "
                       f"{ctx.settings.min_free_bytes:,} needed (min_free_bytes)")
    ready = model is not None and not reasons
    if ctx.refresher.last_error:  # still serving the previous model: worth saying, not fatal
        reasons.append(f"last model reload failed: {ctx.refresher.last_error}")
    return json_response({"status": "ready" if ready else "not ready",
                          "model_version": model.version if model else None, "store": store_ok,
                          "reasons": reasons},
                         status=200 if ready else 503)


@router.get("/metrics", response_class=Response, summary="Prometheus metrics",
            responses={200: {"content": {"text/plain": {"example": "servicematch_model_info{version=\"v1\"} 1.0\n"}},
                             "description": "Prometheus text format"}})
def metrics(request: Request) -> Response:
    m = ctx_of(request).metrics
    return Response(m.render(), media_type=m.content_type)
