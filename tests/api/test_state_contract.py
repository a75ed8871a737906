"""One contract, two backends: every StateStore method against SQLite (a temp file) and a real Redis.

Backend-specific checks (what Redis actually holds, SQLite's durability pragmas, timeouts) follow
the shared suite.
"""
from __future__ import annotations

import math
import statistics
import time

import pytest
import redis as redis_client

from api.state import SQLITE_NAME, StateUnavailable, open_store
from api.state.redis import RedisStore
from api.state.sqlite import SQLiteStore

from .conftest import run_threads


def ev(event_id: str, resident_id: str = "r1", service_id: str = "s1", event: str = "viewed", ts: float = 1.7e9) -> dict:
    return {"event_id": event_id, "resident_id": resident_id, "service_id": service_id, "event": event, "timestamp": ts}


@pytest.fixture(params=["sqlite", "redis"])
def backend(request, tmp_path):
    """A factory of stores on one shared backend: several calls give several 'replicas'."""
    if request.param == "sqlite":
        path = tmp_path / SQLITE_NAME

        def make(**kw):
            return SQLiteStore(path, **kw)
    else:
        url = request.getfixturevalue("redis_url")

        def make(**kw):
            return RedisStore(url, **kw)

    stores = []

    def factory(**kw):
        store = make(**kw)
        stores.append(store)
        return store

    factory.kind = request.param
    yield factory
    for store in stores:
        store.close()


@pytest.fixture
def store(backend):
    return backend()


# -- profiles

def test_profile_put_get_and_overwrite(store):
    assert store.get_profile("r1") is None
    profile = {"resident_id": "r1", "age": 67, "needs": ["food/pantry", "housing"], "disability": None, "latitude": 39.29}
    store.put_profile("r1", profile)
    assert store.get_profile("r1") == profile
    # an overwrite replaces the whole profile: no field of the old one survives
    store.put_profile("r1", {"age": 68})
    assert store.get_profile("r1") == {"age": 68}
    store.put_profile("r2", {})
    assert store.get_profile("r2") == {}  # stored, though empty
    assert store.get_profile("r1") == {"age": 68}


@pytest.mark.parametrize("bad, field", [({"age": math.nan}, "age"), ({"when": object()}, "when")])
def test_profile_with_non_json_value_is_rejected_naming_the_field(store, bad, field):
    with pytest.raises(ValueError, match=repr(field)):
        store.put_profile("r1", bad)
    assert store.get_profile("r1") is None


# -- events

def test_replayed_batch_is_counted_once(store):
    batch = [ev("e1"), ev("e2", service_id="s2"), ev("e3", resident_id="r2")]
    assert store.add_events(batch) == (3, 0)
    assert store.add_events(batch) == (0, 3)
    assert [e["event_id"] for e in store.resident_events("r1")] == ["e1", "e2"]
    assert sum(1 for _ in store.iter_events()) == 3


def test_duplicate_inside_a_batch_keeps_the_first(store):
    assert store.add_events([ev("e1", event="viewed"), ev("e2"), ev("e1", event="declined")]) == (2, 1)
    assert [(e["event_id"], e["event"]) for e in store.resident_events("r1")] == [("e1", "viewed"), ("e2", "viewed")]
    assert store.add_events([]) == (0, 0)


@pytest.mark.parametrize("bad", [{"resident_id": "r1", "service_id": "s1"}, {"event_id": "e9", "resident_id": ""},
                                 {"event_id": "e9", "resident_id": "r1", "timestamp": math.inf}, "e9"])
def test_a_batch_with_a_bad_event_stores_nothing(store, bad):
    with pytest.raises(ValueError, match="event #1"):
        store.add_events([ev("e1"), bad, ev("e2")])
    assert store.resident_events("r1") == []
    assert list(store.iter_events()) == []
    assert store.add_events([ev("e1")]) == (1, 0)  # the good event was not half-recorded as seen


def test_resident_events_in_acceptance_order(store):
    store.add_events([ev("a1", "ra", ts=5), ev("b1", "rb")])
    store.add_events([ev("a2", "ra", ts=1), ev("b2", "rb"), ev("a3", "ra", ts=3)])
    store.add_events([ev("a1", "ra"), ev("a4", "ra")])
    assert [e["event_id"] for e in store.resident_events("ra")] == ["a1", "a2", "a3", "a4"]
    assert store.resident_events("ra")[1] == ev("a2", "ra", ts=1)  # events come back as given
    assert [e["event_id"] for e in store.resident_events("rb")] == ["b1", "b2"]
    assert store.resident_events("nobody") == []


