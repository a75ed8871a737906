"""Feedback events in (batches, idempotent, acknowledged only once durable) and out (CSV export)."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Iterator

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse

from api.auth import AuthorizedRoute
from api.context import ctx_of
from api.errors import responses
from api.models import EventBatch, EventsAccepted
from recommender.schema import INTERACTION_REQUIRED

router = APIRouter(prefix="/v1/events", tags=["events"], route_class=AuthorizedRoute)

#: The interactions table of the data contract, plus event_id (extra columns are ignored by the
#: loader; keeping it lets a re-import stay idempotent).
EXPORT_COLUMNS = (*INTERACTION_REQUIRED, "event", "timestamp", "event_id")
EXPORT_CHUNK = 1000


@router.post("", response_model=EventsAccepted, responses=responses(400, 401, 403, 413, 422, 503),
             summary="Record a batch of feedback events (idempotent by event_id)")
def post_events(request: Request, batch: EventBatch) -> dict:
    # A sync route (thread pool): the store makes the batch durable before returning.
    ctx = ctx_of(request)
    services = ctx.model.services
    unknown = [
        {"type": "unknown_service", "loc": ("body", "events", i, "service_id"),
         "msg": f"unknown service_id {e.service_id!r}", "input": None}
        for i, e in enumerate(batch.events) if e.service_id not in services
    ]
    if unknown:
        raise RequestValidationError(unknown)
    events = [e.model_dump() for e in batch.events]
    accepted, duplicates = ctx.store.add_events(events)
    ctx.store.record_places(events)  # idempotent by event_id, so a retried batch is safe
    ctx.metrics.events_accepted.inc(accepted)
    ctx.metrics.events_duplicate.inc(duplicates)
    return {"accepted": accepted, "duplicates": duplicates}


def _iso(ts) -> str:
    return datetime.fromtimestamp(float(ts), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _csv_chunks(first: dict | None, rest: Iterator[dict]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    n = 0

    def rows():
        if first is not None:
            yield first
        yield from rest
    for event in rows():
        writer.writerow([event["resident_id"], event["service_id"], event["event"],
                         _iso(event["timestamp"]), event["event_id"]])
        n += 1
        if n % EXPORT_CHUNK == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


@router.get("/export", responses={
    200: {"content": {"text/csv": {"example": "resident_id,service_id,event,timestamp,event_id\n"
                                              "r000042,s0107,enrolled,2025-01-05T10:30:00Z,e-1\n"}},
          "description": "every stored event, in the interactions CSV format"},
    **responses(401, 403, 503)},
    response_class=StreamingResponse, summary="Export stored events as an interactions CSV")
def export_events(request: Request) -> StreamingResponse:
    events = iter(ctx_of(request).store.iter_events())
    # Pull the first row now: an unreachable store is a 503 here, not a truncated 200.
    first = next(events, None)
    return StreamingResponse(_csv_chunks(first, events), media_type="text/csv",
                             headers={"Content-Disposition": 'attachment; filename="interactions.csv"'})
