"""What the routes share in one app: the model holder, the store, the audit log, metrics, settings.

One ``AppContext`` per app, on ``app.state.ctx`` (no module-level state: two apps in one process
are independent).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import anyio
import orjson
from fastapi import HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from api.audit import AuditLog
from api.hashing import Hasher
from api.metrics import Metrics
from api.model_watch import LoadedModel, ModelHolder
from api.settings import Settings
from api.state.last_known import LastKnown

_ORJSON_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def json_response(payload, status: int = 200, headers: dict | None = None) -> Response:
    """orjson-encoded response (dataclasses and numpy scalars included), skipping FastAPI's
    jsonable_encoder + response_model pass, which costs more than the work of a cached call."""
    return Response(orjson.dumps(payload, option=_ORJSON_OPTS), status_code=status,
                    headers=headers, media_type="application/json")


class OverridesView:
    """Service overrides (status, capacity) read from the store on every request, so a PATCH on any
    replica takes effect on all of them at once.

    ``lenient`` readers (inline-profile recommendations, which must survive a store outage) get the
    last overrides read when the store is down; after a failure the store is not asked again for
    ``backoff`` seconds, so an outage does not add a connection attempt to every request.
    """

    def __init__(self, store, backoff: float = 1.0):
        self.store = store
        self._overrides: LastKnown[dict[str, dict]] = LastKnown({}, backoff)

    def get(self, lenient: bool = False) -> dict[str, dict]:
        return self._overrides.read(lambda _last: self.store.service_overrides(), lenient)


def store_is_local(store) -> bool:
    """True for the embedded SQLite store, whose calls are short local reads."""
    from api.state.sqlite import SQLiteStore

    return isinstance(store, SQLiteStore)


@dataclass
class AppContext:
    settings: Settings
    holder: ModelHolder
    store: object
    audit: AuditLog
    metrics: Metrics
    overrides: OverridesView
    hasher: Hasher
    keys: object
    refresher: object
    #: run store-touching work in the thread pool (a networked store) rather than on the loop
    offload: bool = False
    #: live places and shadow prices (api/capacity.py); None: recommend with the overrides alone
    capacity: object | None = None
    _engine_limiter: object | None = field(default=None, init=False, repr=False)

    def engine_overrides(self, rec, *, lenient: bool = False) -> dict:
        """``overrides`` (and ``score_penalty``) for ``Recommender.recommend``, live capacity included."""
        overrides = self.overrides.get(lenient=lenient)
        if self.capacity is None:
            return {"overrides": overrides}
        return self.capacity.engine_args(rec, overrides, lenient=lenient)

    @property
    def model(self) -> LoadedModel:
        return self.holder.current

    @property
    def cache_enabled(self) -> bool:
        return self.settings.cache

    def erased(self, resident_id: str) -> bool:
        return self.store.erased(self.hasher.resident(resident_id))

    async def run(self, fn, *args, **kwargs):
        """Call ``fn`` where the store's I/O belongs.

        SQLite reads are local and take microseconds: a thread-pool hop would cost more than the
        call (about 40% of a cached answer's throughput, measured). A Redis call waits on the
        network -- up to its timeout when Redis hangs -- and must not stall the event loop and
        with it every other request, so it runs in the pool.
        """
        if self.offload:
            return await run_in_threadpool(fn, *args, **kwargs)
        return fn(*args, **kwargs)

    async def compute(self, fn, *args, **kwargs):
        """Engine work (ranking, eligibility, explanations, free-text needs): always in a worker
        thread, so a heavy request never holds the event loop -- /healthz and cached answers stay
        fast while it runs -- and at most ``settings.engine_threads`` at once: engine work holds the
        GIL most of the time, so eight requests ranked in eight threads take turns in 5 ms slices
        (p99 about 100 ms at 8 connections, measured) where queued they wait their turn (28 ms)."""
        if self._engine_limiter is None:  # made on first use: it belongs to the running event loop
            self._engine_limiter = anyio.CapacityLimiter(self.settings.engine_threads)
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs), limiter=self._engine_limiter)


def ctx_of(request: Request) -> AppContext:
    return request.app.state.ctx


def request_id(request: Request) -> str:
    return request.scope["state"]["request_id"]


def not_found(what: str) -> HTTPException:
    return HTTPException(404, what)


#: rank order of events when a service appears several times in a resident's recent history
_EVENT_ORDER = {"viewed": 0, "referred": 1, "applied": 2, "enrolled": 3, "completed": 4, "declined": 5}


def bounded_history(events: list[dict]) -> list[tuple[str, str]]:
    """A resident's recent events aggregated: one (service_id, event) per service, the furthest
    along the funnel (a decline wins: it is never suggested again)."""
    best: dict[str, str] = {}
    for e in events:
        sid, event = e["service_id"], e["event"]
        if sid not in best or _EVENT_ORDER.get(event, 0) >= _EVENT_ORDER.get(best[sid], 0):
            best[sid] = event
    return list(best.items())
