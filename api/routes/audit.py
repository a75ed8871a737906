"""The audit log of served lists (admins only)."""
from __future__ import annotations

from fastapi import APIRouter, Query, Request

from api.auth import AuthorizedRoute
from api.context import ctx_of
from api.errors import responses
from api.models import MAX_OFFSET, AuditPage

router = APIRouter(prefix="/v1/audit", tags=["audit"], route_class=AuthorizedRoute)


@router.get("", response_model=AuditPage, responses=responses(401, 403, 422, 503),
            summary="Served lists, newest first: key id, resident id or profile hash, returned ids")
def audit_log(request: Request, limit: int = Query(100, ge=1, le=1000),
              offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> dict:
    ctx = ctx_of(request)
    ctx.audit.flush()  # what this replica served so far is in the answer
    return {"offset": offset, "items": ctx.store.audit_entries(limit=limit, offset=offset)}