def test_iter_events_exports_every_event_in_order(store):
    ids = [f"e{i:05d}" for i in range(2500)]  # more than one page of the export
    for start in range(0, len(ids), 500):
        store.add_events([ev(i, f"r{n % 7}") for n, i in enumerate(ids[start:start + 500], start)])
    assert [e["event_id"] for e in store.iter_events()] == ids


def test_concurrent_replays_are_counted_once(backend):
    shared = [ev(f"s{i}", f"r{i % 5}") for i in range(40)]
    stores = [backend(), backend()]  # threads on one store object and on two
    results = []

    def worker(n):
        own = [ev(f"t{n}-{i}", "r0") for i in range(5)]
        for _ in range(3):
            results.append(stores[n % 2].add_events(shared + own))

    assert run_threads(6, worker) == []
    assert sum(a for a, _ in results) == 40 + 6 * 5
    assert sum(a + d for a, d in results) == 6 * 3 * 45
    assert sorted(e["event_id"] for e in stores[0].iter_events()) == sorted(
        [e["event_id"] for e in shared] + [f"t{n}-{i}" for n in range(6) for i in range(5)]
    )


# -- overrides

def test_patch_service_merges_and_none_drops_a_field(store):
    assert store.service_overrides() == {}
    assert store.patch_service("s1", {"status": "inactive"}) == {"status": "inactive"}
    assert store.patch_service("s1", {"capacity": 0}) == {"status": "inactive", "capacity": 0}
    assert store.patch_service("s2", {"capacity": 12}) == {"capacity": 12}
    assert store.service_overrides() == {"s1": {"status": "inactive", "capacity": 0}, "s2": {"capacity": 12}}
    assert store.patch_service("s1", {"status": None}) == {"capacity": 0}
    assert store.patch_service("s1", {"capacity": None}) == {}
    assert store.service_overrides() == {"s2": {"capacity": 12}}
    with pytest.raises(ValueError, match="service 's2'"):
        store.patch_service("s2", ["capacity"])
    assert store.service_overrides() == {"s2": {"capacity": 12}}


# -- live capacity

def test_referral_and_enrolment_take_one_place_and_completion_gives_it_back(backend):
    a, b = backend(), backend()  # two replicas
    a.record_places([ev("p1", "r1", "s1", "referred"), ev("p2", "r2", "s1", "enrolled"), ev("p3", "r3", "s2", "viewed")])
    assert b.capacity_state()[0] == {"s1": 2}
    b.record_places([ev("p4", "r1", "s1", "enrolled")])  # the same resident's enrolment holds the same place
    assert a.capacity_state()[0] == {"s1": 2}
    a.record_places([ev("p5", "r1", "s1", "completed"), ev("p6", "r2", "s1", "declined")])
    assert b.capacity_state()[0] == {}
    b.record_places([ev("p7", "r9", "s1", "completed")])  # nothing held: nothing to give back
    assert a.capacity_state()[0] == {}


def test_replayed_place_events_count_once(store):
    batch = [ev("p1", "r1", "s1", "referred"), ev("p2", "r1", "s1", "completed"), ev("p3", "r2", "s1", "referred")]
    store.record_places(batch)
    store.record_places(batch)
    store.record_places(batch[:1])  # an old referral replayed after the completion takes nothing
    assert store.capacity_state()[0] == {"s1": 1}


def test_concurrent_referrals_on_two_replicas_are_all_counted(backend):
    stores = [backend(), backend()]

    def worker(n):
        for i in range(8):  # each a durable commit: few enough to stay well inside the lock timeout
            stores[n % 2].record_places([ev(f"t{n}-{i}", f"r{n}-{i}", "s1", "referred")])

    assert run_threads(4, worker) == []
    assert stores[0].capacity_state()[0] == {"s1": 32}


def test_reset_places_counts_from_the_new_capacity(store):
    store.record_places([ev("p1", "r1", "s1", "referred"), ev("p2", "r2", "s1", "referred")])
    store.reset_places("s1")
    assert store.capacity_state()[0] == {}
    store.record_places([ev("p3", "r1", "s1", "completed")])  # a place held before the reset comes back
    assert store.capacity_state()[0] == {"s1": -1}


