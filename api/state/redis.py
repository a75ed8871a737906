"""The shared state store: one Redis used by every API worker and replica.

Layout (``p`` is the key prefix, ``sm:`` by default):

- ``p profile:<resident>``   hash, one JSON value per profile field (plus an empty-named marker field)
- ``p events``               stream of every accepted event (fields ``id``, ``r``, ``e`` = JSON)
- ``p events:seen``          set of accepted event ids: the idempotency check
- ``p revents:<resident>``   list of the resident's stream ids, in acceptance order
- ``p overrides``            hash service_id -> JSON of its overrides
- ``p audit``                stream of audit entries, capped at ``audit_cap`` (exact trim)
- ``p rgen:<resident>``, ``p ggen``   generation counters (see api/state/cache.py)
- ``p cache:<resident>:<model version>:<params>``   "rgen ggen JSON", with a TTL
- ``p cidx:<resident>``      set of the resident's cache keys, so erasure can delete them
- ``p model_version``        key and pub/sub channel of the model-version notice
- ``p erased``               set of erasure tombstones (keyed hashes of erased ids, never ids)
- ``p rate:<bucket>:<window>``  per-key request / event counters, expiring with their window
- ``p places``               hash service_id -> places taken since its capacity was set
- ``p holds:<resident>``, ``p pseen:<resident>``   services where the resident holds a place, and
                             their event ids already counted (api/state/places.py)
- ``p shadow_prices``        JSON of the last allocation's shadow prices

Multi-key writes are Lua scripts or MULTI/EXEC transactions, so they are atomic and reach the AOF
as one transaction; with ``appendfsync always`` (api/state/redis.conf) Redis writes and fsyncs the
AOF before it replies, so a method that returns has made its write durable. Every failure to reach
Redis, a timeout or a refused write surfaces as ``StateUnavailable``; timeouts are short so the API
can answer 503 quickly.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from api.state import codec, places
from api.state.base import StateUnavailable
from api.state.cache import MissStamps

# Two passes so a batch is checked entirely before anything is written: a replayed event_id, or
# one repeated inside the batch, is skipped; the first occurrence in the batch wins.
_ADD_EVENTS = """#!lua
-- KEYS[1] stream, KEYS[2] seen set; event i (0-based): KEYS[3+2i] resident index, KEYS[4+2i] resident generation
-- ARGV, 3 per event: event_id, resident_id, JSON
local n = #ARGV / 3
local first = {}
for i = 0, n - 1 do
  local eid = ARGV[3*i + 1]
  if first[eid] == nil then
    if redis.call('SISMEMBER', KEYS[2], eid) == 1 then first[eid] = -1 else first[eid] = i end
  end
end
local accepted = 0
for i = 0, n - 1 do
  local eid = ARGV[3*i + 1]
  if first[eid] == i then
    local sid = redis.call('XADD', KEYS[1], '*', 'id', eid, 'r', ARGV[3*i + 2], 'e', ARGV[3*i + 3])
    redis.call('SADD', KEYS[2], eid)
    redis.call('RPUSH', KEYS[3 + 2*i], sid)
    redis.call('INCR', KEYS[4 + 2*i])
    accepted = accepted + 1
  end
