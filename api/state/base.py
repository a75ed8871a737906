"""The state contract shared by the embedded (SQLite) and Redis backends.

The API keeps everything that changes between model trainings here: resident profiles, feedback
events, service overrides (status, capacity), the audit log, the recommendation cache and the
model-version notice that makes replicas reload together. Both backends implement this protocol
and one suite of contract tests (tests/api/test_state_contract.py) runs against both.

Any method may raise ``StateUnavailable`` when the store cannot be reached; the API turns that
into 503 with Retry-After. A method that returns normally has made its write durable.
"""
from __future__ import annotations

from typing import Iterator, Protocol


class StateUnavailable(RuntimeError):
    """The state store cannot be reached (or did not confirm a write)."""


class StateStore(Protocol):
    # -- resident profiles (the contract's resident fields, as a JSON-ready dict)
    def put_profile(self, resident_id: str, profile: dict) -> None: ...
    def get_profile(self, resident_id: str) -> dict | None: ...

    def delete_resident(self, resident_id: str, tombstone: str | None = None) -> bool:
        """Erase the profile, the resident's events and every cached answer about them, record the
        tombstone (a keyed hash of the id) and purge the erased bytes from disk."""
        ...

    def erased(self, tombstone: str) -> bool: ...
    def tombstones(self) -> set[str]: ...

    def resident_facts(self, resident_ids: list[str], tombstones: dict[str, str]) -> dict[str, dict]:
        """id -> {"profile": stored?, "events": how many stored, "erased": tombstoned?}."""
        ...

    # -- feedback events: dicts with event_id, resident_id, service_id, event, timestamp (epoch s)
    def add_events(self, events: list[dict]) -> tuple[int, int]:
        """Store a batch atomically and durably; return (accepted, duplicates). Idempotent by event_id."""
        ...

    def resident_events(self, resident_id: str) -> list[dict]: ...
    def recent_events(self, resident_id: str, limit: int) -> list[dict]: ...
    def iter_events(self) -> Iterator[dict]: ...

    # -- service overrides: service_id -> {"status": ..., "capacity": ...}
    def patch_service(self, service_id: str, fields: dict) -> dict: ...
    def service_overrides(self) -> dict[str, dict]: ...

    # -- live capacity: places taken since a service's capacity was last set (on every replica)
    def record_places(self, events: list[dict]) -> None:
        """Apply events to the place counters, atomically and idempotently by event_id: ``referred`` or
        ``enrolled`` takes a place at the service unless the resident already holds one there;
        ``completed`` or ``declined`` gives a held place back; other events change nothing."""
        ...

    def reset_places(self, service_id: str) -> None:
        """Start counting again from zero (the service's capacity was just set). Held places are
        remembered, so one given back later adds a place to the new capacity."""
        ...

    def capacity_state(self) -> tuple[dict[str, int], dict[str, float]]:
        """(service_id -> places taken, non-zero only; service_id -> shadow price) in one read."""
        ...

    def put_shadow_prices(self, prices: dict[str, float]) -> None:
        """Replace the shadow prices (value of one more place) from the last allocation."""
        ...

    def capacity_version(self) -> int:
        """A number that changes whenever ``capacity_state`` may have (one cheap read, so a replica
        re-reads the whole state only after a change)."""
        ...

    # -- audit log of served lists
    def audit(self, entry: dict) -> None: ...

    def audit_many(self, entries: list[dict]) -> None:
        """Append several entries in one durable write (the API's audit writer batches)."""
        ...
    def audit_entries(self, limit: int = 100, offset: int = 0) -> list[dict]: ...

    # -- rate counters (Redis: shared by every replica; SQLite: per process)
    def count_hits(self, bucket: str, amount: int, window_s: int) -> int: ...

    # -- recommendation cache; entries are dropped when the resident's profile or events change,
    #    a service is patched, or the model version changes
    def cache_get(self, resident_id: str, params_key: str, model_version: str) -> dict | None: ...
    def cache_put(self, resident_id: str, params_key: str, model_version: str, value: dict) -> None: ...

    # -- model version notice: replicas poll/subscribe and reload when it changes
    def publish_model_version(self, version: str) -> None: ...
    def model_version_notice(self) -> str | None: ...

    def ping(self) -> bool: ...
    def close(self) -> None: ...
