"""API keys: who may call the API, with which role, kept as hashes in a TOML keys file.

A token looks like ``sm_<key id>_<secret>``. It is shown once, when the key is made; the file keeps
only its SHA-256. The secret is 256 random bits, so a fast hash is enough (there is nothing to
brute-force), the embedded key id makes lookup O(1), and the comparison is constant-time.

The file (``--keys FILE`` or ``SERVICEMATCH_KEYS_FILE``)::

    [keys.3f9a1c2b7d4e8a60]
    role = "caseworker"
    label = "district office 4"
    created = "2026-05-09T07:35:25Z"
    revoked = false
    hash = "sha256:…"

Command line: ``servicematch keys add|list|revoke`` (``api.cli``).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import os
import re
import secrets
import tomllib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import tomli_w

from api.limits import ROLES
from recommender.files import atomic_file

ENV_VAR = "SERVICEMATCH_KEYS_FILE"  # Settings.keys_file
TOKEN_PREFIX = "sm"

_KEY_ID = re.compile(r"^[0-9a-z]{1,64}$")
_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")


class KeyFileError(ValueError):
    """The keys file is missing, unreadable or malformed; the message names the file and entry."""


@dataclass(frozen=True)
class KeyInfo:
    id: str
    role: str
    label: str | None = None


def keys_path(arg: str | Path | None = None, settings=None) -> Path:
    """The keys file: the ``--keys`` argument, else the settings' (``$SERVICEMATCH_KEYS_FILE``)."""
    if not arg and settings is None:
        from api.settings import Settings

        settings = Settings.from_env()
    value = arg or settings.keys_file
    if not value:
        raise KeyFileError(f"no API keys file: pass --keys FILE or set {ENV_VAR}")
    return Path(value)


def _digest(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def _parse_token(token: str) -> tuple[str, str] | None:
    # The secret is URL-safe base64 and may itself contain "_": split at most twice.
    parts = token.split("_", 2) if isinstance(token, str) else []
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not _KEY_ID.match(parts[1]) or not parts[2]:
        return None
    return parts[1], parts[2]


# -- the file

def _read(path: Path, missing_ok: bool) -> dict[str, dict]:
    """key id -> entry, every entry checked; KeyFileError naming the file and entry otherwise."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if missing_ok:
            return {}
        raise KeyFileError(f"API keys file {path} does not exist (create a key with `servicematch keys add --role ROLE --keys {path}`)") from None
    except OSError as exc:
        raise KeyFileError(f"API keys file {path} cannot be read: {exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KeyFileError(f"API keys file {path} is not valid TOML: {exc}") from None
    unknown = set(data) - {"keys"}
    if unknown:
        raise KeyFileError(f"API keys file {path}: unexpected top-level entries {sorted(unknown)} (only [keys.<id>] tables)")
    keys = data.get("keys", {})
    if not isinstance(keys, dict):
        raise KeyFileError(f"API keys file {path}: 'keys' must be a table of [keys.<id>] entries")
    for key_id, entry in keys.items():
        where = f"API keys file {path}: entry [keys.{key_id}]"
        if not _KEY_ID.match(key_id):
            raise KeyFileError(f"{where}: key id must be 1-64 lower-case letters or digits")
        if not isinstance(entry, dict):
            raise KeyFileError(f"{where} must be a table")
        if entry.get("role") not in ROLES:
            raise KeyFileError(f"{where}: role must be one of {', '.join(ROLES)}, got {entry.get('role')!r}")
        if not isinstance(entry.get("hash"), str) or not _HASH.match(entry["hash"]):
            raise KeyFileError(f"{where}: hash must be 'sha256:' followed by 64 hex digits")
        if not isinstance(entry.get("revoked", False), bool):
            raise KeyFileError(f"{where}: revoked must be true or false")
        if "label" in entry and not isinstance(entry["label"], str):
            raise KeyFileError(f"{where}: label must be a string")
        if "created" in entry and not isinstance(entry["created"], str):
            raise KeyFileError(f"{where}: created must be a string (ISO 8601 time)")
    return keys


def _write(path: Path, keys: dict[str, dict]) -> None:
    """Replace the file atomically (temp + fsync + rename), readable by its owner only."""
    # mkstemp creates the temporary file 0600, so the keys are never readable by others
    with atomic_file(path, "wb") as fh:
        tomli_w.dump({"keys": keys}, fh)


@contextlib.contextmanager
def _locked(path: Path):
    """Serialise read-modify-write of the keys file between processes (a sidecar lock file, since
    the keys file itself is replaced on every write)."""
    lock = path.parent / f".{path.name}.lock"
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise KeyFileError(f"API keys file {path} cannot be written: {exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    except OSError as exc:
        raise KeyFileError(f"API keys file {path} cannot be written: {exc}") from None
    finally:
        os.close(fd)


# -- operations

def add_key(path: str | Path, role: str, label: str | None = None) -> tuple[str, str]:
    """Make a key; return ``(key_id, token)``. The token is not stored anywhere: show it once."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if label is not None and not isinstance(label, str):
        raise ValueError(f"label must be a string, got {type(label).__name__}")
    path = Path(path)
    with _locked(path):
        keys = _read(path, missing_ok=True)
        key_id = secrets.token_hex(8)
        while key_id in keys:
            key_id = secrets.token_hex(8)
        token = f"{TOKEN_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        entry = {
            "role": role,
            "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "revoked": False,
            "hash": _digest(token),
        }
        if label is not None:
            entry["label"] = label
        keys[key_id] = entry
        _write(path, keys)
    return key_id, token


