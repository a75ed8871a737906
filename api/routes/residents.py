"""Resident profiles: set, read, erase (caseworkers and admins; the portal never reads a raw profile).

Erasure is final for that id: the profile, events and cached answers go, the bytes are purged
from disk, and a tombstone (a keyed hash of the id) makes every replica treat the id as unknown --
the model's training copy included -- and refuse later events or profiles for it. The next
``servicematch train`` leaves the resident out (``training.erasure``).
"""
from __future__ import annotations

import math

from fastapi import APIRouter, Body, HTTPException, Path, Request

from api.auth import AuthorizedRoute
from api.context import ctx_of
from api.errors import responses
from api.limits import ID_MAX
from api.models import DeleteResponse, ProfileResponse, ResidentProfile
from recommender.profile import Profile

router = APIRouter(prefix="/v1/residents", tags=["residents"], route_class=AuthorizedRoute)

ResidentId = Path(..., min_length=1, max_length=ID_MAX)


def _plain(profile: dict) -> dict:
    """A training-data profile as JSON: numpy scalars unwrapped, empty cells left out."""
    out = {}
    for key, value in profile.items():
        if hasattr(value, "item") and not isinstance(value, (list, dict)):
            value = value.item()
        if value is None or value == "" or value == [] or (isinstance(value, float) and math.isnan(value)):
            continue
        if key == "resident_id":
            continue
        out[str(key)] = value
    return out


@router.put("/{resident_id}", response_model=ProfileResponse,
            responses=responses(400, 401, 403, 410, 413, 422, 429, 503),
            summary="Store (replace) a resident's profile")
def put_profile(request: Request, resident_id: str = ResidentId,
                profile: ResidentProfile = Body(...)) -> dict:
    data = profile.to_contract()
    # the library's checks (field names, language codes, lat/lon pairs): ValueError -> 422
    ctx = ctx_of(request)
    Profile.from_dict(data, extra_columns=ctx.model.rec.featurizer.extra_values_)
    if ctx.erased(resident_id):
        raise HTTPException(410, f"resident_id {resident_id!r} was erased; a returning resident "
                                 "gets a new id")
    ctx.store.put_profile(resident_id, data)
    return {"resident_id": resident_id, "source": "store", "profile": data}


@router.get("/{resident_id}", response_model=ProfileResponse,
            responses=responses(401, 403, 404, 422, 503),
            summary="Read a resident's profile (stored, else the model's training profile)")
def get_profile(request: Request, resident_id: str = ResidentId) -> dict:
    ctx = ctx_of(request)
    if ctx.erased(resident_id):
        raise HTTPException(404, f"resident_id {resident_id!r} is unknown")
    stored = ctx.store.get_profile(resident_id)
    if stored is not None:
        return {"resident_id": resident_id, "source": "store", "profile": stored}
    trained = ctx.model.rec.resident_profile(resident_id)
    if trained is None:
        raise HTTPException(404, f"resident_id {resident_id!r} is unknown")
    return {"resident_id": resident_id, "source": "model", "profile": _plain(trained)}


@router.delete("/{resident_id}", response_model=DeleteResponse,
               responses=responses(401, 403, 422, 503),
               summary="Erase a resident: profile, events, cached answers, and the model's copy")
def delete_resident(request: Request, resident_id: str = ResidentId) -> dict:
    ctx = ctx_of(request)
    deleted = ctx.store.delete_resident(resident_id, tombstone=ctx.hasher.resident(resident_id))
    deleted = deleted or ctx.model.rec.resident_profile(resident_id) is not None
    return {"resident_id": resident_id, "deleted": bool(deleted)}
