"""Who may call what: the route x role matrix (written once, here) and the FastAPI dependency that
enforces it.

A key is sent as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. No valid key -> 401; a
valid key whose role is not in the route's row -> 403. Every ``/v1`` route must be an
``AuthorizedRoute`` with a row here: the app refuses to start otherwise, so a new route cannot be
exposed by forgetting this table.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.routing import APIRoute

from api.limits import ROLES

log = logging.getLogger("servicematch.auth")

CASEWORKER, PORTAL, TRAINER, ADMIN = ROLES
ANY_ROLE = frozenset(ROLES)

#: A recommendation for an inline profile (a walk-in resident) is a separate permission from a
#: recommendation by resident id on the same route: the portal may do the latter, not the former.
INLINE_PROFILE = "POST /v1/recommendations (inline profile)"

#: "METHOD /route/template" -> the roles allowed. The README's access table is this dict.
PERMISSIONS: dict[str, frozenset[str]] = {
    "POST /v1/recommendations": frozenset({CASEWORKER, PORTAL, ADMIN}),
    INLINE_PROFILE: frozenset({CASEWORKER, ADMIN}),
    "GET /v1/residents/{resident_id}/recommendations": frozenset({CASEWORKER, PORTAL, ADMIN}),
    "PUT /v1/residents/{resident_id}": frozenset({CASEWORKER, ADMIN}),
    "GET /v1/residents/{resident_id}": frozenset({CASEWORKER, ADMIN}),
    "DELETE /v1/residents/{resident_id}": frozenset({CASEWORKER, ADMIN}),
    "POST /v1/events": frozenset({CASEWORKER, PORTAL, ADMIN}),
    "GET /v1/events/export": frozenset({TRAINER, ADMIN}),
    "GET /v1/services": ANY_ROLE,
    "GET /v1/services/{service_id}": ANY_ROLE,
    "PATCH /v1/services/{service_id}": frozenset({ADMIN}),
    "GET /v1/model": frozenset({TRAINER, ADMIN}),
    "POST /v1/model/reload": frozenset({TRAINER, ADMIN}),
    "GET /v1/audit": frozenset({ADMIN}),
    "POST /v1/allocations": frozenset({CASEWORKER, ADMIN}),
    "GET /v1/whoami": ANY_ROLE,
    "GET /v1/residents/{resident_id}/events": frozenset({CASEWORKER, ADMIN}),
    "GET /v1/model/report": frozenset({TRAINER, ADMIN}),
}

#: Paths served without a key (probes, metrics scraping, the docs).
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/docs", "/docs/oauth2-redirect",
                          "/redoc", "/openapi.json", "/console", "/console/models"})


def allowed(role: str, action: str) -> bool:
    return role in PERMISSIONS.get(action, ())


def matrix_markdown() -> str:
    """The access table as markdown (for the README), generated from ``PERMISSIONS``."""
    lines = ["| route | " + " | ".join(ROLES) + " |", "|---" * (len(ROLES) + 1) + "|"]
    for action, roles in PERMISSIONS.items():
        cells = ["yes" if r in roles else "-" for r in ROLES]
        lines.append(f"| `{action}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


@dataclass(frozen=True)
class Caller:
    key_id: str
    role: str
    #: the resident a portal call is bound to by a resident token (None: no token configured)
    resident: str | None = None

    def may_see(self, resident_id: str) -> None:
        """403 unless this caller may ask about ``resident_id``."""
        if self.resident is not None and resident_id != self.resident:
            raise HTTPException(403, "the resident token is for another resident")


class KeyStore:
    """The API keys of one app, re-read when the keys file changes (so ``keys add`` and ``keys
    revoke`` need no restart).

    The store refreshes itself: ``authenticate`` looks at the file's stamp at most every
    ``check_interval`` seconds, so a revocation takes effect within that time whatever else is
    broken (no background thread to die, no models folder to read first). It fails closed: a keys
    file that is deleted, unreadable or invalid makes every key invalid (401) until it is fixed,
    and ``error`` says why (``/readyz`` reports it). ``keys_file=None`` means no key is valid:
    there is no "open" mode.
    """

    def __init__(self, keys_file: str | os.PathLike | None, check_interval: float = 0.5):
        self.path = Path(keys_file) if keys_file is not None else None
        self.check_interval = check_interval
        self._lock = threading.Lock()
        self._ring: Any = None
        self._stamp: tuple | None = None
        self._next_check = 0.0
        self.error: str | None = None if self.path is not None else "no API keys file configured"
        if self.path is not None:
            if not self.path.is_file():
                raise FileNotFoundError(f"API keys file {self.path} does not exist")
            self.refresh(force=True)
            if self.error:
                raise ValueError(self.error)

    def _file_stamp(self) -> tuple | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)

    def refresh(self, force: bool = False) -> bool:
        """Reload the key ring when the file changed; True when it did. A file that cannot be read
        as a valid keys file leaves no key valid (fail closed)."""
        if self.path is None:
            return False
        from api.keys import KeyFileError, KeyRing  # the keys module owns the format and hashing

        with self._lock:
            self._next_check = time.monotonic() + self.check_interval
            stamp = self._file_stamp()
            if not force and stamp == self._stamp and stamp is not None:
                return False
            try:
                if stamp is None:
                    raise KeyFileError(f"API keys file {self.path.name} is missing or unreadable")
                ring = KeyRing.load(self.path)
            except (KeyFileError, OSError) as exc:
                if self._ring is not None or self.error is None:
                    log.error("API keys refused until the keys file is fixed: %s", exc)
                self._ring, self._stamp = None, stamp
                self.error = f"API keys file unusable, every key refused: {exc}"
                return True
            self._ring, self._stamp, self.error = ring, stamp, None
            return True

    def authenticate(self, token: str) -> Caller | None:
        if self.path is not None and time.monotonic() >= self._next_check:
            self.refresh()
        ring = self._ring
        if ring is None or not token:
            return None
        info = ring.authenticate(token)
        if info is None:
            return None
        return Caller(key_id=str(info.id), role=str(info.role))


UNAUTHENTICATED = {"WWW-Authenticate": "Bearer"}

#: How the two accepted headers appear in the OpenAPI document (the docs' "Authorize" button).
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <api key>`"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "the API key itself"},
}


def _token(scope) -> str | None:
    # Read the raw ASGI headers: building a Headers object costs more than the lookup itself.
    api_key = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                return credentials.strip()
        elif name == b"x-api-key":
            api_key = value.decode("latin-1").strip()
    return api_key or None


def authenticate(request: Request) -> Caller:
    token = _token(request.scope)
    if not token:
        raise HTTPException(401, "missing API key: send Authorization: Bearer <key> or X-API-Key",
                            headers=UNAUTHENTICATED)
    caller = request.app.state.keys.authenticate(token)
    if caller is None:
        raise HTTPException(401, "invalid API key", headers=UNAUTHENTICATED)
    return caller


def action_of(route) -> str:
    (method,) = route.methods  # one method per route in this API
    return f"{method} {route.path}"


class AuthorizedRoute(APIRoute):
    """An APIRoute that checks the key and the route's row of ``PERMISSIONS`` before anything else.

    Done here rather than as a FastAPI dependency: dependency resolution per request costs more
    than a cached recommendation itself. The caller is left in ``request.state.caller``.
    """

    def get_route_handler(self):
        handler = super().get_route_handler()
        action = action_of(self)
        if action not in PERMISSIONS:
            raise RuntimeError(f"route {action} has no row in api.auth.PERMISSIONS")
        roles = PERMISSIONS[action]

        async def authorized(request: Request):
            caller = authenticate(request)
            if caller.role not in roles:
                raise HTTPException(403, f"role {caller.role!r} may not call {action}")
            state = request.app.state
            await state.limiter.request(caller.key_id)
            if caller.role == PORTAL and state.resident_tokens is not None:
                caller = Caller(caller.key_id, caller.role, state.resident_tokens.resident(request.scope))
            request.state.caller = caller
            return await handler(request)

        return authorized


def add_security_to_openapi(app) -> None:
    """Declare the key headers in the OpenAPI document: every protected operation takes either."""
    build = app.openapi

    def openapi():
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            for route in api_routes(app):
                if isinstance(route, AuthorizedRoute):
                    for method in route.methods:
                        op = schema["paths"][route.path_format][method.lower()]
                        op["security"] = [{"bearer": []}, {"apiKey": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi


def api_routes(app) -> list:
    """Every APIRoute of the app, through included routers (FastAPI resolves those lazily)."""
    from fastapi.routing import APIRoute, iter_route_contexts

    return [c.original_route for c in iter_route_contexts(app.routes)
            if isinstance(c.original_route, APIRoute)]


def check_routes(app) -> None:
    """Refuse to build an app with a protected route missing from the matrix (or a stale row)."""
    seen = set()
    for route in api_routes(app):
        if route.path in PUBLIC_PATHS:
            continue
        if not isinstance(route, AuthorizedRoute):
            raise RuntimeError(f"route {action_of(route)} is neither public nor checked by AuthorizedRoute")
        seen.add(action_of(route))
    stale = set(PERMISSIONS) - seen - {INLINE_PROFILE}
    if stale:
        raise RuntimeError(f"api.auth.PERMISSIONS has rows for no route: {sorted(stale)}")
