"""Allocate a batch of residents' needs to services jointly, under the live remaining places.

At most ``MAX_RESIDENTS`` residents per request (larger caseloads: ``servicematch allocate``). The
work -- one ranking per (resident, need) and an LP/MILP solve -- runs in the thread pool, one
allocation at a time per process: a second concurrent request gets 429 with Retry-After rather than
slowing every other caller. The answer proposes; places are taken when the caseworker records the
``referred`` events. The shadow prices of this allocation are stored and discount nearly full
services in single-resident recommendations from then on (api/capacity.py).
"""
from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from api.auth import AuthorizedRoute
from api.context import bounded_history, ctx_of, json_response, request_id
from api.errors import responses
from api.models import ErrorBody, Id, ResidentProfile
from recommender import allocation
from recommender.caseload import CANDIDATES, Case, allocate_caseload

router = APIRouter(prefix="/v1", tags=["allocations"], route_class=AuthorizedRoute)

#: Residents per request; a batch this size allocates in about a second.
MAX_RESIDENTS = 500
#: Seconds the solver may take (on top of ranking) before it settles for the rounded LP.
TIME_LIMIT = 10.0
ROUTE = "POST /v1/allocations"


class AllocationSubject(BaseModel):
    """A known resident (``resident_id``: stored profile, events and the model's history), an inline
    ``profile`` (a walk-in), or both (the profile's fields are laid over the known ones)."""

    model_config = ConfigDict(extra="forbid")
    resident_id: Id | None = None
    profile: ResidentProfile | None = None

    @model_validator(mode="after")
    def _something(self) -> "AllocationSubject":
        if self.resident_id is None and self.profile is None:
            raise ValueError("give resident_id, profile or both")
        return self


class AllocationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "residents": [{"resident_id": "r000042"},
                      {"profile": {"age": 67, "district": "d04", "languages": ["en"], "needs": ["eldercare", "food"]}}],
        "candidates": 10, "floor": 0.9}]})

    residents: list[AllocationSubject] = Field(..., min_length=1, max_length=MAX_RESIDENTS)
    candidates: int = Field(CANDIDATES, ge=1, le=50, description="candidate services per (resident, need)")
    unknown_penalty: float = Field(allocation.UNKNOWN_PENALTY, ge=0, le=100,
                                   description="subtracted from a score whose eligibility is unknown")
    floor: float = Field(allocation.FLOOR, ge=0, le=1,
                         description="every district's and language group's coverage >= floor x the best group's")
    min_group: int = Field(allocation.MIN_GROUP, ge=1, le=100_000,
                           description="groups with fewer answerable pairs are not held to the floor")


class Assignment(BaseModel):
    resident: int = Field(description="position of the resident in the request")
    resident_id: str | None
    need: str
    service_id: str | None = Field(description="null where no eligible service has room")
    score: float | None


class AllocationResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "request_id": "3f2c9a", "model_version": "20250101T120000Z-1a2b3c",
        "assignments": [{"resident": 0, "resident_id": "r000042", "need": "food", "service_id": "s0017", "score": 3.2},
                        {"resident": 1, "resident_id": None, "need": "eldercare", "service_id": None, "score": None}],
        "report": {"objective": 12.4, "bound": 12.4, "gap": 0.0, "need_coverage": 0.5, "over_capacity": 0,
                   "seconds": 0.08, "independent_top1": {"pairs_sent_to_full": 1}, "groups": {}}}]})

    request_id: str
    model_version: str
    assignments: list[Assignment]
    report: dict = Field(description="objective, bound, gap, need_coverage, over_capacity, seconds, "
                                     "independent_top1, groups, ... (see the README)")


def _lock(request: Request) -> asyncio.Lock:
    lock = getattr(request.app.state, "allocation_lock", None)
    if lock is None:  # created on first use, inside the app's event loop
        lock = request.app.state.allocation_lock = asyncio.Lock()
    return lock


def _cases(ctx, rec, body: AllocationRequest) -> list[Case]:
    cases = []
    for i, subject in enumerate(body.residents):
        profile = subject.profile.to_contract() if subject.profile is not None else None
        rid = subject.resident_id
        history, exclude = [], []
        if rid is not None:
            if ctx.erased(rid):
                raise HTTPException(404, f"residents.{i}.resident_id: {rid!r} is unknown")
            stored = ctx.store.get_profile(rid)
            if stored is None and not rec.knows(rid) and profile is None:
                raise HTTPException(404, f"residents.{i}.resident_id: {rid!r} is unknown: no stored profile "
                                         "and not in the model's training data")
            if stored is not None:
                profile = {**stored, **(profile or {})}
            history = bounded_history(ctx.store.recent_events(rid, ctx.settings.history_limit))
            exclude = [sid for sid, event in history if event == "declined"]
        cases.append(Case(resident_id=rid, profile=profile, history=history, exclude_service_ids=exclude))
    return cases


@router.post("/allocations", response_model=AllocationResponse, responses={**responses(400, 401, 403, 404, 413, 422, 503), 429: {
                 "model": ErrorBody, "description": "Another allocation is running; see Retry-After"}},
             summary=f"Allocate up to {MAX_RESIDENTS} residents' needs to services jointly, under capacity")
async def allocate(body: AllocationRequest, request: Request):
    ctx = ctx_of(request)
    caller = request.state.caller
    rid = request_id(request)
    lock = _lock(request)
    if lock.locked():
        raise HTTPException(429, "another allocation is running in this process; retry shortly",
                            headers={"Retry-After": "2"})
    async with lock:
        model = ctx.model

        def work():
            cases = _cases(ctx, model.rec, body)
            live = ctx.capacity.engine_args(model.rec, ctx.overrides.get(), penalise=False) \
                if ctx.capacity is not None else {"overrides": ctx.overrides.get()}
            result = allocate_caseload(model.rec, cases, candidates=body.candidates,
                                       overrides=live["overrides"], unknown_penalty=body.unknown_penalty,
                                       floor=body.floor, min_group=body.min_group, time_limit=TIME_LIMIT)
            ctx.store.put_shadow_prices(result.shadow_prices)
            return cases, result

        cases, result = await run_in_threadpool(work)
    by_case: dict[int, list[str]] = {}
    assignments = []
    for row in result.rows:
        i = row["case"]
        assignments.append({"resident": i, "resident_id": cases[i].resident_id, "need": row["need"],
                            "service_id": row["service_id"] or None, "score": row["score"]})
        if row["service_id"]:
            by_case.setdefault(i, []).append(row["service_id"])
    # every served list is durable in the audit before the answer (one group commit for the batch)
    await asyncio.gather(*(ctx.audit.record(request_id=rid, key_id=caller.key_id, route=ROUTE,
                                            resident_id=case.resident_id,
                                            profile=case.profile if case.resident_id is None else None,
                                            model_version=model.version, service_ids=by_case.get(i, []))
                           for i, case in enumerate(cases)))
    return json_response({"request_id": rid, "model_version": model.version, "assignments": assignments,
                          "report": result.report})
