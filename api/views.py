"""What each role's answers may hold: one serialisation step at the API edge.

The engine returns everything it knows (``recommender.results``); this module decides, by the
caller's role, what leaves the API:

- ``full`` (caseworker, admin): every field -- reasons quoting the profile ("monthly income 1,200
  within limit 2,000"), exact distance, score contributions, the needs answered.
- ``portal`` (portal, and any other role): the list itself and nothing of the stored profile. No
  profile values in reasons (a fixed phrase per eligibility outcome), no distance (exact distances
  plus the public service coordinates locate a home to metres; even bands over a 50-item list
  locate 55 of 60 homes within 1 km, measured by bench/reliability.py), no score contributions
  (they expose the profile's bands), no needs map and no matched needs (they are the declared
  needs). The questions still open stay: they say which fact is missing, never a value.
- ``resident`` (a portal call bound to the signed-in resident by a resident token): the portal
  view plus the distance as a band (under 1 km, 1-3 km, 3-10 km, over 10 km) -- the resident's
  own information, shown to them.
"""
from __future__ import annotations

import math

from api.limits import ROLES
from recommender.results import RecommendationResult, Suggestion

FULL, PORTAL_VIEW, RESIDENT_VIEW = "full", "portal", "resident"
CASEWORKER, PORTAL, TRAINER, ADMIN = ROLES
VIEW_OF_ROLE = {CASEWORKER: FULL, ADMIN: FULL}

#: (upper bound in km, label); the last band has no upper bound
DISTANCE_BANDS = ((1.0, "under 1 km"), (3.0, "1-3 km"), (10.0, "3-10 km"), (math.inf, "over 10 km"))
PORTAL_REASONS = {"eligible": ["meets the service's listed conditions"],
                  "unknown": ["some of the service's conditions could not be checked"]}


def view_for(caller) -> str:
    if caller.role in VIEW_OF_ROLE:
        return VIEW_OF_ROLE[caller.role]
    return RESIDENT_VIEW if getattr(caller, "resident", None) is not None else PORTAL_VIEW


def distance_band(km: float | None) -> str | None:
    if km is None or (isinstance(km, float) and math.isnan(km)):
        return None
    return next(label for bound, label in DISTANCE_BANDS if km < bound)


def _full_item(s: Suggestion) -> dict:
    return {**vars(s), "distance_band": distance_band(s.distance_km)}


def _portal_sentence(s: Suggestion, band: str | None) -> str:
    if s.eligibility == "eligible":
        text = "Meets the service's listed conditions."
    else:
        text = "Eligibility to confirm: " + " ".join(s.questions or ["ask the service"]).rstrip(".?") + "?"
    return text + (f" {band[0].upper()}{band[1:]} away." if band else "")


def _portal_item(s: Suggestion, with_band: bool) -> dict:
    """Every field of the suggestion (the service's own facts: name, capacity, how to apply, ...)
    with the parts drawn from the profile replaced."""
    band = distance_band(s.distance_km) if with_band else None
    return {**vars(s), "needs": [], "reasons": PORTAL_REASONS.get(s.eligibility, []),
            "distance_km": None, "distance_band": band, "explanation": _portal_sentence(s, band),
            "contributions": []}


def present(result: RecommendationResult, view: str, request_id: str | None) -> dict:
    """The response body of a recommendation for ``view``; items and contributions stay
    dataclasses where they may (orjson serialises them natively)."""
    if view == FULL:
        items, needs = [_full_item(s) for s in result.items], result.needs
    else:
        items, needs = [_portal_item(s, view == RESIDENT_VIEW) for s in result.items], {}
    return {"request_id": request_id, "model_version": result.model_version,
            "resident_id": result.resident_id, "mode": result.mode, "items": items, "needs": needs}
