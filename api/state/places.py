"""Live capacity shared by both state backends: which events take or give back a place.

A ``referred`` or ``enrolled`` event takes a place at the service for that resident (once: an
enrolment after a referral holds the same place); a ``completed`` or ``declined`` one gives a held
place back. The backends keep, per service, the places taken since its capacity was last set
(``PATCH /v1/services/{id}``) and, per resident, the services where they hold a place and the
event ids already counted (so a replayed batch changes nothing).
"""
from __future__ import annotations

import math

from api.state import codec

TAKE, GIVE = 1, -1
_MOVES = {"referred": TAKE, "enrolled": TAKE, "completed": GIVE, "declined": GIVE}


def moves(events: list[dict]) -> list[tuple[str, str, str, int]]:
    """(event_id, resident_id, service_id, TAKE or GIVE) for the events that move a place, in order."""
    out = []
    # the batch is checked as add_events checks it (ids, JSON), then the service of each move
    for i, ((event_id, resident_id, _), event) in enumerate(zip(codec.encode_events(events), events)):
        move = _MOVES.get(event.get("event"))
        if move is None:
            continue
        service_id = codec.check_id(event.get("service_id"), f"event #{i} ({event_id}): service_id")
        out.append((event_id, resident_id, service_id, move))
    return out


def check_prices(prices: dict) -> dict[str, float]:
    """Shadow prices as service_id -> finite non-negative float; ValueError naming the service."""
    if not isinstance(prices, dict):
        raise ValueError(f"shadow prices must be a dict, got {type(prices).__name__}")
    out = {}
    for sid, value in prices.items():
        codec.check_id(sid, "shadow price service_id")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"shadow price of service {sid!r} must be a finite number >= 0, got {value!r}")
        out[sid] = float(value)
    return out
