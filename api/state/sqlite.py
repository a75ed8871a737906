"""The embedded state store: one SQLite file next to the models, plus an in-process answer cache.

Durability: WAL journal with ``synchronous=FULL``, so a method returns only after its commit is on
disk. Concurrency: FastAPI runs sync endpoints in a thread pool, so each thread gets its own
connection (WAL lets readers run beside the single writer) and writes take the write lock up front
(``BEGIN IMMEDIATE``) so two writers never deadlock upgrading a read lock.

Several processes may share the file (e.g. uvicorn workers): writes and generations live in the
database, so an invalidation made by one process is seen by the others; only the answer cache
itself is per process.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from api.state import codec, places
from api.state.base import StateUnavailable
from api.state.cache import MissStamps, TTLCache, WindowCounter

_SCHEMA = """
CREATE TABLE IF NOT EXISTS profiles (resident_id TEXT PRIMARY KEY, profile TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    resident_id TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_resident ON events (resident_id, seq);
CREATE TABLE IF NOT EXISTS overrides (service_id TEXT PRIMARY KEY, fields TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS generations (scope TEXT PRIMARY KEY, gen INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tombstones (hash TEXT PRIMARY KEY, erased_at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS places (service_id TEXT PRIMARY KEY, taken INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS place_holders (
    resident_id TEXT NOT NULL, service_id TEXT NOT NULL, PRIMARY KEY (resident_id, service_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS place_events (event_id TEXT PRIMARY KEY, resident_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS place_events_by_resident ON place_events (resident_id);
"""

#: The database and its -wal / -shm files hold special-category data: owner only.
FILE_MODE = 0o600
FOLDER_MODE = 0o750

# Generation scopes: one per resident and one global (bumped by service patches).
_GLOBAL = "*"


def _scope(resident_id: str) -> str:
    return "r:" + resident_id


class SQLiteStore:
    """``StateStore`` on a SQLite file. Nothing is opened until the first call (so the API can start
    and answer 503 while the disk is unavailable)."""

    def __init__(
        self,
        path: str | Path,
        *,
        cache_ttl: float = 300.0,
        cache_size: int = 10_000,
        audit_cap: int = 100_000,
        busy_timeout: float = 5.0,
    ):
        if audit_cap < 1:
            raise ValueError(f"audit_cap must be >= 1, got {audit_cap}")
        self.path = Path(path)
        self.audit_cap = audit_cap
        self.busy_timeout = busy_timeout
        self._cache = TTLCache(cache_size, cache_ttl)
        self._stamps = MissStamps(cache_size)
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        self._rates = WindowCounter()

    # -- connections and error mapping

    @contextmanager
    def _guard(self, what: str):
        try:
            yield
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state database {self.path}: {what} failed: {exc}") from exc

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self._closed:
            raise StateUnavailable(f"state database {self.path}: store is closed")
        self._private_files()
        # check_same_thread=False only so close() can close every thread's connection; each
        # connection is still used by the one thread that opened it.
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise sqlite3.OperationalError(f"could not switch to WAL journal (got {mode!r})")
            conn.execute("PRAGMA synchronous=FULL")
            # Erased residents' rows are overwritten on disk, not just unlinked.
            conn.execute("PRAGMA secure_delete=ON")
            conn.executescript(_SCHEMA)
        except BaseException:
            conn.close()
            raise
        self._private_files()
        with self._conns_lock:
            self._conns.append(conn)
        self._local.conn = conn
        return conn

    def _private_files(self) -> None:
        """Create the database 0600 before SQLite does (it would use the umask: 0644), and keep
        its -wal and -shm companions 0600 too."""
        try:
            if not self.path.exists():
                os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE))
            for suffix in ("", "-wal", "-shm"):
                target = self.path.with_name(self.path.name + suffix)
                if target.exists() and (target.stat().st_mode & 0o777) != FILE_MODE:
                    os.chmod(target, FILE_MODE)
        except OSError:
            pass  # an unwritable folder: connect() reports it as StateUnavailable

    @contextmanager
    def _write(self, what: str):
        """A write transaction, committed (durably) on normal exit and rolled back otherwise."""
        with self._guard(what):
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                # Also after a failed COMMIT, so the connection is usable for the next call.
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise

    @staticmethod
    def _bump(conn: sqlite3.Connection, scope: str) -> None:
        conn.execute(
            "INSERT INTO generations (scope, gen) VALUES (?, 1)"
            " ON CONFLICT (scope) DO UPDATE SET gen = gen + 1",
            (scope,),
        )

    def _generations(self, resident_id: str) -> tuple[int, int]:
        rows = self._conn().execute(
            "SELECT scope, gen FROM generations WHERE scope IN (?, ?)", (_scope(resident_id), _GLOBAL)
        ).fetchall()
        gens = dict(rows)
        return gens.get(_scope(resident_id), 0), gens.get(_GLOBAL, 0)

    # -- resident profiles

    def put_profile(self, resident_id: str, profile: dict) -> None:
        codec.encode_profile(resident_id, profile)  # field-by-field check, for a precise error
        body = codec.encode(profile, f"profile of resident {resident_id!r}")
        with self._write("put_profile") as conn:
            conn.execute(
                "INSERT INTO profiles (resident_id, profile) VALUES (?, ?)"
                " ON CONFLICT (resident_id) DO UPDATE SET profile = excluded.profile",
                (resident_id, body),
            )
            self._bump(conn, _scope(resident_id))

    def get_profile(self, resident_id: str) -> dict | None:
        with self._guard("get_profile"):
            row = self._conn().execute(
                "SELECT profile FROM profiles WHERE resident_id = ?", (resident_id,)
            ).fetchone()
        return None if row is None else codec.decode(row[0])

    def delete_resident(self, resident_id: str, tombstone: str | None = None) -> bool:
        """Erase the profile, the events and cached answers; record ``tombstone`` (a keyed hash of
        the id, never the id) so every replica refuses the resident from now on; then purge the
        bytes: ``secure_delete`` overwrites the freed pages and a WAL checkpoint removes the old
        copies from the -wal file."""
        codec.check_id(resident_id, "resident_id")
        with self._write("delete_resident") as conn:
            found = conn.execute("DELETE FROM profiles WHERE resident_id = ?", (resident_id,)).rowcount
            found += conn.execute("DELETE FROM events WHERE resident_id = ?", (resident_id,)).rowcount
            # The id itself must not stay behind, not even as a cache generation: drop its row and
            # bump the global generation instead, so no answer cached before the erasure (by any
            # process) can be served after it.
            conn.execute("DELETE FROM generations WHERE scope = ?", (_scope(resident_id),))
            self._bump(conn, _GLOBAL)
            if tombstone is not None:
                conn.execute("INSERT OR IGNORE INTO tombstones (hash, erased_at) VALUES (?, ?)",
                             (tombstone, time.time()))
            self._forget_places(conn, resident_id)
        self._cache.drop_resident(resident_id)
        self._stamps.drop_resident(resident_id)
        self._checkpoint()
        return found > 0

    def _checkpoint(self) -> None:
        """Copy the WAL into the database and truncate it (retried while readers hold it)."""
        with self._guard("checkpoint"):
            conn = self._conn()
            for _ in range(50):
                busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if not busy:
                    return
                time.sleep(0.02)

    def erased(self, tombstone: str) -> bool:
        with self._guard("erased"):
            row = self._conn().execute("SELECT 1 FROM tombstones WHERE hash = ?", (tombstone,)).fetchone()
        return row is not None

    def tombstones(self) -> set[str]:
        with self._guard("tombstones"):
            return {h for (h,) in self._conn().execute("SELECT hash FROM tombstones")}

    def resident_facts(self, resident_ids: list[str], tombstones: dict[str, str]) -> dict[str, dict]:
        """Per resident id: whether a profile is stored, how many events, whether erased
        (``tombstones``: id -> its tombstone hash). One read for a whole event batch."""
        out = {}
        with self._guard("resident_facts"):
            conn = self._conn()
            for rid in resident_ids:
                has = conn.execute("SELECT 1 FROM profiles WHERE resident_id = ?", (rid,)).fetchone()
                (n,) = conn.execute("SELECT count(*) FROM events WHERE resident_id = ?", (rid,)).fetchone()
                gone = conn.execute("SELECT 1 FROM tombstones WHERE hash = ?",
                                    (tombstones[rid],)).fetchone() if rid in tombstones else None
                out[rid] = {"profile": has is not None, "events": int(n), "erased": gone is not None}
        return out

    # -- feedback events

    def add_events(self, events: list[dict]) -> tuple[int, int]:
        rows = codec.encode_events(events)
        accepted = 0
        touched: set[str] = set()
        with self._write("add_events") as conn:
            for event_id, resident_id, body in rows:
                # The UNIQUE event_id makes a replay (or a repeat inside the batch) a no-op.
                inserted = conn.execute(
                    "INSERT OR IGNORE INTO events (event_id, resident_id, body) VALUES (?, ?, ?)",
                    (event_id, resident_id, body),
                ).rowcount
                if inserted:
                    accepted += 1
                    touched.add(resident_id)
            for resident_id in touched:
                self._bump(conn, _scope(resident_id))
        return accepted, len(rows) - accepted

    def resident_events(self, resident_id: str) -> list[dict]:
        with self._guard("resident_events"):
            rows = self._conn().execute(
                "SELECT body FROM events WHERE resident_id = ? ORDER BY seq", (resident_id,)
            ).fetchall()
        return [codec.decode(body) for (body,) in rows]

    def recent_events(self, resident_id: str, limit: int) -> list[dict]:
        """The resident's ``limit`` most recent events, oldest first (a bounded read)."""
        with self._guard("recent_events"):
            rows = self._conn().execute(
                "SELECT body FROM events WHERE resident_id = ? ORDER BY seq DESC LIMIT ?",
                (resident_id, int(limit))).fetchall()
        return [codec.decode(body) for (body,) in reversed(rows)]

    def iter_events(self, page: int = 1000) -> Iterator[dict]:
        """Every event in the order it was accepted, read in pages (a long export holds no lock)."""
        last = 0
        while True:
            with self._guard("iter_events"):
                rows = self._conn().execute(
                    "SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (last, page)
                ).fetchall()
            for seq, body in rows:
                yield codec.decode(body)
            if len(rows) < page:
                return
            last = rows[-1][0]

    # -- service overrides

    def patch_service(self, service_id: str, fields: dict) -> dict:
        codec.merge_override({}, fields, service_id)  # validate before taking the write lock
        with self._write("patch_service") as conn:
            row = conn.execute("SELECT fields FROM overrides WHERE service_id = ?", (service_id,)).fetchone()
            merged = codec.merge_override(codec.decode(row[0]) if row else {}, fields, service_id)
            if merged:
                conn.execute(
                    "INSERT INTO overrides (service_id, fields) VALUES (?, ?)"
                    " ON CONFLICT (service_id) DO UPDATE SET fields = excluded.fields",
                    (service_id, codec.encode(merged, "overrides")),
                )
            else:
                conn.execute("DELETE FROM overrides WHERE service_id = ?", (service_id,))
            self._bump(conn, _GLOBAL)
        return merged

    def service_overrides(self) -> dict[str, dict]:
        with self._guard("service_overrides"):
            rows = self._conn().execute("SELECT service_id, fields FROM overrides").fetchall()
        return {sid: codec.decode(fields) for sid, fields in rows}

    # -- live capacity (see api/state/places.py)

    def record_places(self, events: list[dict]) -> None:
        rows = places.moves(events)
        if not rows:
            return
        with self._write("record_places") as conn:
            changed = False
            for event_id, resident_id, service_id, move in rows:
                if not conn.execute("INSERT OR IGNORE INTO place_events (event_id, resident_id) VALUES (?, ?)",
                                    (event_id, resident_id)).rowcount:
                    continue  # counted before
                if move == places.TAKE:
                    held = conn.execute("INSERT OR IGNORE INTO place_holders (resident_id, service_id) VALUES (?, ?)",
                                        (resident_id, service_id)).rowcount
                else:
                    held = conn.execute("DELETE FROM place_holders WHERE resident_id = ? AND service_id = ?",
                                        (resident_id, service_id)).rowcount
                if held:
                    conn.execute("INSERT INTO places (service_id, taken) VALUES (?, ?)"
                                 " ON CONFLICT (service_id) DO UPDATE SET taken = taken + excluded.taken",
                                 (service_id, move))
                    changed = True
            if changed:  # remaining places change what is suggested: cached answers are stale
                self._bump(conn, _GLOBAL)

    def reset_places(self, service_id: str) -> None:
        codec.check_id(service_id, "service_id")
        with self._write("reset_places") as conn:
            conn.execute("DELETE FROM places WHERE service_id = ?", (service_id,))
            self._bump(conn, _GLOBAL)

    def capacity_state(self) -> tuple[dict[str, int], dict[str, float]]:
        with self._guard("capacity_state"):
            conn = self._conn()
            taken = dict(conn.execute("SELECT service_id, taken FROM places WHERE taken != 0").fetchall())
            row = conn.execute("SELECT value FROM meta WHERE key = 'shadow_prices'").fetchone()
        return taken, ({} if row is None else codec.decode(row[0]))

    def put_shadow_prices(self, prices: dict[str, float]) -> None:
        body = codec.encode(places.check_prices(prices), "shadow prices")
        with self._write("put_shadow_prices") as conn:
            conn.execute("INSERT INTO meta (key, value) VALUES ('shadow_prices', ?)"
                         " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (body,))
            self._bump(conn, _GLOBAL)  # discounts change what is suggested

    def capacity_version(self) -> int:
        # the global generation: bumped by every change of places, prices (and service patches)
        with self._guard("capacity_version"):
            row = self._conn().execute("SELECT gen FROM generations WHERE scope = ?", (_GLOBAL,)).fetchone()
        return 0 if row is None else int(row[0])

    @staticmethod
    def _forget_places(conn: sqlite3.Connection, resident_id: str) -> None:
        """Erasure: which places the resident held and which of their events were counted. The
        counters stay: the places are still taken, only no longer by a known person."""
        conn.execute("DELETE FROM place_holders WHERE resident_id = ?", (resident_id,))
        conn.execute("DELETE FROM place_events WHERE resident_id = ?", (resident_id,))

    # -- audit log (newest first when read; the oldest entries beyond ``audit_cap`` are dropped)

    def audit(self, entry: dict) -> None:
        self.audit_many([entry])

    def audit_many(self, entries: list[dict]) -> None:
        if not entries:
            return
        bodies = [(codec.encode(e, "audit entry"),) for e in entries]
        with self._write("audit") as conn:
            conn.executemany("INSERT INTO audit (entry) VALUES (?)", bodies)
            # one statement for the cap: every served list pays for it, inside its durable commit
            conn.execute("DELETE FROM audit WHERE id <= (SELECT max(id) FROM audit) - ?", (self.audit_cap,))

    def audit_entries(self, limit: int = 100, offset: int = 0) -> list[dict]:
        codec.check_page(limit, offset)
        with self._guard("audit_entries"):
            rows = self._conn().execute(
                "SELECT entry FROM audit ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset)
            ).fetchall()
        return [codec.decode(body) for (body,) in rows]

    # -- recommendation cache

    def cache_get(self, resident_id: str, params_key: str, model_version: str) -> dict | None:
        key = (resident_id, params_key, model_version)
        with self._guard("cache_get"):
            stamp = self._generations(resident_id)
        hit = self._cache.get(key)
        if hit is not None and hit[0] == stamp:
            return codec.decode(hit[1])  # a fresh copy: callers may mutate what they get
        self._stamps.note(key, stamp)
        return None

    def cache_put(self, resident_id: str, params_key: str, model_version: str, value: dict) -> None:
        key = (resident_id, params_key, model_version)
        body = codec.encode(value, "cached answer")
        with self._guard("cache_put"):
            current = self._generations(resident_id)
        stamp = self._stamps.pop(key) or current
        if stamp == current:  # else the answer was computed from data that has changed since
            self._cache.put(key, stamp, body)

    # -- rate counters: per process (each worker limits on its own; Redis shares them)

    def count_hits(self, bucket: str, amount: int, window_s: int) -> int:
        """Add ``amount`` to ``bucket`` in the current ``window_s``-second window; the new total."""
        return self._rates.add(bucket, amount, window_s)

    # -- model version notice

    def publish_model_version(self, version: str) -> None:
        codec.check_id(version, "model version")
        with self._write("publish_model_version") as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('model_version', ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (version,),
            )

    def model_version_notice(self) -> str | None:
        with self._guard("model_version_notice"):
            row = self._conn().execute("SELECT value FROM meta WHERE key = 'model_version'").fetchone()
        return None if row is None else row[0]

    def ping(self) -> bool:
        try:
            with self._guard("ping"):
                self._conn().execute("SELECT 1").fetchone()
            return True
        except StateUnavailable:
            return False

    def close(self) -> None:
        self._closed = True
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()
