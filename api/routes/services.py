"""The service catalogue with live overrides; PATCH changes status/capacity without retraining."""
from __future__ import annotations

import math

import numpy as np
from fastapi import APIRouter, HTTPException, Path, Query, Request

from api.auth import AuthorizedRoute
from api.context import ctx_of
from api.errors import responses
from api.limits import ID_MAX, MAX_OFFSET, TEXT_MAX
from api.models import Service, ServiceList, ServicePatch, StatusName

router = APIRouter(prefix="/v1/services", tags=["services"], route_class=AuthorizedRoute)

ServiceId = Path(..., min_length=1, max_length=ID_MAX)


def _live(model, overrides: dict, indices) -> list[dict]:
    """Catalogue rows with status and capacity as the catalogue applies overrides for ranking
    (``ServiceCatalog.with_overrides``: the one place they are interpreted)."""
    catalog = model.rec.catalog
    status, capacity = catalog.with_overrides(overrides)
    rows = []
    for i in indices:
        row = dict(model.services[catalog.ids[i]])
        row["status"] = str(status[i])
        row["capacity"] = None if math.isnan(capacity[i]) else int(capacity[i])
        rows.append(row)
    return rows


@router.get("", response_model=ServiceList, responses=responses(401, 403, 422, 503),
            summary="List services (status and capacity as currently overridden)")
def list_services(
    request: Request,
    category: str | None = Query(None, min_length=1, max_length=TEXT_MAX,
                                 description="only this category and its sub-categories"),
    status: StatusName | None = Query(None),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict:
    ctx = ctx_of(request)
    model = ctx.model
    catalog = model.rec.catalog
    live_status, _ = catalog.with_overrides(ctx.overrides.get())
    # Through the taxonomy, as recommendations filter: a term and every descendant, whatever
    # the codes look like (an imported 211 taxonomy's 101-02-01 is a child of 101-02).
    mask = catalog.answers(category) if category else np.ones(len(catalog), dtype=bool)
    if status:
        mask = mask & (live_status == status)
    matches = np.flatnonzero(mask)
    page = matches[offset:offset + limit]
    return {"total": int(len(matches)), "offset": offset,
            "items": _live(model, ctx.overrides.get(), page)}


def _known(request: Request, service_id: str) -> dict:
    row = ctx_of(request).model.services.get(service_id)
    if row is None:
        raise HTTPException(404, f"service_id {service_id!r} is unknown")
    return row


@router.get("/{service_id}", response_model=Service, responses=responses(401, 403, 404, 422, 503),
            summary="One service (status and capacity as currently overridden)")
def get_service(request: Request, service_id: str = ServiceId) -> dict:
    _known(request, service_id)
    model = ctx_of(request).model
    return _live(model, ctx_of(request).overrides.get(), [model.rec.catalog.index[service_id]])[0]


@router.patch("/{service_id}", response_model=Service,
              responses=responses(400, 401, 403, 404, 413, 422, 503),
              summary="Change a service's status or capacity on every replica at once")
def patch_service(request: Request, patch: ServicePatch, service_id: str = ServiceId) -> dict:
    _known(request, service_id)
    model = ctx_of(request).model
    store = ctx_of(request).store
    merged = store.patch_service(service_id, patch.fields())
    if patch.capacity is not None:
        store.reset_places(service_id)  # the capacity given is the places open now
    return _live(model, {service_id: merged}, [model.rec.catalog.index[service_id]])[0]