def test_places_change_invalidates_cached_answers(store):
    store.cache_get("r1", "k", "v1")
    store.cache_put("r1", "k", "v1", ANSWER)
    store.record_places([ev("p1", "r2", "s1", "viewed")])
    assert store.cache_get("r1", "k", "v1") == ANSWER  # nothing moved
    store.record_places([ev("p2", "r2", "s1", "referred")])
    assert store.cache_get("r1", "k", "v1") is None


def test_capacity_version_moves_with_every_change_of_places_or_prices(backend):
    a, b = backend(), backend()
    seen = [a.capacity_version()]
    for change in (lambda: b.record_places([ev("v1", "r1", "s1", "referred")]),
                   lambda: b.put_shadow_prices({"s1": 1.0}),
                   lambda: b.reset_places("s1")):
        change()
        seen.append(a.capacity_version())
    assert len(set(seen)) == 4
    b.record_places([ev("v2", "r1", "s1", "viewed"), ev("v1", "r1", "s1", "referred")])  # nothing moves
    assert a.capacity_version() == seen[-1]


def test_shadow_prices_are_replaced_and_validated(backend):
    a, b = backend(), backend()
    assert a.capacity_state()[1] == {}
    a.put_shadow_prices({"s1": 0.5, "s2": 2})
    assert b.capacity_state()[1] == {"s1": 0.5, "s2": 2.0}
    b.put_shadow_prices({"s3": 1.25})
    assert a.capacity_state()[1] == {"s3": 1.25}
    for bad in ({"s1": -1.0}, {"s1": math.inf}, {"s1": "x"}, {"": 1.0}):
        with pytest.raises(ValueError):
            a.put_shadow_prices(bad)
    assert a.capacity_state()[1] == {"s3": 1.25}


def test_a_bad_place_event_moves_nothing(store):
    with pytest.raises(ValueError, match="service_id"):
        store.record_places([ev("p1", "r1", "s1", "referred"), {"event_id": "p2", "resident_id": "r1", "event": "referred"}])
    assert store.capacity_state()[0] == {}


def test_erasure_forgets_held_places_but_not_the_count(store):
    store.record_places([ev("p1", "r1", "s1", "referred")])
    store.delete_resident("r1")
    assert store.capacity_state()[0] == {"s1": 1}
    store.record_places([ev("p2", "r1", "s1", "completed")])  # no longer known to hold it
    assert store.capacity_state()[0] == {"s1": 1}


# -- audit

def test_audit_reads_newest_first_with_limit_and_offset(store):
    for i in range(10):
        store.audit({"i": i, "resident_id": f"r{i}", "service_ids": ["s1", "s2"]})
    assert [e["i"] for e in store.audit_entries(limit=3)] == [9, 8, 7]
    assert [e["i"] for e in store.audit_entries(limit=3, offset=8)] == [1, 0]
    assert store.audit_entries(limit=5, offset=10) == []
    assert store.audit_entries(limit=0) == []
    assert len(store.audit_entries()) == 10
    assert store.audit_entries(limit=1)[0] == {"i": 9, "resident_id": "r9", "service_ids": ["s1", "s2"]}
    with pytest.raises(ValueError, match="offset"):
        store.audit_entries(limit=3, offset=-1)


def test_audit_many_appends_a_batch_in_order_and_keeps_the_cap(backend):
    store = backend(audit_cap=5)
    store.audit({"i": 0})
    store.audit_many([{"i": i} for i in range(1, 8)])
    store.audit_many([])
    assert [e["i"] for e in store.audit_entries(limit=100)] == [7, 6, 5, 4, 3]
    with pytest.raises(ValueError, match="offset"):
        store.audit_entries(limit=3, offset=2**63)


def test_audit_log_is_capped(backend):
    store = backend(audit_cap=5)
    for i in range(8):
        store.audit({"i": i})
    assert [e["i"] for e in store.audit_entries(limit=100)] == [7, 6, 5, 4, 3]


# -- recommendation cache

ANSWER = {"model_version": "v1", "items": [{"service_id": "s1", "score": 0.9, "reasons": ["age 67 within 60-120"]}]}


