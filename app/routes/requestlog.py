"""Request ids and access logs.

Every request gets an id: the client's `X-Request-ID` when it is a sane token, else a new
one. It is answered in the `X-Request-ID` header and in every problem+json, and every log
record written while the request runs carries it (`RequestIdFilter`), so one line a user
quotes finds everything the service logged about that request. One access record per request
says method, path, route template, status and duration.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import metrics

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
"""What a client's id may be: a token (a UUID, a hex digest, a proxy's id), nothing that
could forge a log line or a header."""
access_log = logging.getLogger("app.access")


def current_request_id() -> str | None:
    """The id of the request being answered (None outside one)."""
    return REQUEST_ID.get()


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request it was written in (`request_id`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the record."""
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


class RequestLog:
    """ASGI middleware: the request id, the access record and the request metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request with its id; log and count it however it ends."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        request_id = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
        REQUEST_ID.set(request_id)  # not reset: the server-error handler outside reads it
        started = time.perf_counter()
        status = 500  # unless an answer starts: an error no handler inside answered

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                if "x-request-id" not in headers:
                    headers["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None)
            metrics.observe_request(scope["method"], route, status, seconds)
            access_log.info(
                "%s %s %s %.1f ms [%s]",
                scope["method"],
                scope["path"],
                status,
                seconds * 1000,
                request_id,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                    "request_id": request_id,
                },
            )
