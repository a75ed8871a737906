"""The audit trail of served lists: every list is written durably before it is answered.

A request on the event loop hands its entry to the writer thread and waits for it (``await
audit.record(...)``); a caller in a worker thread writes it there (``audit.record_sync(...)``).
Whoever writes takes every entry waiting at that moment and writes them in one durable commit --
one fsync for the whole group (SQLite ``synchronous=FULL``, Redis ``appendfsync always``) -- then
releases the waiting requests. So a list is never answered unless its entry is on disk, and under
load one commit serves many requests (group commit).

When the store cannot be reached (inline profiles keep being served during a Redis outage), the
group goes to a local spool file instead (``<models>/audit-spool/<pid>.jsonl``, 0600, fsynced),
which the writer copies into the store once it answers again -- also spools left behind by a
process that died. If neither the store nor the spool can take an entry, the list is not served
(503).

An entry holds the key id, a keyed hash of the resident id or of the inline profile (never the id
or the profile: see ``api.hashing``), the model version and the returned service ids.
"""
from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import threading
import time
from collections import deque
from pathlib import Path

import orjson

from api.state.base import StateUnavailable

log = logging.getLogger("servicematch.audit")

BATCH = 500


class AuditBacklogFull(RuntimeError):
    """Entries cannot be made durable (store and spool both failing, or too many waiting)."""