def _invalidate(store, cause):
    if cause == "profile":
        store.put_profile("r1", {"age": 70})
    elif cause == "events":
        store.add_events([ev("e-new", "r1", event="declined")])
    elif cause == "patch":
        store.patch_service("s9", {"status": "defunct"})


@pytest.mark.parametrize("cause", ["profile", "events", "patch", "model_version"])
def test_cache_hit_then_invalidation(store, cause):
    assert store.cache_get("r1", "k=10", "v1") is None
    store.cache_put("r1", "k=10", "v1", ANSWER)
    store.cache_put("r2", "k=10", "v1", {"other": True})
    assert store.cache_get("r1", "k=10", "v1") == ANSWER
    assert store.cache_get("r1", "k=5", "v1") is None  # other parameters are another entry
    _invalidate(store, cause)
    version = "v2" if cause == "model_version" else "v1"
    assert store.cache_get("r1", "k=10", version) is None
    # a resident's own change leaves other residents' answers alone; a patch drops everyone's
    other = store.cache_get("r2", "k=10", version)
    assert other == (None if cause in ("patch", "model_version") else {"other": True})
    store.cache_put("r1", "k=10", version, {"fresh": 1})
    assert store.cache_get("r1", "k=10", version) == {"fresh": 1}


def test_events_that_change_nothing_keep_the_cache(store):
    store.add_events([ev("e1", "r1")])
    store.cache_put("r1", "k", "v1", ANSWER)
    assert store.add_events([ev("e1", "r1")]) == (0, 1)  # a replay is not a change
    assert store.cache_get("r1", "k", "v1") == ANSWER


@pytest.mark.parametrize("cause", ["profile", "events", "patch"])
def test_answer_computed_before_a_change_is_not_served(store, cause):
    # the API misses, computes from the old data, and stores after the data changed meanwhile
    assert store.cache_get("r1", "k", "v1") is None
    _invalidate(store, cause)
    store.cache_put("r1", "k", "v1", {"stale": True})
    assert store.cache_get("r1", "k", "v1") is None
    store.cache_put("r1", "k", "v1", {"fresh": True})
    assert store.cache_get("r1", "k", "v1") == {"fresh": True}


def test_cached_answer_is_a_copy(store):
    store.cache_put("r1", "k", "v1", ANSWER)
    got = store.cache_get("r1", "k", "v1")
    got["items"].clear()
    assert store.cache_get("r1", "k", "v1") == ANSWER


def test_cache_ids_with_colons_do_not_collide(store):
    store.cache_put("a:b", "k", "c", {"who": 1})
    assert store.cache_get("a", "k", "b:c") is None
    assert store.cache_get("a:b", "k", "c") == {"who": 1}


def test_cache_entries_expire_after_ttl(backend):
    store = backend(cache_ttl=0.3)
    store.cache_put("r1", "k", "v1", ANSWER)
    assert store.cache_get("r1", "k", "v1") == ANSWER
    time.sleep(0.45)
    assert store.cache_get("r1", "k", "v1") is None


# -- erasure

def test_delete_resident_erases_profile_events_and_cache(store):
    store.put_profile("r1", {"age": 40})
    store.put_profile("r2", {"age": 50})
    store.add_events([ev("e1", "r1"), ev("e2", "r2"), ev("e3", "r1", "s2")])
    store.cache_put("r1", "k", "v1", ANSWER)
    store.cache_put("r2", "k", "v1", ANSWER)
    assert store.delete_resident("r1") is True
    assert store.get_profile("r1") is None
    assert store.resident_events("r1") == []
    assert [e["event_id"] for e in store.iter_events()] == ["e2"]
    assert store.cache_get("r1", "k", "v1") is None
    # others' data untouched; every cached answer is dropped (the erased id is not kept even
    # as a cache counter, so the global generation moves instead)
    assert store.get_profile("r2") == {"age": 50}
    assert store.cache_get("r2", "k", "v1") is None
    assert store.delete_resident("r1") is False
    assert store.delete_resident("never-seen") is False
    # erasure forgets the event ids too: nothing of the resident is left, not even "seen"
    assert store.add_events([ev("e1", "r1")]) == (1, 0)


def test_delete_resident_with_only_events(store):
    store.add_events([ev("e1", "r1")])
    assert store.delete_resident("r1") is True
    assert store.resident_events("r1") == []


