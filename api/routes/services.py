"""The service catalogue with live overrides; PATCH changes status/capacity without retraining."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path, Query, Request

from api.auth import AuthorizedRoute
from api.context import ctx_of
from api.errors import responses
from api.models import ID_MAX, MAX_OFFSET, TEXT_MAX, Service, ServiceList, ServicePatch, StatusName
from recommender.schema import CODE_SEP

router = APIRouter(prefix="/v1/services", tags=["services"], route_class=AuthorizedRoute)

ServiceId = Path(..., min_length=1, max_length=ID_MAX)


def _apply(row: dict, override: dict | None) -> dict:
    if not override:
        return row
    out = dict(row)
    if "status" in override:
        out["status"] = override["status"]
    if "capacity" in override:
        out["capacity"] = override["capacity"]
    return out


def _in_category(categories: list[str], wanted: str) -> bool:
    return any(c == wanted or c.startswith(wanted + CODE_SEP) for c in categories)


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
    overrides = ctx.overrides.get()
    wanted = category.strip().lower() if category else None
    matches = []
    for sid, row in model.services.items():
        row = _apply(row, overrides.get(sid))
        if wanted and not _in_category(row["categories"], wanted):
            continue
        if status and row["status"] != status:
            continue
        matches.append(row)
    return {"total": len(matches), "offset": offset, "items": matches[offset:offset + limit]}


def _known(request: Request, service_id: str) -> dict:
    row = ctx_of(request).model.services.get(service_id)
    if row is None:
        raise HTTPException(404, f"service_id {service_id!r} is unknown")
    return row


@router.get("/{service_id}", response_model=Service, responses=responses(401, 403, 404, 422, 503),
            summary="One service (status and capacity as currently overridden)")
def get_service(request: Request, service_id: str = ServiceId) -> dict:
    row = _known(request, service_id)
    return _apply(row, ctx_of(request).overrides.get().get(service_id))


@router.patch("/{service_id}", response_model=Service,
              responses=responses(400, 401, 403, 404, 413, 422, 503),
              summary="Change a service's status or capacity on every replica at once")
def patch_service(request: Request, patch: ServicePatch, service_id: str = ServiceId) -> dict:
    row = _known(request, service_id)
    store = ctx_of(request).store
    merged = store.patch_service(service_id, patch.fields())
    if patch.capacity is not None:
        store.reset_places(service_id)  # the capacity given is the places open now
    return _apply(row, merged)