class _Spool:
    """This process's append-only spool file, locked for its lifetime so no other process drains
    it while it is in use."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / f"{os.getpid()}.jsonl"
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._fd = fd
        return self._fd

    def append(self, entries: list[dict]) -> None:
        fd = self._open()
        os.write(fd, b"".join(orjson.dumps(e) + b"\n" for e in entries))
        os.fsync(fd)

    def has_entries(self) -> bool:
        try:
            return any(p.stat().st_size > 0 for p in self.folder.glob("*.jsonl"))
        except OSError:
            return False

    def drain(self, write) -> int:
        """Copy every spool this process can lock (its own, and dead processes') into the store
        with ``write(entries)``; a spool is emptied only after its entries are written."""
        moved = 0
        try:
            paths = sorted(self.folder.glob("*.jsonl"))
        except OSError:
            return 0
        for path in paths:
            own = path == self.path and self._fd is not None
            try:
                fd = self._fd if own else os.open(path, os.O_RDWR)
            except OSError:
                continue
            try:
                if not own:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except OSError:
                        continue  # a live process's spool: it drains its own
                data = os.pread(fd, os.fstat(fd).st_size, 0)
                entries = [orjson.loads(line) for line in data.splitlines() if line.strip()]
                for i in range(0, len(entries), BATCH):
                    write(entries[i:i + BATCH])
                moved += len(entries)
                if own:
                    os.ftruncate(fd, 0)
                    os.fsync(fd)
                else:
                    os.unlink(path)
            finally:
                if not own:
                    os.close(fd)
        return moved

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            try:
                if self.path.stat().st_size == 0:
                    self.path.unlink()
            except OSError:
                pass


class AuditLog:
    def __init__(self, store, hasher, spool_dir: str | os.PathLike, metrics=None,
                 max_pending: int = 10_000, backoff: float = 1.0):
        self.store = store
        self.hasher = hasher
        self.metrics = metrics
        self.max_pending = max_pending
        self.backoff = backoff
        self._spool = _Spool(Path(spool_dir))
        #: (entry, the request's future and its loop) or (entry, a worker thread's _Written, None)
        self._pending: deque[tuple[dict, object, asyncio.AbstractEventLoop | None]] = deque()
        self._store_down_until = 0.0
        self._io_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def entry(self, *, request_id: str, key_id: str | None, route: str, resident_id: str | None,
              profile: dict | None, model_version: str, service_ids: list[str]) -> dict:
        return {
            "time": time.time(), "request_id": request_id, "key_id": key_id, "route": route,
            "resident_hash": self.hasher.resident(resident_id) if resident_id is not None else None,
            "profile_hash": self.hasher.profile(profile) if profile is not None else None,
            "model_version": model_version, "service_ids": service_ids,
        }

    async def record(self, **fields) -> None:
        """Audit one served list; returns once the entry is durable (AuditBacklogFull if it
        cannot be made so)."""
        if len(self._pending) >= self.max_pending:
            raise AuditBacklogFull(f"{len(self._pending)} audit entries are waiting to be written")
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._pending.append((self.entry(**fields), done, loop))
        self._wake.set()
        if self._thread is None:  # not started (an app used without its lifespan): write here
            self._write_pending()
        await done

    def record_sync(self, **fields) -> None:
        """From a worker thread: returns once this entry is durable (AuditBacklogFull if it cannot be
        made so). Threads recording at once share commits: the one holding the writer's lock writes
        every entry waiting, and the others find theirs written when they get the lock."""
        if len(self._pending) >= self.max_pending:
            raise AuditBacklogFull(f"{len(self._pending)} audit entries are waiting to be written")
        slot = _Written()
        self._pending.append((self.entry(**fields), slot, None))
        while not slot.done:
            self._write_pending()
        if slot.error is not None:
            raise slot.error

    @property
    def pending(self) -> int:
        return len(self._pending)

    # -- the writer

    def _write(self, entries: list[dict]) -> None:
        """Durably: to the store, else to the spool. Raises when neither can take them."""
        if time.monotonic() >= self._store_down_until:
            try:
                self.store.audit_many(entries)
                return
            except StateUnavailable:
                self._store_down_until = time.monotonic() + self.backoff
            except Exception:  # noqa: BLE001 -- any store failure: keep the entries durable anyway
                log.exception("audit write to the store failed; spooling")
                self._store_down_until = time.monotonic() + self.backoff
        self._spool.append(entries)

    def _write_pending(self) -> int:
        with self._io_lock:
            group = [self._pending.popleft() for _ in range(min(BATCH, len(self._pending)))]
            if not group:
                return 0
            error: BaseException | None = None
            try:
                self._write([entry for entry, _, _ in group])
            except Exception as exc:  # noqa: BLE001
                log.error("%d audit entries could not be written (%s): lists refused",
                          len(group), type(exc).__name__)
                error = AuditBacklogFull("audit log cannot be written")
            if self.metrics is not None:
                self.metrics.audit_pending.set(len(self._pending))
            # one wake-up per event loop for the whole group, not one per request; worker threads'
            # entries are settled before the lock is let go, so a thread waiting for it finds its own
            by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future]] = {}
            for _, done, loop in group:
                if loop is None:
                    done.error = error
                    done.done = True
                else:
                    by_loop.setdefault(loop, []).append(done)
        for loop, futures in by_loop.items():
            loop.call_soon_threadsafe(_settle, futures, error)
        return len(group)

    def flush(self) -> int:
        """Copy spooled entries into the store (when it answers); returns how many moved."""
        while self._pending:
            self._write_pending()
        if not self._spool.has_entries():
            return 0
        with self._io_lock:
            try:
                return self._spool.drain(self.store.audit_many)
            except StateUnavailable:
                self._store_down_until = time.monotonic() + self.backoff
                return 0

    def _run(self) -> None:
        next_drain = 0.0
        while not self._stop.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            try:
                while self._pending:
                    self._write_pending()
                now = time.monotonic()
                if now >= next_drain and now >= self._store_down_until:
                    next_drain = now + self.backoff
                    self.flush()
            except Exception:  # noqa: BLE001 -- keep the writer alive
                log.exception("audit writer failed")

    def start(self) -> None:
        try:
            self.flush()  # what a previous process left in its spool
        except Exception:  # noqa: BLE001
            log.exception("audit spool could not be copied at start")
        self._thread = threading.Thread(target=self._run, name="servicematch-audit", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001
            log.error("audit spool kept for the next start (%s)", type(exc).__name__)
        self._spool.close()


class _Written:
    """A worker thread's entry: set once a writer has tried to make it durable."""

    __slots__ = ("done", "error")

    def __init__(self):
        self.done = False
        self.error: BaseException | None = None


def _settle(futures: list[asyncio.Future], error: BaseException | None) -> None:
    for done in futures:
        if done.done():
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