def list_keys(path: str | Path) -> list[dict]:
    """id, role, label, created, revoked of every key (never hashes or secrets), oldest first."""
    keys = _read(Path(path), missing_ok=False)
    rows = [
        {
            "id": key_id,
            "role": e["role"],
            "label": e.get("label"),
            "created": e.get("created"),
            "revoked": e.get("revoked", False),
        }
        for key_id, e in keys.items()
    ]
    return sorted(rows, key=lambda r: (r["created"] or "", r["id"]))


def revoke_key(path: str | Path, key_id: str) -> None:
    """Mark a key revoked (kept in the file for the record). KeyError for an unknown id."""
    path = Path(path)
    with _locked(path):
        keys = _read(path, missing_ok=False)
        if key_id not in keys:
            raise KeyError(f"no API key {key_id!r} in {path}")
        keys[key_id]["revoked"] = True
        _write(path, keys)


class KeyRing:
    """The keys of one file, loaded once, for authenticating requests without touching the disk."""

    def __init__(self, entries: dict[str, tuple[str, str, str | None]], path: Path | None = None):
        # key id -> (hash, role, label), live keys only
        self._entries = entries
        self.path = path
        self._stat = self._file_stat()

    @classmethod
    def load(cls, path: str | Path) -> "KeyRing":
        path = Path(path)
        keys = _read(path, missing_ok=False)
        live = {
            key_id: (e["hash"], e["role"], e.get("label"))
            for key_id, e in keys.items()
            if not e.get("revoked", False)
        }
        return cls(live, path)

    def _file_stat(self) -> tuple | None:
        if self.path is None:
            return None
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def changed(self) -> bool:
        """Whether the file was replaced since loading (e.g. a key was revoked): reload then."""
        return self._file_stat() != self._stat

    def authenticate(self, token: str) -> KeyInfo | None:
        parsed = _parse_token(token)
        if parsed is None:
            return None
        entry = self._entries.get(parsed[0])
        if entry is None:
            return None
        stored, role, label = entry
        if not hmac.compare_digest(_digest(token), stored):
            return None
        return KeyInfo(id=parsed[0], role=role, label=label)

    def __len__(self) -> int:
        return len(self._entries)
