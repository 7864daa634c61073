"""Request body limits, enforced as the body arrives rather than once it has been read whole.

An ASGI middleware: a declared `Content-Length` over the limit is refused before any byte is
read; a body sent without one (chunked) is counted as it streams and refused as soon as it
passes the limit. Uploads (`multipart/form-data`) have their own, larger limit. A JSON body is
also refused when nested deeper than `TAKEOFF_MAX_JSON_DEPTH`, before it reaches the parser.
"""

from __future__ import annotations

import re

import numpy as np
from fastapi import FastAPI, Request
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.routes.errors import problem
from app.routes.responses import JSONAnswer
from app.settings import LimitSettings

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')
_NOT_STRUCTURE = bytes(sorted(set(range(256)) - set(b'"[]{}')))
_STEP = np.full(256, -1, dtype=np.int64)
_STEP[list(b"[{")] = 1
"""+1 for each opening bracket, -1 for each closing one (the only bytes left to look up)."""


class BodyRefused(HTTPException):
    """A request body over a limit (413) or nested too deep (422)."""

    def __init__(self, status_code: int, title: str, detail: str) -> None:
        super().__init__(status_code, detail)
        self.title = title


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in a JSON document (brackets inside strings do not
    count), computed without parsing it: strings are cut out, the brackets left are summed."""
    brackets = _STRING.sub(b"", _ESCAPE.sub(b"", body).translate(None, _NOT_STRUCTURE))
    if not brackets:
        return 0
    return int(np.cumsum(_STEP[np.frombuffer(brackets, np.uint8)]).max())


def _too_large(limit: int, setting: str, what: str) -> BodyRefused:
    return BodyRefused(
        413,
        "Content too large",
        f"{what} is larger than {limit} bytes, the limit {setting} sets",
    )


class RequestLimits:
    """Refuse request bodies over `max_body_bytes` (uploads: `max_upload_bytes`) with 413,
    and JSON bodies nested deeper than `max_json_depth` with 422, as problem+json."""

    def __init__(self, app: ASGIApp, limits: LimitSettings) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with a `receive` that counts (and, for JSON, keeps) the body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "multipart/form-data":
            limit, setting, what = (
                self.limits.max_upload_bytes,
                "TAKEOFF_MAX_UPLOAD_BYTES",
                "the upload",
            )
        else:
            limit, setting, what = (
                self.limits.max_body_bytes,
                "TAKEOFF_MAX_BODY_BYTES",
                "the request body",
            )
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _answer(_too_large(limit, setting, what), scope, receive, send)
            return
        is_json = content_type == "application/json" or content_type.endswith("+json")
        received = 0
        parts: list[bytes] = []
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                received += len(body)
                if received > limit:
                    raise _too_large(limit, setting, what)
                if is_json:
                    parts.append(body)
                    if not message.get("more_body", False):
                        self._check_depth(b"".join(parts))
                        parts.clear()
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyRefused as exc:  # raised where no handler answered it
            if started:
                raise
            await _answer(exc, scope, receive, send)

    def _check_depth(self, body: bytes) -> None:
        most = self.limits.max_json_depth
        depth = json_depth(body)
        if depth > most:
            raise BodyRefused(
                422,
                "JSON nested too deeply",
                f"the JSON body nests arrays and objects {depth} levels deep; the limit "
                f"TAKEOFF_MAX_JSON_DEPTH sets is {most}",
            )


async def _answer(exc: BodyRefused, scope: Scope, receive: Receive, send: Send) -> None:
    response = problem(exc.status_code, exc.title, exc.detail)
    response.headers["Connection"] = "close"  # the rest of the body is never read
    await response(scope, receive, send)


async def _body_refused(_request: Request, exc: Exception) -> JSONAnswer:
    assert isinstance(exc, BodyRefused)
    return problem(exc.status_code, exc.title, exc.detail)


def add_request_limits(app: FastAPI, limits: LimitSettings) -> None:
    """Install the body limits on `app`, and their problem+json answer for routes that
    meet them while reading the body."""
    app.add_middleware(RequestLimits, limits=limits)
    app.add_exception_handler(BodyRefused, _body_refused)
