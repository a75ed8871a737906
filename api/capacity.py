"""Live capacity in single-resident serving: remaining places and the last allocation's shadow prices.

Every recommendation reads, in one store call, the places taken since each service's capacity was
set (``referred``/``enrolled`` events take them on any replica, ``completed``/``declined`` give them
back) and the shadow prices of the last allocation (``POST /v1/allocations``). It then hands the
engine:

- ``overrides`` with ``capacity`` = capacity - taken (never below 0) where places were taken, the
  capacity being the patched one or else the catalogue's; a full service (0 left) fails the
  engine's capacity check and is dropped from the list (``capacity`` of every shown item says how
  many places are left, so a console can show "waitlist" for the last few);
- ``score_penalty``: a nearly full service (at most ``NEARLY_FULL`` of its places left) that the
  last allocation found contested (positive shadow price) is ranked as if its score were lower by
  that price -- the value the caseload loses when one more of its places goes to this resident --
  so the ranking stops sending everyone to the last few places.

Per request the view reads one version number from the store (``capacity_version``) and re-reads
the counters and prices only when it moved; the engine arguments are memoised on (model, version,
overrides) and handed over as one read-only mapping, whose arrays the catalogue builds once.
"""
from __future__ import annotations

import math
import threading
from types import MappingProxyType

from api.state.last_known import LastKnown


#: A service with at most this share of its places left is "nearly full".
NEARLY_FULL = 0.25


class CapacityView:
    def __init__(self, store, backoff: float = 1.0):
        self.store = store
        # (version, taken, prices)
        self._state: LastKnown[tuple[int, dict, dict]] = LastKnown((-1, {}, {}), backoff)
        self._memo_key = None
        self._memo_value: dict = {}
        self._lock = threading.Lock()

    def state(self, lenient: bool = False) -> tuple[int, dict[str, int], dict[str, float]]:
        """(version, taken, shadow prices), re-read only when the store's version moved; ``lenient``
        readers get the last known state while the store is down."""
        return self._state.read(self._fresh, lenient)

    def _fresh(self, last: tuple[int, dict, dict]) -> tuple[int, dict, dict]:
        version = self.store.capacity_version()
        if version == last[0]:
            return last
        taken, prices = self.store.capacity_state()
        return version, taken, prices

    def engine_args(self, rec, overrides: dict[str, dict], *, lenient: bool = False,
                    penalise: bool = True) -> dict:
        """Keyword arguments for ``Recommender.recommend``: ``overrides`` (and ``score_penalty``)."""
        version, taken, prices = self.state(lenient)
        if not taken and not (penalise and prices):
            return {"overrides": overrides}
        key = (rec.version, penalise, version, overrides)
        with self._lock:
            if self._memo_key is not None and self._memo_key == key:
                return self._memo_value
        value = live_args(rec.catalog, overrides, taken, prices if penalise else {})
        with self._lock:
            self._memo_key, self._memo_value = key, value
        return value


def _base_capacity(catalog, overrides: dict, sid: str) -> float:
    patched = overrides.get(sid, {})
    if "capacity" in patched:
        c = patched["capacity"]
        return math.nan if c is None else float(c)
    i = catalog.index.get(sid)
    return math.nan if i is None else float(catalog.capacity[i])


def live_args(catalog, overrides: dict[str, dict], taken: dict[str, int], prices: dict[str, float]) -> dict:
    """Pure: the engine's ``overrides`` with remaining places, and ``score_penalty`` (see module doc)."""
    merged = dict(overrides)
    remaining: dict[str, float] = {}
    for sid, n in taken.items():
        base = _base_capacity(catalog, overrides, sid)
        if math.isnan(base) or sid not in catalog.index:
            continue  # unbounded: nothing to count down
        remaining[sid] = max(0.0, base - n)
        merged[sid] = {**overrides.get(sid, {}), "capacity": int(remaining[sid])}
    penalty = {}
    for sid, price in prices.items():
        left = remaining.get(sid)
        if price <= 0 or left is None or left <= 0:
            continue  # untouched since its capacity was set, unbounded, or full (dropped anyway)
        if left <= NEARLY_FULL * _base_capacity(catalog, overrides, sid):
            penalty[sid] = float(price)
    # read-only: the engine's catalogue builds its arrays once per such mapping
    return {"overrides": MappingProxyType(merged), "score_penalty": penalty or None}
