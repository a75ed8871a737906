"""Feedback events in (batches, idempotent, acknowledged only once durable) and out (CSV export)."""
from __future__ import annotations

import itertools

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse

from api.auth import AuthorizedRoute
from api.context import ctx_of
from api.errors import responses
from api.event_export import EXPORT_COLUMNS, csv_chunks
from api.models import EventBatch, EventsAccepted

router = APIRouter(prefix="/v1/events", tags=["events"], route_class=AuthorizedRoute)


def _problem(i: int, field: str, kind: str, msg: str) -> dict:
    return {"type": kind, "loc": ("body", "events", i, field), "msg": msg, "input": None}


@router.post("", response_model=EventsAccepted,
             responses=responses(400, 401, 403, 413, 422, 429, 503),
             summary="Record a batch of feedback events (idempotent by event_id)")
def post_events(request: Request, batch: EventBatch) -> dict:
    # A sync route (thread pool): the store makes the batch durable before returning.
    ctx = ctx_of(request)
    caller = request.state.caller
    for e in batch.events:
        caller.may_see(e.resident_id)
    request.app.state.limiter.events(caller.key_id, len(batch.events))
    services = ctx.model.services
    problems = [_problem(i, "service_id", "unknown_service", f"unknown service_id {e.service_id!r}")
                for i, e in enumerate(batch.events) if e.service_id not in services]
    # Residents: known (stored profile or in the model), not erased, under the per-resident cap.
    ids = list(dict.fromkeys(e.resident_id for e in batch.events))
    facts = ctx.store.resident_facts(ids, {r: ctx.hasher.resident(r) for r in ids})
    rec = ctx.model.rec
    cap = ctx.settings.max_events_per_resident
    new = {r: 0 for r in ids}
    for i, e in enumerate(batch.events):
        f = facts[e.resident_id]
        new[e.resident_id] += 1
        if f["erased"]:
            problems.append(_problem(i, "resident_id", "erased_resident",
                                     f"resident_id {e.resident_id!r} was erased; events for it are refused"))
        elif not f["profile"] and rec.resident_profile(e.resident_id) is None:
            problems.append(_problem(i, "resident_id", "unknown_resident",
                                     f"unknown resident_id {e.resident_id!r}: store a profile first "
                                     "(PUT /v1/residents/{id})"))
        elif f["events"] + new[e.resident_id] > cap:
            problems.append(_problem(i, "resident_id", "too_many_events",
                                     f"resident_id {e.resident_id!r} has reached the limit of "
                                     f"{cap:,} stored events (max_events_per_resident)"))
    if problems:
        raise RequestValidationError(problems)
    events = [e.model_dump() for e in batch.events]
    accepted, duplicates = ctx.store.add_events(events)
    ctx.store.record_places(events)  # idempotent by event_id, so a retried batch is safe
    ctx.metrics.events_accepted.inc(accepted)
    ctx.metrics.events_duplicate.inc(duplicates)
    return {"accepted": accepted, "duplicates": duplicates}


@router.get("/export", responses={
    200: {"content": {"text/csv": {"example": ",".join(EXPORT_COLUMNS) + "\n"
                                              "r000042,s0107,enrolled,2025-01-05T10:30:00Z,e-1\n"}},
          "description": "every stored event, in the interactions CSV format"},
    **responses(401, 403, 429, 503)},
    response_class=StreamingResponse, summary="Export stored events as an interactions CSV")
def export_events(request: Request) -> StreamingResponse:
    events = iter(ctx_of(request).store.iter_events())
    # Pull the first row now: an unreachable store is a 503 here, not a truncated 200.
    first = next(events, None)
    rows = itertools.chain([first] if first is not None else [], events)
    return StreamingResponse(csv_chunks(rows), media_type="text/csv",
                             headers={"Content-Disposition": 'attachment; filename="interactions.csv"'})
