"""The model being served: what it is, and reloading it on demand (trainers and admins)."""
from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request

from api.auth import AuthorizedRoute
from api.context import ctx_of
from api.errors import responses
from api.model_watch import safe_error
from api.models import ModelInfo, ReloadResult
from api.state.base import StateUnavailable

router = APIRouter(prefix="/v1/model", tags=["model"], route_class=AuthorizedRoute)
log = logging.getLogger("servicematch.model")


@router.get("", response_model=ModelInfo, responses=responses(401, 403),
            summary="Version, training time and evaluation metrics of the model being served")
def model_info(request: Request) -> dict:
    model = ctx_of(request).model
    return {"version": model.version, "trained_at": model.trained_at, "loaded_at": model.loaded_at,
            "services": len(model.services), "metrics": model.metrics}


@router.post("/reload", response_model=ReloadResult, responses=responses(401, 403, 409),
             summary="Load the model models/CURRENT points to and tell the other replicas")
def reload_model(request: Request) -> dict:
    # A sync route: loading takes a while and runs in the thread pool while requests go on being
    # served by the previous model.
    ctx = ctx_of(request)
    try:
        previous, new = ctx.holder.reload()
    except Exception as exc:  # noqa: BLE001 -- a broken model on disk is a conflict, not a crash
        ctx.metrics.model_reloads.labels("failed").inc()
        reason = safe_error(exc, ctx.holder.models_dir)
        log.error("model reload failed: %s", reason)
        raise HTTPException(409, f"reload failed: {reason}; still serving {ctx.model.version}") from None
    ctx.metrics.model_reloads.labels("ok").inc()
    try:
        ctx.store.publish_model_version(new.version)
        published = True
    except StateUnavailable:
        published = False  # the others still see models/CURRENT change by themselves
    return {"previous_version": previous.version, "version": new.version,
            "changed": previous.version != new.version, "published": published}
