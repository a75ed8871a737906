"""The one events exporter: ``GET /v1/events/export`` and ``servicematch export-events`` both write
these columns -- the interactions table of the data contract plus ``event_id`` (extra columns are
ignored by the loader; keeping it lets a re-import stay idempotent) -- with full ISO 8601 UTC
timestamps (sub-second parts kept)."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Iterable, Iterator

from recommender.schema import INTERACTION_REQUIRED

EXPORT_COLUMNS = (*INTERACTION_REQUIRED, "event", "timestamp", "event_id")
CHUNK = 1000


def iso_time(ts) -> str:
    """Epoch seconds as ISO 8601 UTC, to the microsecond when the time has a fraction."""
    moment = datetime.fromtimestamp(float(ts), tz=timezone.utc)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def row(event: dict) -> list:
    return [event["resident_id"], event["service_id"], event["event"], iso_time(event["timestamp"]),
            event["event_id"]]


def csv_chunks(events: Iterable[dict]) -> Iterator[str]:
    """The CSV text in chunks of ``CHUNK`` rows, header first."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for n, event in enumerate(events, 1):
        writer.writerow(row(event))
        if n % CHUNK == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()
