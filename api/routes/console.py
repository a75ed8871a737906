"""The caseworker console and the trainer's report, served by the API itself (no second server).

- ``GET /`` redirects to ``/console``.
- ``GET /console`` and ``GET /console/models``: one static page (HTML, vanilla JS, CSS from
  ``api/static/console/``, package data). The page holds no secret and needs no key: it asks the
  user for one, keeps it in ``sessionStorage`` (this tab only) and calls the ``/v1`` API with it,
  so every figure it shows went through the same role checks as any other client.
- ``GET /v1/whoami``: the caller's role, so the page shows only what that role may do.
- ``GET /v1/residents/{id}/events``: a resident's history (events recorded through the API, and the
  services the model saw them use in training) for the console's resident view.
- ``GET /v1/model/report``: the trainer's report (``training.report``) of this models directory.
"""
from __future__ import annotations

from pathlib import Path as FsPath
from typing import Literal

from fastapi import APIRouter, FastAPI, HTTPException, Path, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict

from api.auth import ROLES, AuthorizedRoute
from api.context import ctx_of, json_response
from api.errors import responses
from api.models import ID_MAX

STATIC_DIR = FsPath(__file__).resolve().parent.parent / "static" / "console"

#: The pages load nothing from another origin and may not be framed by one. Inline style is allowed
#: for the report (its own <style> and SVG attributes), shown in a sandboxed frame without scripts.
PAGE_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                "img-src 'self' data:; connect-src 'self'; frame-src 'self'; "
                                "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


class WhoAmI(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"role": "caseworker"}]})

    role: Literal[ROLES]


class HistoryEvent(BaseModel):
    event_id: str
    resident_id: str
    service_id: str
    event: str
    timestamp: float
    name: str | None


class UsedService(BaseModel):
    service_id: str
    name: str | None


class ResidentHistory(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "resident_id": "r000042",
        "events": [{"event_id": "e-2025-000001", "resident_id": "r000042", "service_id": "s0107",
                    "event": "referred", "timestamp": 1736073000.0, "name": "Eastside Senior Pantry"}],
        "training_history": [{"service_id": "s0031", "name": "Westside Community Clinic"}]}]})

    resident_id: str
    events: list[HistoryEvent]
    training_history: list[UsedService]


REPORT_EXAMPLE = "<!doctype html>\n<html lang=\"en\"><head><title>servicematch models report</title>..."

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/v1", tags=["console"], route_class=AuthorizedRoute)


def _page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


@pages.get("/console")
def console_page() -> FileResponse:
    return _page()


@pages.get("/console/models")
def models_page() -> FileResponse:
    # The same page opens on the models view; the report itself comes from /v1/model/report.
    return _page()


@api.get("/whoami", response_model=WhoAmI, responses=responses(401), summary="The role of the calling key")
async def whoami(request: Request):
    return json_response({"role": request.state.caller.role})


@api.get("/residents/{resident_id}/events", response_model=ResidentHistory,
         responses=responses(401, 403, 404, 422, 503),
         summary="A resident's history: events recorded through the API and services used in training")
def resident_history(request: Request, resident_id: str = Path(..., min_length=1, max_length=ID_MAX)):
    ctx = ctx_of(request)
    events = ctx.store.resident_events(resident_id)
    rec = ctx.model.rec
    trained = rec.training_history(resident_id)
    if not events and not rec.knows(resident_id) and ctx.store.get_profile(resident_id) is None:
        raise HTTPException(404, f"resident_id {resident_id!r} is unknown")
    names = {sid: (rec.service(sid) or {}).get("name") for sid in {e["service_id"] for e in events} | set(trained)}
    return json_response({
        "resident_id": resident_id,
        "events": [{**e, "name": names.get(e["service_id"])} for e in
                   sorted(events, key=lambda e: e["timestamp"], reverse=True)],
        "training_history": [{"service_id": sid, "name": names.get(sid)} for sid in trained],
    })


@api.get("/model/report", response_class=HTMLResponse, responses={
    200: {"content": {"text/html": {"example": REPORT_EXAMPLE}}, "description": "one self-contained HTML page"},
    **responses(401, 403)},
         summary="The trainer's report: every model version's metrics over time, as one HTML page")
def model_report(request: Request) -> HTMLResponse:
    from training.report import render_report  # the report's code lives with the training code

    return HTMLResponse(render_report(ctx_of(request).holder.models_dir),
                        headers={"Cache-Control": "no-store"})


async def _to_console(request) -> RedirectResponse:
    return RedirectResponse("/console", status_code=307)


def install(app: FastAPI) -> None:
    # "/" is where a person types the address: send them to the console (a plain route, no key).
    app.router.add_route("/", _to_console, include_in_schema=False)
    app.include_router(pages)
    app.include_router(api)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
