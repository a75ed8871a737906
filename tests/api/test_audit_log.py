"""The audit writer used from worker threads (``AuditLog.record_sync``): engine requests write their
served list there, sharing commits, and none returns before its own entry is durable."""
from __future__ import annotations

import threading

import pytest

from api.audit import AuditBacklogFull, AuditLog
from api.hashing import Hasher
from api.state.base import StateUnavailable
from api.state.sqlite import SQLiteStore


def _fields(i: int) -> dict:
    return dict(request_id=f"req-{i}", key_id="k1", route="POST /v1/recommendations", resident_id=None,
                profile={"age": 30 + i}, model_version="v1", service_ids=[f"S{i:03d}"])


def _in_threads(n: int, fn) -> list:
    start = threading.Barrier(n)
    out: list = [None] * n

    def run(i):
        start.wait()
        try:
            out[i] = fn(i)
        except BaseException as exc:  # noqa: BLE001 -- reported to the test
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


class SlowStore(SQLiteStore):
    """A real SQLite store whose commits take a while, so threads pile up behind one another."""

    commits = 0

    def audit_many(self, entries):
        threading.Event().wait(0.02)
        type(self).commits += 1
        super().audit_many(entries)


def test_threads_recording_at_once_each_return_after_their_own_entry_is_stored(tmp_path):
    store = SlowStore(tmp_path / "state.sqlite3")
    log = AuditLog(store, Hasher(b"k" * 32), tmp_path / "spool")

    def record_then_read(i):
        log.record_sync(**_fields(i))
        # the moment it returns, the entry must be in the store
        return any(e["request_id"] == f"req-{i}" for e in store.audit_entries(limit=100))

    assert _in_threads(12, record_then_read) == [True] * 12
    entries = store.audit_entries(limit=100)
    assert sorted(e["request_id"] for e in entries) == sorted(f"req-{i}" for i in range(12))
    assert all(e["profile_hash"] and "age" not in str(e) for e in entries)
    assert SlowStore.commits < 12  # commits were shared
    store.close()


def test_every_thread_of_a_failed_commit_is_refused(tmp_path):
    class DownStore(SlowStore):
        def audit_many(self, entries):
            threading.Event().wait(0.02)
            raise StateUnavailable("down")

    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the spool folder should be")
    log = AuditLog(DownStore(tmp_path / "state.sqlite3"), Hasher(b"k" * 32), blocked / "spool", backoff=0)
    out = _in_threads(6, lambda i: log.record_sync(**_fields(i)))
    assert all(isinstance(r, AuditBacklogFull) for r in out), out
    assert log.pending == 0


def test_a_down_store_spools_every_threads_entry(tmp_path):
    class DownStore(SlowStore):
        def audit_many(self, entries):
            raise StateUnavailable("down")

    log = AuditLog(DownStore(tmp_path / "state.sqlite3"), Hasher(b"k" * 32), tmp_path / "spool")
    assert _in_threads(5, lambda i: log.record_sync(**_fields(i))) == [None] * 5
    spooled = "".join(p.read_text() for p in (tmp_path / "spool").glob("*.jsonl"))
    assert all(f'"req-{i}"' in spooled for i in range(5))


def test_record_sync_refuses_when_the_backlog_is_full(tmp_path):
    log = AuditLog(SQLiteStore(tmp_path / "state.sqlite3"), Hasher(b"k" * 32), tmp_path / "spool",
                   max_pending=0)
    with pytest.raises(AuditBacklogFull):
        log.record_sync(**_fields(1))
