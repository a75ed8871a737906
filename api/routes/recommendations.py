"""Recommendations: for an inline profile or a known resident (caseworkers), and the portal's cached
call by resident id.

The handlers are ``async``: a cached answer is served on the event loop (a thread-pool hop would
cost more than the answer), while engine work -- ranking, eligibility, explanations, free-text
needs -- runs in the thread pool (``AppContext.compute``), so a heavy request never stalls other
users or the probes. What an answer holds depends on the caller's role (``api.views``), and every
list is audited durably before it is answered (``api.audit``).
"""
from __future__ import annotations

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from api.auth import INLINE_PROFILE, AuthorizedRoute, allowed
from api.context import AppContext, bounded_history, ctx_of, json_response, request_id
from api.errors import responses
from api.limits import ID_MAX, K_MAX
from api.model_watch import LoadedModel
from api.models import RecommendationRequest, RecommendationResponse
from api.views import present, view_for

router = APIRouter(prefix="/v1", tags=["recommendations"], route_class=AuthorizedRoute)

def recommend_for_resident(ctx: AppContext, model: LoadedModel, resident_id: str, *,
                           k: int = 10, needs=None, categories=None, exclude_service_ids=(),
                           near=None, include_unknown_eligibility: bool = True,
                           explain: bool = True, lang: str = "en"):
    """Rank for a known resident: the stored profile if any (the engine lays it over the training
    profile of a resident the model knows), their most recent events as history (bounded, so a
    resident with a huge history costs no more than any other) and the live service overrides.
    An erased resident is unknown, whatever the model's training copy holds."""
    profile = ctx.store.get_profile(resident_id)
    if ctx.erased(resident_id) or (profile is None and model.rec.resident_profile(resident_id) is None):
        raise HTTPException(404, f"resident_id {resident_id!r} is unknown: no stored profile and "
                                 "not in the model's training data")
    history = bounded_history(ctx.store.recent_events(resident_id, ctx.settings.history_limit))
    declined = [sid for sid, event in history if event == "declined"]
    return model.rec.recommend(
        resident_id=resident_id, profile=profile, k=k, needs=needs, categories=categories,
        exclude_service_ids=list(exclude_service_ids) + declined, near=near,
        include_unknown_eligibility=include_unknown_eligibility, history=history,
        explain=explain, lang=lang, **ctx.engine_overrides(model.rec))


def _ids(items) -> list[str]:
    return [item["service_id"] for item in items]


@router.post(
    "/recommendations", response_model=RecommendationResponse,
    responses=responses(400, 401, 403, 404, 413, 422, 429, 503),
    summary="Recommend services for an inline profile or a known resident",
)
async def recommend(body: RecommendationRequest, request: Request) -> Response:
    ctx = ctx_of(request)
    caller = request.state.caller
    rid = request_id(request)
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

        def rank():
            # A walk-in needs no state: with the store down it is still served, with the last
            # overrides known.
            return model.rec.recommend(profile=profile, **ctx.engine_overrides(model.rec, lenient=True),
                                       **params)

        subject = dict(resident_id=None, profile=profile)
    else:
        caller.may_see(body.resident_id)
        subject = dict(resident_id=body.resident_id, profile=None)

        def rank():
            return recommend_for_resident(ctx, model, body.resident_id, **params)

    view = view_for(caller)

    def ranked_and_audited():
        # Presented and audited in the worker thread that ranked it (threads share the audit's
        # commits): handing the entry to the audit thread and being woken by it were two thread
        # hand-offs per request on the event loop, about 0.35 ms of system CPU each at 8
        # connections (measured). The list is durable in the audit before it is answered.
        result = rank()
        payload = present(result, view, rid)
        ctx.audit.record_sync(request_id=rid, key_id=caller.key_id, route="POST /v1/recommendations",
                              model_version=result.model_version, service_ids=_ids(payload["items"]),
                              **subject)
        return payload

    payload = await ctx.compute(ranked_and_audited)
    return json_response(payload)


@router.get(
    "/residents/{resident_id}/recommendations", response_model=RecommendationResponse,
    responses=responses(401, 403, 404, 422, 429, 503),
    summary="The portal's call: recommendations for a known resident (cached)",
)
async def resident_recommendations(
    request: Request,
    resident_id: str = Path(..., min_length=1, max_length=ID_MAX),
    k: int = Query(10, ge=1, le=K_MAX, description="number of services to return"),
) -> Response:
    ctx = ctx_of(request)
    caller = request.state.caller
    caller.may_see(resident_id)
    rid = request_id(request)
    model = ctx.model
    view = view_for(caller)
    params_key = f"k={k};{view}"  # each view is cached as served: no per-hit reshaping
    route = "GET /v1/residents/{resident_id}/recommendations"
    if ctx.cache_enabled:
        cached = await ctx.run(ctx.store.cache_get, resident_id, params_key, model.version)
        if cached is not None:
            ctx.metrics.cache_hits.inc()
            await ctx.audit.record(request_id=rid, key_id=caller.key_id, route=route,
                                   resident_id=resident_id, profile=None, model_version=model.version,
                                   service_ids=_ids(cached["items"]))
            cached["request_id"] = rid
            return json_response(cached)
        ctx.metrics.cache_misses.inc()

    def compute():  # audited in the worker thread, as POST /v1/recommendations
        result = recommend_for_resident(ctx, model, resident_id, k=k)
        payload = present(result, view, None)
        if ctx.cache_enabled:
            # The cache holds plain JSON; the request id is per answer, so it is not part of it.
            ctx.store.cache_put(resident_id, params_key, model.version,
                                orjson.loads(orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)))
        ctx.audit.record_sync(request_id=rid, key_id=caller.key_id, route=route, resident_id=resident_id,
                              profile=None, model_version=model.version, service_ids=_ids(payload["items"]))
        return payload

    payload = await ctx.compute(compute)
    payload["request_id"] = rid
    return json_response(payload)
