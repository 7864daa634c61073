"""Domain errors to HTTP: one status map, answered as RFC 9457 `application/problem+json`.

The OpenAPI document is made to say the same: every operation lists the problems it can
answer with, typed `application/problem+json` and described by one `Problem` schema.
"""

from __future__ import annotations

import logging
import re
import sys
import tempfile
from collections.abc import Collection, Iterable, Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import (
    ConfigurationError,
    Conflict,
    InvalidInput,
    InvalidQuery,
    NotFound,
    StoreUnavailable,
    TakeoffError,
    TooLarge,
    Unauthorized,
    UnsupportedCrs,
)
from app.routes.requestlog import current_request_id
from app.routes.responses import JSONAnswer
from app.settings import Settings
from app.store.database import outage

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 5
"""What a 503 asks clients to wait: the pool tests connections before use and reconnects by
itself, so a database that is back is used at the next request."""
logger = logging.getLogger(__name__)

STATUS_CODES: dict[type[TakeoffError], int] = {
    TakeoffError: 400,
    InvalidQuery: 400,
    InvalidInput: 422,
    TooLarge: 413,
    UnsupportedCrs: 400,
    NotFound: 404,
    Conflict: 409,
    Unauthorized: 401,
    StoreUnavailable: 503,
    ConfigurationError: 500,
}


def status_for(exc: TakeoffError) -> int:
    """The status of the nearest mapped class in the exception's ancestry."""
    for cls in type(exc).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 400


def server_folders(settings: Settings) -> list[Path]:
    """Folders whose paths messages must not show: uploads, the store, the installation."""
    return [
        Path(tempfile.gettempdir()),
        settings.store.data_dir,
        Path(__file__).resolve().parents[2],
        Path(sys.prefix),
        Path.home(),
    ]


class PathHider:
    """Cuts paths inside the server's folders to their file name (GDAL names a file it cannot
    read by its full path, which says where the service keeps uploads and data)."""

    def __init__(self, folders: Iterable[Path]) -> None:
        names = sorted({str(folder).rstrip("/") for folder in folders if str(folder) != "/"})
        alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
        self.pattern = re.compile(f"(?:{alternatives})/(?:[^\\s'\"]*/)?") if names else None

    def __call__(self, text: str) -> str:
        """`text` with the server's folders cut out."""
        return text if self.pattern is None else self.pattern.sub("", text)


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    members: Mapping[str, Any] | None = None,
) -> JSONAnswer:
    """A problem+json response; `members` are extra ones (`field`, `feature`, `errors`...).

    It carries the request's id (`request_id`, and the `X-Request-ID` header) so a user's
    report can be found in the log.
    """
    body = {"type": "about:blank", "status": status, "title": title, "detail": detail}
    body.update(members or {})
    headers = dict(headers or {})
    request_id = current_request_id()
    if request_id is not None:
        body["request_id"] = request_id
        headers["X-Request-ID"] = request_id
    if status == 401:
        headers["WWW-Authenticate"] = "ApiKey"
    if status == 503:
        headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
    return JSONAnswer(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONAnswer:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
        for error in exc.errors()
    ]
    detail = "; ".join(f"{error['field']}: {error['message']}" for error in errors)
    return problem(422, "Invalid request", detail, members={"errors": errors})


_PATH_PARAMETER = re.compile(r"\\{[^/]+?\\}")