end
return accepted
"""

_RECENT_EVENTS = """#!lua flags=no-writes
-- KEYS[1] resident index, KEYS[2] stream; ARGV[1] the first index to read (-n: the newest n; 0: all)
local out = {}
for _, sid in ipairs(redis.call('LRANGE', KEYS[1], ARGV[1], -1)) do
  local found = redis.call('XRANGE', KEYS[2], sid, sid)
  if #found > 0 then
    local fields = found[1][2]
    for j = 1, #fields, 2 do
      if fields[j] == 'e' then out[#out + 1] = fields[j + 1] end
    end
  end
end
return out
"""

_DELETE_RESIDENT = """#!lua
-- KEYS: profile, resident index, stream, seen set, cache index, resident generation,
--       global generation, tombstones; ARGV[1]: the tombstone (a keyed hash; '' for none)
local found = redis.call('EXISTS', KEYS[1])
for _, sid in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  local hit = redis.call('XRANGE', KEYS[3], sid, sid)
  if #hit > 0 then
    local fields = hit[1][2]
    for j = 1, #fields, 2 do
      if fields[j] == 'id' then redis.call('SREM', KEYS[4], fields[j + 1]) end
    end
    redis.call('XDEL', KEYS[3], sid)
    found = 1
  end
end
for _, key in ipairs(redis.call('SMEMBERS', KEYS[5])) do redis.call('DEL', key) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[5], KEYS[6])
-- the id must not stay behind even as a counter: the global generation is bumped instead, so no
-- answer cached before the erasure can be served after it
redis.call('INCR', KEYS[7])
if ARGV[1] ~= '' then redis.call('SADD', KEYS[8], ARGV[1]) end
return found
"""

# Store only if the generations are still those read at the miss: an answer computed from data
# that changed meanwhile is dropped instead of being served for a whole TTL.
_CACHE_PUT = """#!lua
-- KEYS: entry, cache index, resident generation, global generation; ARGV: rgen, ggen, JSON, ttl ms
if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[1] or (redis.call('GET', KEYS[4]) or '0') ~= ARGV[2] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. ARGV[3], 'PX', ARGV[4])
redis.call('SADD', KEYS[2], KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
"""

_RECORD_PLACES = """#!lua
-- KEYS[1] places hash, KEYS[2] global generation; move i (0-based): KEYS[3+2i] holds, KEYS[4+2i] seen
-- ARGV, 3 per move: event_id, service_id, +1 (take) or -1 (give back)
local changed = 0
for i = 0, #ARGV / 3 - 1 do
  if redis.call('SADD', KEYS[4 + 2*i], ARGV[3*i + 1]) == 1 then
    local sid, move = ARGV[3*i + 2], tonumber(ARGV[3*i + 3])
    local held
    if move > 0 then held = redis.call('SADD', KEYS[3 + 2*i], sid) else held = redis.call('SREM', KEYS[3 + 2*i], sid) end
    if held == 1 then
      redis.call('HINCRBY', KEYS[1], sid, move)
      changed = 1
    end
  end
end
if changed == 1 then redis.call('INCR', KEYS[2]) end
return changed
"""

_PROFILE_MARKER = ""  # a field that always exists, so an empty profile is still a stored profile


def _segment(text: str) -> str:
    """Escape ``:`` so key segments cannot run into each other (``a:b``+``c`` vs ``a``+``b:c``)."""
    return text.replace("%", "%25").replace(":", "%3A")


class RedisStore:
    """``StateStore`` on Redis. Construction does not connect: the API can start (and answer 503)
    while Redis is down, and recovers by itself when it comes back."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "sm:",
        cache_ttl: float = 300.0,
        audit_cap: int = 100_000,
        connect_timeout: float = 0.5,
        op_timeout: float = 1.0,
    ):
        if cache_ttl <= 0:
            raise ValueError(f"cache TTL must be > 0 seconds, got {cache_ttl}")
        if audit_cap < 1:
            raise ValueError(f"audit_cap must be >= 1, got {audit_cap}")
        self.prefix = prefix
        self.cache_ttl_ms = max(1, int(round(cache_ttl * 1000)))
        self.audit_cap = audit_cap
        # One quick retry on a broken connection (e.g. a pooled socket from before a Redis restart),
        # none on timeouts: a timed-out write may have been applied and must not be sent twice.
        self._r = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=connect_timeout,
            socket_timeout=op_timeout,
            retry=Retry(NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,)),
        )
        kw = self._r.connection_pool.connection_kwargs
        # Named in errors without credentials.
        self.where = kw.get("path") or f"{kw.get('host', 'localhost')}:{kw.get('port', 6379)}/{kw.get('db', 0)}"
        self.model_version_channel = prefix + "model_version"
        self._stamps = MissStamps()
        self._add_events = self._r.register_script(_ADD_EVENTS)
        self._delete_resident = self._r.register_script(_DELETE_RESIDENT)
        self._recent_events = self._r.register_script(_RECENT_EVENTS)
        self._cache_put = self._r.register_script(_CACHE_PUT)
        self._record_places = self._r.register_script(_RECORD_PLACES)

    # -- keys

    def _k(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def _cache_key(self, resident_id: str, params_key: str, model_version: str) -> str:
        return self._k("cache", _segment(resident_id), _segment(model_version), params_key)

    @contextmanager
    def _guard(self, what: str):
        try:
            yield
        except (redis.exceptions.RedisError, OSError) as exc:
            raise StateUnavailable(f"redis {self.where}: {what} failed: {type(exc).__name__}: {exc}") from exc

    # -- resident profiles

    def put_profile(self, resident_id: str, profile: dict) -> None:
        fields = codec.encode_profile(resident_id, profile)
        key = self._k("profile", resident_id)
        with self._guard("put_profile"):
            with self._r.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                pipe.hset(key, mapping={_PROFILE_MARKER: "1", **fields})
                pipe.incr(self._k("rgen", resident_id))
                pipe.execute()

    def get_profile(self, resident_id: str) -> dict | None:
        with self._guard("get_profile"):
            raw = self._r.hgetall(self._k("profile", resident_id))
        if not raw:
            return None
        return {k: codec.decode(v) for k, v in raw.items() if k != _PROFILE_MARKER}

    def delete_resident(self, resident_id: str, tombstone: str | None = None) -> bool:
        """Erase profile, events and cached answers, and record the tombstone, in one script.
        Then the append-only file is rewritten in the background, so the erased values leave the
        disk too (the AOF would otherwise keep the commands that wrote them)."""
        codec.check_id(resident_id, "resident_id")
        keys = [
            self._k("profile", resident_id),
            self._k("revents", resident_id),
            self._k("events"),
            self._k("events", "seen"),
            self._k("cidx", resident_id),
            self._k("rgen", resident_id),
            self._k("ggen"),
            self._k("erased"),
        ]
        with self._guard("delete_resident"):
            found = self._delete_resident(keys=keys, args=[tombstone or ""])
            self._r.delete(self._k("holds", resident_id), self._k("pseen", resident_id))  # see record_places
        self._stamps.drop_resident(resident_id)
        try:
            self._r.bgrewriteaof()
        except (redis.exceptions.RedisError, OSError):
            pass  # a rewrite already running (or no AOF): the next rewrite purges them
        return bool(found)

    def erased(self, tombstone: str) -> bool:
        with self._guard("erased"):
            return bool(self._r.sismember(self._k("erased"), tombstone))

    def tombstones(self) -> set[str]:
        with self._guard("tombstones"):
            return set(self._r.smembers(self._k("erased")))

    def resident_facts(self, resident_ids: list[str], tombstones: dict[str, str]) -> dict[str, dict]:
        """Per resident id: profile stored?, events stored, erased? -- one round trip."""
        with self._guard("resident_facts"):
            pipe = self._r.pipeline(transaction=False)
            for rid in resident_ids:
                pipe.exists(self._k("profile", rid))
                pipe.llen(self._k("revents", rid))
                pipe.sismember(self._k("erased"), tombstones.get(rid, ""))
            raw = pipe.execute()
        return {rid: {"profile": bool(raw[3 * i]), "events": int(raw[3 * i + 1]),
                      "erased": bool(raw[3 * i + 2]) and rid in tombstones}
                for i, rid in enumerate(resident_ids)}

    # -- feedback events

    def add_events(self, events: list[dict]) -> tuple[int, int]:
        rows = codec.encode_events(events)
        if not rows:
            return 0, 0
        keys = [self._k("events"), self._k("events", "seen")]
        args: list[str] = []
        for event_id, resident_id, body in rows:
            keys += [self._k("revents", resident_id), self._k("rgen", resident_id)]
            args += [event_id, resident_id, body]
        with self._guard("add_events"):
            accepted = int(self._add_events(keys=keys, args=args))
        return accepted, len(rows) - accepted

    def resident_events(self, resident_id: str) -> list[dict]:
        return self.recent_events(resident_id, 0)

    def recent_events(self, resident_id: str, limit: int) -> list[dict]:
        """The resident's ``limit`` most recent events, oldest first (a bounded read)."""
        with self._guard("recent_events"):
            bodies = self._recent_events(keys=[self._k("revents", resident_id), self._k("events")],
                                         args=[str(-int(limit)) if limit else "0"])
        return [codec.decode(b) for b in bodies]

    def iter_events(self, page: int = 1000) -> Iterator[dict]:
        """Every event in acceptance (stream) order, read in pages."""
        start = "-"
        while True:
            with self._guard("iter_events"):
                entries = self._r.xrange(self._k("events"), min=start, max="+", count=page)
            for _, fields in entries:
                yield codec.decode(fields["e"])
            if len(entries) < page:
                return
            start = "(" + entries[-1][0]

    # -- service overrides

    def patch_service(self, service_id: str, fields: dict) -> dict:
        codec.merge_override({}, fields, service_id)  # validate before talking to Redis
        key = self._k("overrides")

        def merge(pipe) -> dict:
            current = pipe.hget(key, service_id)
            merged = codec.merge_override(codec.decode(current) if current else {}, fields, service_id)
            pipe.multi()
            if merged:
                pipe.hset(key, service_id, codec.encode(merged, "overrides"))
            else:
                pipe.hdel(key, service_id)
            pipe.incr(self._k("ggen"))
            return merged

        # WATCH + MULTI: a concurrent patch of the hash makes this one re-read and merge again.
        with self._guard("patch_service"):
            return self._r.transaction(merge, key, value_from_callable=True)

    def service_overrides(self) -> dict[str, dict]:
        with self._guard("service_overrides"):
            raw = self._r.hgetall(self._k("overrides"))
        return {sid: codec.decode(v) for sid, v in raw.items()}

    # -- live capacity (see api/state/places.py); counters stay on erasure: the places are still taken

    def record_places(self, events: list[dict]) -> None:
        rows = places.moves(events)
        if not rows:
            return
        keys = [self._k("places"), self._k("ggen")]
        args: list = []
        for event_id, resident_id, service_id, move in rows:
            keys += [self._k("holds", resident_id), self._k("pseen", resident_id)]
            args += [event_id, service_id, move]
        with self._guard("record_places"):
            self._record_places(keys=keys, args=args)

    def reset_places(self, service_id: str) -> None:
        codec.check_id(service_id, "service_id")
        with self._guard("reset_places"):
            with self._r.pipeline(transaction=True) as pipe:
                pipe.hdel(self._k("places"), service_id)
                pipe.incr(self._k("ggen"))
                pipe.execute()

    def capacity_state(self) -> tuple[dict[str, int], dict[str, float]]:
        with self._guard("capacity_state"):
            with self._r.pipeline(transaction=False) as pipe:
                pipe.hgetall(self._k("places"))
                pipe.get(self._k("shadow_prices"))
                taken, prices = pipe.execute()
        return ({sid: int(n) for sid, n in taken.items() if int(n) != 0},
                {} if prices is None else codec.decode(prices))

    def put_shadow_prices(self, prices: dict[str, float]) -> None:
        body = codec.encode(places.check_prices(prices), "shadow prices")
        with self._guard("put_shadow_prices"):
            with self._r.pipeline(transaction=True) as pipe:
                pipe.set(self._k("shadow_prices"), body)
                pipe.incr(self._k("ggen"))  # discounts change what is suggested
                pipe.execute()

    def capacity_version(self) -> int:
        # the global generation: bumped by every change of places, prices (and service patches)
        with self._guard("capacity_version"):
            return int(self._r.get(self._k("ggen")) or 0)

    # -- audit log (newest first when read; trimmed to the newest ``audit_cap`` entries)

    def audit(self, entry: dict) -> None:
        self.audit_many([entry])

    def audit_many(self, entries: list[dict]) -> None:
        if not entries:
            return
        bodies = [codec.encode(e, "audit entry") for e in entries]
        with self._guard("audit"):
            pipe = self._r.pipeline(transaction=True)
            for body in bodies:
                pipe.xadd(self._k("audit"), {"a": body}, maxlen=self.audit_cap, approximate=False)
            pipe.execute()

    def audit_entries(self, limit: int = 100, offset: int = 0) -> list[dict]:
        codec.check_page(limit, offset)
        if limit == 0:
            return []
        with self._guard("audit_entries"):
            entries = self._r.xrevrange(self._k("audit"), max="+", min="-", count=offset + limit)
        return [codec.decode(fields["a"]) for _, fields in entries[offset:]]

    # -- recommendation cache (one round trip on the hot path: generations and entry in one MGET)

    def cache_get(self, resident_id: str, params_key: str, model_version: str) -> dict | None:
        key = self._cache_key(resident_id, params_key, model_version)
        with self._guard("cache_get"):
            rgen, ggen, raw = self._r.mget(self._k("rgen", resident_id), self._k("ggen"), key)
        stamp = (rgen or "0", ggen or "0")
        if raw is not None:
            entry_rgen, entry_ggen, body = raw.split(" ", 2)
            if (entry_rgen, entry_ggen) == stamp:
                return codec.decode(body)
        self._stamps.note(key, stamp)
        return None

    def cache_put(self, resident_id: str, params_key: str, model_version: str, value: dict) -> None:
        key = self._cache_key(resident_id, params_key, model_version)
        body = codec.encode(value, "cached answer")
        rgen_key, ggen_key = self._k("rgen", resident_id), self._k("ggen")
        with self._guard("cache_put"):
            stamp = self._stamps.pop(key)
            if stamp is None:  # no miss seen by this process: the current generations are the best guess
                rgen, ggen = self._r.mget(rgen_key, ggen_key)
                stamp = (rgen or "0", ggen or "0")
            self._cache_put(
                keys=[key, self._k("cidx", resident_id), rgen_key, ggen_key],
                args=[stamp[0], stamp[1], body, self.cache_ttl_ms],
            )

    # -- rate counters, shared by every worker and replica

    def count_hits(self, bucket: str, amount: int, window_s: int) -> int:
        """Add ``amount`` to ``bucket`` in the current ``window_s``-second window; the new total."""
        window = int(time.time() // window_s)
        key = self._k("rate", _segment(bucket), str(window_s), str(window))
        with self._guard("count_hits"):
            with self._r.pipeline(transaction=True) as pipe:
                pipe.incrby(key, amount)
                pipe.expire(key, window_s + 1)
                total, _ = pipe.execute()
        return int(total)

    # -- model version notice: a key for pollers and a pub/sub message for subscribers

    def publish_model_version(self, version: str) -> None:
        codec.check_id(version, "model version")
        with self._guard("publish_model_version"):
            with self._r.pipeline(transaction=True) as pipe:
                pipe.set(self._k("model_version"), version)
                pipe.publish(self.model_version_channel, version)
                pipe.execute()

    def model_version_notice(self) -> str | None:
        with self._guard("model_version_notice"):
            return self._r.get(self._k("model_version"))

    def ping(self) -> bool:
        try:
            return bool(self._r.ping())
        except (redis.exceptions.RedisError, OSError):
            return False

    def close(self) -> None:
        try:
            self._r.close()
            self._r.connection_pool.disconnect()
        except (redis.exceptions.RedisError, OSError):
            pass
