"""Recommendations: for an inline profile or a known resident (caseworkers), and the portal's cached
call by resident id.

These handlers are ``async`` on purpose: the work is CPU-bound and short, and a hop to the thread
pool costs about 40% of the cached call's throughput (measured with bench/api_load.py). Work that
touches a networked store (Redis) still goes to the pool, through ``AppContext.run``.
"""
from __future__ import annotations

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from api.auth import INLINE_PROFILE, AuthorizedRoute, allowed
from api.context import AppContext, ctx_of, json_response, request_id
from api.errors import responses
from api.model_watch import LoadedModel
from api.models import ID_MAX, RecommendationRequest, RecommendationResponse

router = APIRouter(prefix="/v1", tags=["recommendations"], route_class=AuthorizedRoute)


def _payload(result, rid: str | None) -> dict:
    """The response body; items and needs stay dataclasses (orjson serialises them natively)."""
    return {"request_id": rid, "model_version": result.model_version,
            "resident_id": result.resident_id, "mode": result.mode,
            "items": result.items, "needs": result.needs}


def recommend_for_resident(ctx: AppContext, model: LoadedModel, resident_id: str, *,
                           k: int = 10, needs=None, categories=None, exclude_service_ids=(),
                           near=None, include_unknown_eligibility: bool = True,
                           explain: bool = True, lang: str = "en"):
    """Rank for a known resident: the stored profile if any (the engine lays it over the training
    profile of a resident the model knows), their events since training as history (a declined
    service is never suggested again) and the live service overrides."""
    profile = ctx.store.get_profile(resident_id)
    if profile is None and model.rec.resident_profile(resident_id) is None:
        raise HTTPException(404, f"resident_id {resident_id!r} is unknown: no stored profile and "
                                 "not in the model's training data")
    history = [(e["service_id"], e["event"]) for e in ctx.store.resident_events(resident_id)]
    declined = [sid for sid, event in history if event == "declined"]
    exclude = list(exclude_service_ids) + declined
    return model.rec.recommend(
        resident_id=resident_id, profile=profile, k=k, needs=needs, categories=categories,
        exclude_service_ids=exclude, near=near,
        include_unknown_eligibility=include_unknown_eligibility, history=history,
        overrides=ctx.overrides.get(), explain=explain, lang=lang)


def _ids(result) -> list[str]:
    return [s.service_id for s in result.items]


@router.post(
    "/recommendations", response_model=RecommendationResponse,
    responses=responses(400, 401, 403, 404, 413, 422, 503),
    summary="Recommend services for an inline profile or a known resident",
)
async def recommend(body: RecommendationRequest, request: Request) -> Response:
    ctx = ctx_of(request)
    caller = request.state.caller
    rid = request_id(request)
    await ctx.audit.room()
    model = ctx.model  # one model for the whole request, whatever a reload does meanwhile
    near = (body.near.lat, body.near.lon, body.near.max_km) if body.near else None
    params = dict(k=body.k, needs=body.needs, categories=body.categories,
                  exclude_service_ids=body.exclude_service_ids, near=near,
                  include_unknown_eligibility=body.include_unknown_eligibility,
                  explain=body.explain, lang=body.lang)
    if body.profile is not None:
        if not allowed(caller.role, INLINE_PROFILE):
            raise HTTPException(403, f"role {caller.role!r} may not recommend for an inline profile "
                                     "(use resident_id)")
        profile = body.profile.to_contract()

        def inline():
            # A walk-in needs no state: with the store down it is still served, with the last
            # overrides known.
            return model.rec.recommend(profile=profile, overrides=ctx.overrides.get(lenient=True),
                                       **params)

        result = await ctx.run(inline)
        ctx.audit.record(request_id=rid, key_id=caller.key_id, route="POST /v1/recommendations",
                         resident_id=None, profile=profile, model_version=result.model_version,
                         service_ids=_ids(result))
    else:
        result = await ctx.run(recommend_for_resident, ctx, model, body.resident_id, **params)
        ctx.audit.record(request_id=rid, key_id=caller.key_id, route="POST /v1/recommendations",
                         resident_id=body.resident_id, profile=None,
                         model_version=result.model_version, service_ids=_ids(result))
    return json_response(_payload(result, rid))


@router.get(
    "/residents/{resident_id}/recommendations", response_model=RecommendationResponse,
    responses=responses(401, 403, 404, 422, 503),
    summary="The portal's call: recommendations for a known resident (cached)",
)
async def resident_recommendations(
    request: Request,
    resident_id: str = Path(..., min_length=1, max_length=ID_MAX),
    k: int = Query(10, ge=1, le=50, description="number of services to return"),
) -> Response:
    ctx = ctx_of(request)
    caller = request.state.caller
    rid = request_id(request)
    await ctx.audit.room()
    model = ctx.model
    params_key = f"k={k}"
    if ctx.cache_enabled:
        cached = await ctx.run(ctx.store.cache_get, resident_id, params_key, model.version)
        if cached is not None:
            ctx.metrics.cache_hits.inc()
            ctx.audit.record(request_id=rid, key_id=caller.key_id,
                             route="GET /v1/residents/{resident_id}/recommendations",
                             resident_id=resident_id, profile=None, model_version=model.version,
                             service_ids=[item["service_id"] for item in cached["items"]])
            cached["request_id"] = rid
            return json_response(cached)
        ctx.metrics.cache_misses.inc()

    def compute():
        result = recommend_for_resident(ctx, model, resident_id, k=k)
        if ctx.cache_enabled:
            # The cache holds plain JSON; the request id is per answer, so it is not part of it.
            cacheable = orjson.loads(orjson.dumps(_payload(result, None),
                                                  option=orjson.OPT_SERIALIZE_NUMPY))
            ctx.store.cache_put(resident_id, params_key, model.version, cacheable)
        return result

    result = await ctx.run(compute)
    ctx.audit.record(request_id=rid, key_id=caller.key_id,
                     route="GET /v1/residents/{resident_id}/recommendations",
                     resident_id=resident_id, profile=None, model_version=result.model_version,
                     service_ids=_ids(result))
    return json_response(_payload(result, rid))
