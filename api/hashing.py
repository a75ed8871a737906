"""Keyed hashes (HMAC-SHA256) of resident ids and inline profiles.

The audit log and erasure tombstones must link records about one resident without holding the
resident's id or profile. A plain sha256 of a low-entropy value (an id like ``R000123``, an age and
a district) is reversed by trying every candidate; a keyed hash is not, without the secret. The
secret is 32 random bytes in a file readable by its owner only (``Settings.secret_path``),
created on first use; replicas sharing a Redis store must share the file.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import orjson

SECRET_BYTES = 32


def load_secret(path: str | os.PathLike, create: bool = True) -> bytes:
    """The secret in ``path``, created (0600, atomically, exclusively) when missing."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if not create:
            raise
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = os.urandom(SECRET_BYTES)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return load_secret(path, create=False)
        with os.fdopen(fd, "wb") as f:
            f.write(secret.hex().encode())
            f.flush()
            os.fsync(f.fileno())
        return secret
    try:
        secret = bytes.fromhex(data.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise ValueError(f"secret file {path.name}: expected hex digits") from None
    if len(secret) < 16:
        raise ValueError(f"secret file {path.name}: at least 16 bytes of secret expected")
    return secret


class Hasher:
    def __init__(self, secret: bytes):
        self._secret = secret

    def _mac(self, data: bytes) -> str:
        return hmac.new(self._secret, data, hashlib.sha256).hexdigest()

    def resident(self, resident_id: str) -> str:
        return self._mac(b"resident\0" + resident_id.encode("utf-8"))

    def profile(self, profile: dict) -> str:
        """Of the canonical JSON (sorted keys): the same profile always gives the same hash."""
        return self._mac(b"profile\0" + orjson.dumps(profile, option=orjson.OPT_SORT_KEYS))
