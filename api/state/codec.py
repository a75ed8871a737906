"""Validation and JSON encoding shared by both state backends.

Both backends store the same JSON text, so a value round-trips identically whichever is configured,
and bad input is rejected before anything is written (which is what makes a batch all-or-nothing).
"""
from __future__ import annotations

import json
from typing import Any

import orjson

# Compact and strict: NaN/Infinity are not JSON and would break exports read by other tools.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode(value: Any, what: str) -> str:
    """JSON text of ``value``; ValueError naming ``what`` when it is not plain JSON."""
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} is not JSON-serialisable: {exc}") from None


def decode(text: str | bytes) -> Any:
    # orjson parses the cached answers the portal call returns several times faster than json
    return orjson.loads(text)


def check_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field} must be a non-empty string, got {value!r}")
    return value


def encode_profile(resident_id: str, profile: dict) -> dict[str, str]:
    """field -> JSON text; the error names the offending field (never its value: it is personal)."""
    check_id(resident_id, "resident_id")
    if not isinstance(profile, dict):
        raise ValueError(f"profile of resident {resident_id!r} must be a dict, got {type(profile).__name__}")
    out: dict[str, str] = {}
    for key, value in profile.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"profile of resident {resident_id!r}: field names must be non-empty strings, got {key!r}")
        try:
            out[key] = _ENCODER.encode(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"profile of resident {resident_id!r}: field {key!r} is not JSON-serialisable"
            ) from None
    return out


def encode_events(events: list[dict]) -> list[tuple[str, str, str]]:
    """(event_id, resident_id, JSON) per event, validating the whole batch before any write."""
    if not isinstance(events, (list, tuple)):
        raise ValueError(f"events must be a list of dicts, got {type(events).__name__}")
    out = []
    for i, event in enumerate(events):
        if not isinstance(event, dict):
            raise ValueError(f"event #{i} must be a dict, got {type(event).__name__}")
        event_id = check_id(event.get("event_id"), f"event #{i}: event_id")
        resident_id = check_id(event.get("resident_id"), f"event #{i} ({event_id}): resident_id")
        out.append((event_id, resident_id, encode(event, f"event #{i} ({event_id})")))
    return out


def merge_override(current: dict, fields: dict, service_id: str) -> dict:
    """Merge a patch into a service's overrides; a field set to None drops that override."""
    check_id(service_id, "service_id")
    if not isinstance(fields, dict):
        raise ValueError(f"patch of service {service_id!r} must be a dict, got {type(fields).__name__}")
    merged = dict(current)
    for key, value in fields.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"patch of service {service_id!r}: field names must be non-empty strings, got {key!r}")
        if value is None:
            merged.pop(key, None)
        else:
            encode(value, f"patch of service {service_id!r}: field {key!r}")
            merged[key] = value
    return merged


def check_page(limit: int, offset: int) -> None:
    for name, value in (("limit", limit), ("offset", offset)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if value > 2**62:  # past SQLite's integer range: an overflow, not a page
            raise ValueError(f"{name} must be at most {2**62}, got {value!r}")
