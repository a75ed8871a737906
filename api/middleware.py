"""The edge of every request, as one pure ASGI middleware (each extra layer costs throughput):
request id, body size limit, latency metrics by route template, the access log (method, path,
status, time -- never a body or a query string) and the last-resort 500.
"""
from __future__ import annotations

import itertools
import logging
import os
import time
import traceback

import orjson
from fastapi import HTTPException

from api.limits import MAX_BODY

access_log = logging.getLogger("servicematch.access")
error_log = logging.getLogger("servicematch.error")



class BodyTooLarge(HTTPException):
    def __init__(self, limit: int):
        super().__init__(413, f"request body exceeds {limit} bytes")


def _error_response(status: int, detail: str, request_id: str, extra_headers=()) -> tuple[dict, dict]:
    body = orjson.dumps({"detail": detail, "errors": [], "request_id": request_id})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"x-request-id", request_id.encode()), *extra_headers]
    return ({"type": "http.response.start", "status": status, "headers": headers},
            {"type": "http.response.body", "body": body})


class EdgeMiddleware:
    def __init__(self, app, metrics, max_body: int = MAX_BODY):
        self.app = app
        self.metrics = metrics
        self.max_body = max_body
        # Request ids: a random per-process prefix and a counter -- unique, and without the
        # getrandom() system call uuid4 makes per request.
        self._rid_prefix = os.urandom(8).hex()
        self._rid_counter = itertools.count(1)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = f"{self._rid_prefix}{next(self._rid_counter):016x}"
        scope.setdefault("state", {})["request_id"] = request_id
        rid_header = (b"x-request-id", request_id.encode())
        status = 500
        started = False

        limit = self.max_body
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = False  # h11/httptools reject a malformed length before we run
                if too_big:
                    await self._send_error(send, 413, f"request body exceeds {limit} bytes", request_id)
                    self._finish(scope, 413, start, request_id)
                    return
                break

        received = 0

        async def counted_receive():
            # Content-Length can be absent (chunked) or lie: count what actually arrives.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def send_with_id(message):
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), rid_header]
            await send(message)

        try:
            await self.app(scope, counted_receive, send_with_id)
        except BodyTooLarge as exc:
            if not started:
                await self._send_error(send, 413, exc.detail, request_id)
            status = 413
        except Exception as exc:  # noqa: BLE001 -- the last resort: nothing may escape as a bare 500
            # The traceback without the exception's message: a message can quote request data.
            error_log.error("unhandled %s in %s %s (request %s)\n%s", type(exc).__name__,
                            scope.get("method"), scope.get("path"), request_id,
                            "".join(traceback.format_tb(exc.__traceback__)))
            if not started:
                await self._send_error(send, 500, "internal error; quote the request_id when reporting it",
                                       request_id)
            status = 500
        self._finish(scope, status, start, request_id)

    async def _send_error(self, send, status: int, detail: str, request_id: str) -> None:
        head, body = _error_response(status, detail, request_id)
        await send(head)
        await send(body)

    def _finish(self, scope, status: int, start: float, request_id: str) -> None:
        elapsed = time.perf_counter() - start
        route = scope.get("route")
        # Unmatched paths share one label so a scanner cannot blow up the series count.
        template = getattr(route, "path", None) or "<unmatched>"
        self.metrics.observe(scope["method"], template, status, elapsed)
        if access_log.isEnabledFor(logging.INFO):
            access_log.info("%s %s %d %.1fms %s", scope["method"], scope["path"], status,
                            elapsed * 1000, request_id)
