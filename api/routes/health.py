"""Probes and metrics: no API key needed."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.context import ctx_of, json_response
from api.models import Health, Readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Response:
    return json_response({"status": "ok"})


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "model missing or store unreachable"}},
            summary="A model is loaded and the state store answers")
def readyz(request: Request) -> Response:
    ctx = ctx_of(request)
    model = ctx.holder.current
    try:
        store_ok = bool(ctx.store.ping())
    except Exception:  # noqa: BLE001 -- any failure to answer is "not ready"
        store_ok = False
    ready = model is not None and store_ok
    return json_response({"status": "ready" if ready else "not ready",
                          "model_version": model.version if model else None, "store": store_ok},
                         status=200 if ready else 503)


@router.get("/metrics", response_class=Response, summary="Prometheus metrics",
            responses={200: {"content": {"text/plain": {"example": "servicematch_model_info{version=\"v1\"} 1.0\n"}},
                             "description": "Prometheus text format"}})
def metrics(request: Request) -> Response:
    m = ctx_of(request).metrics
    return Response(m.render(), media_type=m.content_type)
