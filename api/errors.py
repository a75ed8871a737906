"""Exception -> HTTP answer. Every error body is ``ErrorBody``: a message naming the field at fault.

The library raises ValueError for a bad field and KeyError for an unknown id (both with a message
that names the field or id); the store raises StateUnavailable when unreachable. None of these is
a server fault, so none becomes a 500. Validation messages never echo the submitted value (it can
be personal data).
"""
from __future__ import annotations

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from api.audit import AuditBacklogFull
from api.models import ErrorBody
from api.state.base import StateUnavailable

RETRY_AFTER_S = 2
MAX_LISTED = 20


def _body(request: Request, status: int, detail: str, errors=(), headers=None) -> Response:
    rid = request.scope.get("state", {}).get("request_id")
    content = orjson.dumps({"detail": detail, "errors": list(errors), "request_id": rid})
    return Response(content, status_code=status, headers=headers, media_type="application/json")


#: pydantic names the member of a union it tried in the error location ("languages.str"): not a field.
_TYPE_TAGS = {"str", "int", "float", "bool", "list", "dict", "none", "constrained-str", "datetime"}


def _field(loc) -> str:
    parts = [str(p) for p in loc
             if not (isinstance(p, str) and ("[" in p or p in _TYPE_TAGS))]
    return ".".join(parts) or "body"


async def on_validation(request: Request, exc: RequestValidationError) -> Response:
    errors = []
    for err in exc.errors()[:MAX_LISTED]:
        msg = str(err.get("msg", "invalid"))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        errors.append({"field": _field(err.get("loc", ())), "message": msg})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
    return _body(request, 422, detail, errors)


async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        # FastAPI's answer to a body that is not UTF-8 at all: say which part is wrong.
        return _body(request, 400, "body: not valid JSON text (UTF-8)",
                     [{"field": "body", "message": "not valid JSON text (UTF-8)"}])
    return _body(request, exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


async def on_unavailable(request: Request, exc: Exception) -> Response:
    what = "audit log cannot be written" if isinstance(exc, AuditBacklogFull) else "state store unavailable"
    return _body(request, 503, f"{what}; retry in {RETRY_AFTER_S} s",
                 headers={"Retry-After": str(RETRY_AFTER_S)})


async def on_value_error(request: Request, exc: ValueError) -> Response:
    if isinstance(exc, ValidationError):  # pydantic's str() would quote the input
        errors = [{"field": _field(e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
                  for e in exc.errors()[:MAX_LISTED]]
        return _body(request, 422, "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)
    message = str(exc) or "invalid value"
    # The library's messages start with the field ("languages: 'eng' is not ..."): list it.
    field, sep, rest = message.partition(": ")
    errors = [{"field": field, "message": rest}] if sep and " " not in field else []
    return _body(request, 422, message, errors)


async def on_key_error(request: Request, exc: KeyError) -> Response:
    detail = str(exc.args[0]) if exc.args else "not found"
    return _body(request, 404, detail)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(StateUnavailable, on_unavailable)
    app.add_exception_handler(AuditBacklogFull, on_unavailable)
    app.add_exception_handler(ValueError, on_value_error)
    app.add_exception_handler(KeyError, on_key_error)


def responses(*codes: int) -> dict:
    """OpenAPI ``responses`` for the error codes a route can answer."""
    text = {
        400: "Malformed request",
        401: "Missing or invalid API key",
        403: "The key's role may not call this route",
        404: "Unknown resident or service",
        409: "The model could not be reloaded; the previous one is still served",
        410: "The resident was erased",
        413: "Request body larger than the limit (1 MiB by default)",
        422: "Invalid body or parameter; the message names the field (and the limit, if one was exceeded)",
        429: "Rate limit of this key exceeded; see Retry-After",
        503: "State store unavailable (or audit backlog full); see Retry-After",
    }
    return {code: {"model": ErrorBody, "description": text[code]} for code in codes}