def test_erasure_leaves_a_tombstone_every_replica_sees(backend):
    a, b = backend(), backend()
    a.put_profile("r1", {"age": 40})
    assert not b.erased("hash-of-r1") and b.tombstones() == set()
    assert a.delete_resident("r1", tombstone="hash-of-r1") is True
    assert b.erased("hash-of-r1") and not b.erased("hash-of-r2")
    assert b.tombstones() == {"hash-of-r1"}
    # a second erasure of the same id keeps one tombstone
    a.delete_resident("r1", tombstone="hash-of-r1")
    assert b.tombstones() == {"hash-of-r1"}


def test_resident_facts_in_one_read(store):
    store.put_profile("r1", {"age": 40})
    store.add_events([ev("e1", "r1"), ev("e2", "r1"), ev("e3", "r2")])
    store.delete_resident("r3", tombstone="t3")
    facts = store.resident_facts(["r1", "r2", "r3", "r4"], {"r1": "t1", "r2": "t2", "r3": "t3", "r4": "t4"})
    assert facts == {"r1": {"profile": True, "events": 2, "erased": False},
                     "r2": {"profile": False, "events": 1, "erased": False},
                     "r3": {"profile": False, "events": 0, "erased": True},
                     "r4": {"profile": False, "events": 0, "erased": False}}


def test_recent_events_is_a_bounded_read_of_the_newest(store):
    store.add_events([ev(f"e{i}", "r1", f"s{i}") for i in range(30)] + [ev("x", "r2")])
    recent = store.recent_events("r1", 5)
    assert [e["event_id"] for e in recent] == ["e25", "e26", "e27", "e28", "e29"]  # oldest first
    assert len(store.recent_events("r1", 1000)) == 30
    assert store.recent_events("nobody", 5) == []


def test_count_hits_counts_per_bucket_and_window(backend):
    a, b = backend(), backend()
    assert a.count_hits("key1", 1, 60) == 1
    assert a.count_hits("key1", 4, 60) == 5
    assert a.count_hits("key2", 1, 60) == 1
    if backend.kind == "redis":  # shared by every replica
        assert b.count_hits("key1", 1, 60) == 6
    else:  # SQLite: each process counts on its own
        assert b.count_hits("key1", 1, 60) == 1
    # a new window starts from zero
    first = a.count_hits("key3", 1, 1)
    time.sleep(1.05)
    assert a.count_hits("key3", 1, 1) == 1 and first == 1


# -- model version notice, ping, several replicas

def test_model_version_notice_is_seen_by_every_replica(backend):
    a, b = backend(), backend()
    assert a.model_version_notice() is None
    a.publish_model_version("20260509-0735")
    assert b.model_version_notice() == "20260509-0735"
    b.publish_model_version("20260510-0900")
    assert a.model_version_notice() == "20260510-0900"


def test_ping(store):
    assert store.ping() is True


def test_two_replicas_see_each_others_writes_and_invalidations(backend):
    a, b = backend(), backend()
    a.put_profile("r1", {"age": 30})
    assert b.get_profile("r1") == {"age": 30}
    assert a.add_events([ev("e1")]) == (1, 0)
    assert b.add_events([ev("e1"), ev("e2")]) == (1, 1)
    assert [e["event_id"] for e in a.resident_events("r1")] == ["e1", "e2"]
    b.patch_service("s1", {"capacity": 0})
    assert a.service_overrides() == {"s1": {"capacity": 0}}

    for change in (lambda: b.put_profile("r1", {"age": 31}),
                   lambda: b.add_events([ev("e3")]),
                   lambda: b.patch_service("s1", {"status": "inactive"})):
        a.cache_put("r1", "k", "v1", ANSWER)
        assert a.cache_get("r1", "k", "v1") == ANSWER
        change()
        assert a.cache_get("r1", "k", "v1") is None

    a.cache_put("r1", "k", "v1", ANSWER)
    b.delete_resident("r1")
    assert a.cache_get("r1", "k", "v1") is None
    assert a.get_profile("r1") is None and a.resident_events("r1") == []


def test_redis_replicas_share_the_cache(redis_url):
    a, b = RedisStore(redis_url), RedisStore(redis_url)
    try:
        a.cache_put("r1", "k", "v1", ANSWER)
        assert b.cache_get("r1", "k", "v1") == ANSWER
    finally:
        a.close()
        b.close()


