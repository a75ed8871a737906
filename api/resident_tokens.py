"""Resident tokens: bind portal calls to the signed-in resident.

A deployment that configures a public key (``Settings.resident_token_key_file``, PEM) requires
every portal call to carry ``X-Resident-Token: <JWT>`` signed by its identity provider; ``sub`` is
the resident id, ``exp`` is required. The portal is then served only for that resident: another
resident id is 403, a missing or bad token 401. Verified with PyJWT, asymmetric algorithms only
(a public key cannot be used as an HMAC secret).
"""
from __future__ import annotations

from pathlib import Path

import jwt
from fastapi import HTTPException

HEADER = b"x-resident-token"
_ASYMMETRIC = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}


class ResidentTokens:
    def __init__(self, key_file: str | Path, algorithms: tuple[str, ...], audience: str | None = None):
        bad = set(algorithms) - _ASYMMETRIC
        if bad:
            raise ValueError(f"resident_token_algorithms: {sorted(bad)} are not public-key algorithms")
        self.key = Path(key_file).read_bytes()
        self.algorithms = list(algorithms)
        self.audience = audience

    def resident(self, scope) -> str:
        """The resident id the request's token is for; 401 without a valid token."""
        token = None
        for name, value in scope["headers"]:
            if name == HEADER:
                token = value.decode("latin-1").strip()
                break
        if not token:
            raise HTTPException(401, "portal calls need X-Resident-Token (the signed-in resident's token)",
                                headers={"WWW-Authenticate": "Bearer"})
        try:
            claims = jwt.decode(token, self.key, algorithms=self.algorithms, audience=self.audience,
                                options={"require": ["sub", "exp"], "verify_aud": self.audience is not None})
        except jwt.PyJWTError as exc:
            raise HTTPException(401, f"X-Resident-Token: {type(exc).__name__}",
                                headers={"WWW-Authenticate": "Bearer"}) from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise HTTPException(401, "X-Resident-Token: sub must be the resident id")
        return sub