def documented_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the API document lists for `path` (FastAPI's own 405 names only those of
    the first route that matched, where several routes share a path). As OpenAPI matches
    paths, a concrete path (`/catalogs/import`) wins over a templated one (`/catalogs/{id}`)."""
    paths = app.openapi().get("paths", {})
    if path in paths:
        return sorted(method.upper() for method in paths[path])
    methods: set[str] = set()
    for template, operations in paths.items():
        pattern = _PATH_PARAMETER.sub("[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods.update(method.upper() for method in operations)
    return sorted(methods)


async def _http_error(request: Request, exc: Exception) -> JSONAnswer:
    """Routing errors (404, 405 with its `Allow` header) in the same shape as the others."""
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        path = request.url.path.removeprefix(request.scope.get("root_path", ""))
        allowed = documented_methods(request.app, path)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    title = HTTPStatus(exc.status_code).phrase
    return problem(exc.status_code, title, str(exc.detail), headers=headers)


async def _unexpected_error(_request: Request, exc: Exception) -> JSONAnswer:
    """A bug: logged with its traceback, answered without a word about its insides."""
    logger.error("unexpected error in request %s", current_request_id(), exc_info=exc)
    return problem(500, "Internal Server Error", "the server failed to answer; this is logged")


async def _store_error(request: Request, exc: Exception) -> JSONAnswer:
    """A database that is down, restarting or frozen is a 503 with `Retry-After`, its
    reason logged (it names hosts); any other database error is a bug."""
    if not outage(exc):
        return await _unexpected_error(request, exc)
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    logger.warning("store unavailable in request %s: %s", current_request_id(), reason)
    unavailable = StoreUnavailable("the database cannot be reached just now; try again shortly")
    return problem(503, unavailable.title, unavailable.detail)


def add_exception_handlers(app: FastAPI, settings: Settings) -> None:
    """Register the problem+json handlers on `app`."""
    hide = PathHider(server_folders(settings))

    async def takeoff_error(_request: Request, exc: Exception) -> JSONAnswer:
        assert isinstance(exc, TakeoffError)
        where = {
            key: hide(value) if isinstance(value, str) else value
            for key, value in exc.where.items()
        }
        return problem(status_for(exc), exc.title, hide(str(exc)), members=where)

    app.add_exception_handler(TakeoffError, takeoff_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(SQLAlchemyError, _store_error)
    app.add_exception_handler(Exception, _unexpected_error)


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `field`, `feature`, `row`... say where.",
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "status": {"type": "integer"},
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "request_id": {"type": "string", "description": "Also in X-Request-ID; in the log."},
    },
    "required": ["type", "status", "title", "detail"],
}
PROBLEM_DESCRIPTIONS = {
    400: "A body that cannot be read (not UTF-8, not JSON, a broken upload), a coordinate "
    "reference system the collection does not offer, or a filter or sort order that is "
    "malformed or names a property the collection does not have",
    401: "No valid API key in the X-API-Key header",
    404: "No such resource",
    409: "A concurrent write of the same document; try again",
    413: "Input over a configured limit",
    422: "Invalid input: the problem names the field, feature or row",
    429: "More requests from this client than TAKEOFF_RATE_LIMIT allows; try again after "
    "Retry-After seconds",
    503: "The store (the database) cannot be reached; try again after Retry-After seconds",
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer"},
    }
}


def _problem_response(status: int) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Problem"}
    response: dict[str, Any] = {
        "description": PROBLEM_DESCRIPTIONS[status],
        "content": {PROBLEM_JSON: {"schema": schema}},
    }
    if status in (429, 503):
        response["headers"] = _RETRY_AFTER
    return response


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route (or router) that can answer with these problems: 503 for
    those that read the store (the common 400 for a body, 404 for path parameters, 401 for
    writes, 422 for any parameter and 429 under a rate limit are added to every operation by
    `document_problems`)."""
    return {status: _problem_response(status) for status in statuses}


def _document_problems(operation: dict[str, Any], rate_limited: bool) -> None:
    responses = operation.setdefault("responses", {})
    statuses = {
        int(status)
        for status, response in responses.items()
        if PROBLEM_JSON in response.get("content", {})
    }
    parameters = operation.get("parameters", [])
    if parameters or "requestBody" in operation:
        statuses.add(422)
    if "requestBody" in operation:
        statuses.add(400)
    if any(parameter.get("in") == "path" for parameter in parameters):
        statuses.add(404)
    if operation.get("security"):
        statuses.add(401)
    if rate_limited:
        statuses.add(429)
    for status in sorted(statuses):
        responses[str(status)] = _problem_response(status)


def document_problems(
    schema: dict[str, Any], unlimited_paths: Collection[str] | None = None
) -> dict[str, Any]:
    """FastAPI's document with the problems each operation can answer, and no schema of
    FastAPI's own validation error (which this service never sends); changed in place.
    With `unlimited_paths` (a rate limit is set), every other path can answer 429."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    if "Problem" in schemas:
        return schema
    for path, operations in schema.get("paths", {}).items():
        limited = unlimited_paths is not None and path not in unlimited_paths
        for operation in operations.values():
            _document_problems(operation, limited)
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    return schema


def install_openapi(app: FastAPI, unlimited_paths: Collection[str] | None = None) -> None:
    """Make `app.openapi()` (and so `/api` and `/docs`) answer the documented form;
    `unlimited_paths` as for `document_problems`."""
    generate = app.openapi
    app.openapi = lambda: document_problems(generate(), unlimited_paths)  # type: ignore[method-assign]