# -- unavailability

def _call_every_method(store):
    calls = {
        "put_profile": lambda: store.put_profile("r1", {"age": 1}),
        "get_profile": lambda: store.get_profile("r1"),
        "delete_resident": lambda: store.delete_resident("r1"),
        "add_events": lambda: store.add_events([ev("e1")]),
        "resident_events": lambda: store.resident_events("r1"),
        "iter_events": lambda: next(iter(store.iter_events()), None),
        "patch_service": lambda: store.patch_service("s1", {"capacity": 1}),
        "service_overrides": lambda: store.service_overrides(),
        "audit": lambda: store.audit({"i": 1}),
        "audit_entries": lambda: store.audit_entries(),
        "cache_get": lambda: store.cache_get("r1", "k", "v1"),
        "cache_put": lambda: store.cache_put("r1", "k", "v1", ANSWER),
        "publish_model_version": lambda: store.publish_model_version("v2"),
        "model_version_notice": lambda: store.model_version_notice(),
    }
    slowest = 0.0
    for name, call in calls.items():
        t0 = time.perf_counter()
        with pytest.raises(StateUnavailable):
            call()
        slowest = max(slowest, time.perf_counter() - t0)
    assert store.ping() is False
    return slowest


def test_sqlite_unwritable_path_raises_state_unavailable(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the models directory should be")
    store = SQLiteStore(blocker / SQLITE_NAME)
    _call_every_method(store)
    store.close()


def test_redis_gone_raises_state_unavailable_fast_and_recovers(redis_factory):
    server = redis_factory()
    store = RedisStore(server.url)
    store.put_profile("r1", {"age": 1})
    server.kill()
    assert _call_every_method(store) < 1.0
    server.start()  # same port and directory
    assert store.ping() is True
    assert store.get_profile("r1") == {"age": 1}
    store.close()


def test_redis_hung_raises_state_unavailable_within_the_op_timeout(redis_factory):
    server = redis_factory()
    store = RedisStore(server.url, op_timeout=0.5)
    assert store.ping()
    server.pause()  # accepts connections, never answers
    try:
        t0 = time.perf_counter()
        with pytest.raises(StateUnavailable):
            store.add_events([ev("e1")])
        assert time.perf_counter() - t0 < 1.5
    finally:
        server.resume()
    # the timed-out write may or may not have been applied; a retry makes it exactly one event
    accepted, dups = store.add_events([ev("e1")])
    assert (accepted, dups) in ((1, 0), (0, 1))
    assert [e["event_id"] for e in store.resident_events("r1")] == ["e1"]
    store.close()


def test_redis_error_message_names_server_not_password(redis_factory):
    server = redis_factory()
    port = server.port
    server.kill()
    store = RedisStore(f"redis://:hunter2secret@127.0.0.1:{port}/0")
    with pytest.raises(StateUnavailable) as info:
        store.get_profile("r1")
    assert f"127.0.0.1:{port}" in str(info.value) and "hunter2secret" not in str(info.value)
    store.close()


# -- what the backends actually hold

def test_redis_layout_and_erasure_leave_nothing_of_the_resident(redis_url):
    store = RedisStore(redis_url)
    raw = redis_client.Redis.from_url(redis_url, decode_responses=True)
    try:
        store.put_profile("r1", {"age": 40})
        store.add_events([ev("e1", "r1"), ev("e2", "r2"), ev("e3", "r1")])
        store.cache_put("r1", "k", "v1", ANSWER)
        assert raw.type("sm:profile:r1") == "hash" and raw.type("sm:events") == "stream"
        assert raw.xlen("sm:events") == 3 and raw.scard("sm:events:seen") == 3
        assert 0 < raw.pttl("sm:cache:r1:v1:k") <= 300_000  # the default 300 s TTL

        store.delete_resident("r1")
        assert raw.xlen("sm:events") == 1  # XDEL'd from the stream itself
        assert [f["id"] for _, f in raw.xrange("sm:events")] == ["e2"]
        assert raw.smembers("sm:events:seen") == {"e2"}
        store.record_places([ev("e4", "r1", "s1", "referred")])
        store.delete_resident("r1")
        left = [k for k in raw.scan_iter("*") if "r1" in k]
        assert left == []  # not even a counter
    finally:
        store.close()
        raw.close()


def test_redis_cache_entries_really_expire(redis_url):
    store = RedisStore(redis_url, cache_ttl=0.2)
    raw = redis_client.Redis.from_url(redis_url)
    try:
        store.cache_put("r1", "k", "v1", ANSWER)
        assert raw.exists("sm:cache:r1:v1:k", "sm:cidx:r1") == 2
        time.sleep(0.35)
        assert raw.exists("sm:cache:r1:v1:k", "sm:cidx:r1") == 0
    finally:
        store.close()
        raw.close()


def test_redis_model_version_is_published_on_the_channel(redis_url):
    store = RedisStore(redis_url)
    sub = redis_client.Redis.from_url(redis_url, decode_responses=True).pubsub()
    try:
        sub.subscribe(store.model_version_channel)
        assert sub.get_message(timeout=1.0)["type"] == "subscribe"
        store.publish_model_version("20260601-1200")
        msg = sub.get_message(timeout=2.0)
        assert msg["type"] == "message" and msg["data"] == "20260601-1200"
    finally:
        sub.close()
        store.close()


def _command_calls(raw) -> int:
    return sum(v["calls"] for k, v in raw.info("commandstats").items() if k != "cmdstat_info")


def test_redis_cache_hit_is_one_command_and_fast(redis_url):
    store = RedisStore(redis_url)
    raw = redis_client.Redis.from_url(redis_url)
    try:
        answer = {"items": [{"service_id": f"s{i}", "score": 1.0 / (i + 1), "reasons": ["x" * 40]} for i in range(10)]}
        store.cache_put("r1", "portal:k=10", "v1", answer)
        before = _command_calls(raw)
        assert store.cache_get("r1", "portal:k=10", "v1") == answer
        assert _command_calls(raw) - before == 1  # generations and entry in one round trip
        times = []
        for _ in range(300):
            t0 = time.perf_counter()
            store.cache_get("r1", "portal:k=10", "v1")
            times.append(time.perf_counter() - t0)
        assert statistics.median(times) < 0.001
    finally:
        store.close()
        raw.close()


def test_sqlite_is_durable_wal_and_survives_reopen(tmp_path):
    path = tmp_path / SQLITE_NAME
    store = SQLiteStore(path)
    store.put_profile("r1", {"age": 5})
    store.add_events([ev("e1")])
    conn = store._conn()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()
    with pytest.raises(StateUnavailable, match="closed"):
        store.get_profile("r1")
    again = SQLiteStore(path)
    assert again.get_profile("r1") == {"age": 5}
    assert again.add_events([ev("e1")]) == (0, 1)
    again.close()


def test_sqlite_files_are_private_and_erasure_purges_the_bytes(tmp_path):
    path = tmp_path / SQLITE_NAME
    store = SQLiteStore(path)
    secret = "zq-unique-income-7351"
    store.put_profile("rX-9931", {"age": 5, "note": secret})
    store.add_events([ev("eX", "rX-9931")])
    for suffix in ("", "-wal", "-shm"):
        f = path.with_name(path.name + suffix)
        assert f.exists() and f.stat().st_mode & 0o777 == 0o600, suffix
    store.delete_resident("rX-9931", tombstone="t")
    for suffix in ("", "-wal", "-shm"):
        f = path.with_name(path.name + suffix)
        if f.exists():
            data = f.read_bytes()
            assert secret.encode() not in data and b"rX-9931" not in data, suffix
    store.close()


# -- choosing the backend

def test_open_store_picks_sqlite_next_to_the_models_by_default(tmp_path):
    store = open_store(tmp_path)
    assert isinstance(store, SQLiteStore) and store.path == tmp_path / SQLITE_NAME
    store.put_profile("r1", {"age": 1})
    assert (tmp_path / SQLITE_NAME).exists()
    store.close()


def test_open_store_picks_redis_from_argument_or_env(tmp_path, redis_url, monkeypatch):
    from api.settings import Settings

    monkeypatch.setenv("REDIS_URL", redis_url)
    for store in (open_store(tmp_path, redis_url), open_store(tmp_path, Settings.from_env().redis_url)):
        assert isinstance(store, RedisStore)
        store.put_profile("r1", {"age": 2})
        assert store.get_profile("r1") == {"age": 2}
        store.close()
    assert not (tmp_path / SQLITE_NAME).exists()
