"""Text no store can keep is refused at the door, before any route sees it.

PostgreSQL cannot store a NUL character, and a lone UTF-16 surrogate (`"\\udfff"` in JSON)
is not a character at all: it cannot even be encoded as UTF-8 for an answer. Both reach a
request only as escapes (`%00` in a URL, `\\u0000` or `\\udfff` in JSON), so a path with a NUL
is simply not found, a query parameter with one is invalid, and a JSON body is looked at
value by value only when its bytes hold such an escape.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.routes.errors import problem

_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|d[89a-f][0-9a-f]{2})", re.IGNORECASE)
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_JSON_TYPE = re.compile(rb"^application/(?:[\w.+-]+\+)?json\b", re.IGNORECASE)


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored, or None."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "text holds a NUL character (\\u0000), which cannot be stored"
    return f"text holds a lone surrogate (\\u{ord(found.group()):04x}), which is not a character"


def _first_problem(value: Any, where: str) -> tuple[str, str] | None:
    """(place, reason) of the first unstorable key or string in a decoded JSON value."""
    if isinstance(value, str):
        reason = text_problem(value)
        return None if reason is None else (where, reason)
    if isinstance(value, dict):
        for key, item in value.items():
            reason = text_problem(key)
            if reason is not None:
                return f"{where} (a key)", reason
            found = _first_problem(item, f"{where}.{key}")
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_problem(item, f"{where}.{index}")
            if found is not None:
                return found
    return None


def body_problem(body: bytes) -> tuple[str, str] | None:
    """(place, reason) of the first unstorable text in a JSON body, or None."""
    if not _UNSTORABLE_ESCAPE.search(body):
        return None
    try:
        decoded = json.loads(body)
    except ValueError:
        return None  # not JSON: the route's own parsing says so
    return _first_problem(decoded, "body")


class UnstorableTextGuard:
    """ASGI middleware answering 404 or 422 for NUL and lone surrogates in a request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a request holding unstorable text at once; pass any other one on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"]:
            await problem(404, "Not Found", "no resource has a NUL character in its path")(
                scope, receive, send
            )
            return
        query = scope.get("query_string", b"").decode("latin-1")
        for name, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
            reason = text_problem(name + value)
            if reason is not None:
                await problem(422, "Invalid input", reason, members={"field": name})(
                    scope, receive, send
                )
                return
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
        if not _JSON_TYPE.match(content_type):
            await self.app(scope, receive, send)
            return
        body, receive = await _buffered(receive)
        found = body_problem(body)
        if found is not None:
            where, reason = found
            response = problem(422, "Invalid input", f"{where}: {reason}", members={"field": where})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a `receive` that hands it on as one message."""
    parts = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return b"", _replay([message], receive)
        parts.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(parts)
    return body, _replay([{"type": "http.request", "body": body, "more_body": False}], receive)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    return replayed
