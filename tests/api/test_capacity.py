"""Live capacity's arguments for the engine (api/capacity.py) on a real catalogue and store."""
from __future__ import annotations

import math

import numpy as np
import pytest

from api.capacity import NEARLY_FULL, CapacityView, live_args
from api.state.sqlite import SQLiteStore


@pytest.fixture
def bounded(recommender):
    """Two services with a capacity in the catalogue, and one without."""
    cap = recommender.catalog.capacity
    ids = recommender.catalog.ids
    with_cap = [ids[i] for i in np.flatnonzero(cap >= 8)[:2]]
    without = ids[int(np.flatnonzero(np.isnan(cap))[0])]
    return with_cap, without


def test_remaining_places_are_capacity_less_taken_never_below_zero(recommender, bounded):
    (a, b), free = bounded
    cap = {sid: recommender.catalog.capacity[recommender.catalog.index[sid]] for sid in (a, b)}
    out = live_args(recommender.catalog, {b: {"status": "active", "capacity": 3}},
                    {a: 2, b: 5, free: 4, "no-such-service": 1}, {})
    assert out["overrides"][a] == {"capacity": int(cap[a]) - 2}  # the catalogue's capacity less taken
    assert out["overrides"][b] == {"status": "active", "capacity": 0}  # patched capacity, overfull: 0
    assert free not in out["overrides"] and "no-such-service" not in out["overrides"]  # unbounded
    assert out["score_penalty"] is None
    with pytest.raises(TypeError):
        out["overrides"]["x"] = {}  # read-only: the catalogue memoises its arrays on it


def test_only_nearly_full_contested_services_are_discounted(recommender, bounded):
    (a, b), free = bounded
    cap_a = recommender.catalog.capacity[recommender.catalog.index[a]]
    nearly = int(math.ceil(cap_a * (1 - NEARLY_FULL)))  # at most a quarter left
    prices = {a: 0.7, b: 0.4, free: 9.0}
    assert live_args(recommender.catalog, {}, {a: nearly - 1}, prices)["score_penalty"] is None
    out = live_args(recommender.catalog, {}, {a: nearly, b: 1}, prices)
    assert out["score_penalty"] == {a: 0.7}  # b has most places left; free is unbounded
    assert live_args(recommender.catalog, {}, {a: int(cap_a)}, prices)["score_penalty"] is None  # full: dropped


def test_view_rereads_the_store_only_after_a_change(recommender, bounded, tmp_path):
    (a, _), _ = bounded
    store = SQLiteStore(tmp_path / "state.sqlite3")
    view = CapacityView(store)
    assert view.engine_args(recommender, {}) == {"overrides": {}}
    store.record_places([{"event_id": "e1", "resident_id": "r1", "service_id": a, "event": "referred",
                          "timestamp": 1.7e9}])
    first = view.engine_args(recommender, {})
    assert view.engine_args(recommender, {}) is first  # memoised while nothing moved
    store.record_places([{"event_id": "e2", "resident_id": "r2", "service_id": a, "event": "enrolled",
                          "timestamp": 1.7e9}])
    second = view.engine_args(recommender, {})
    assert second is not first and second["overrides"][a]["capacity"] == first["overrides"][a]["capacity"] - 1
    store.close()
