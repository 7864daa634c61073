"""Domain errors to HTTP: one status map, answered as RFC 9457 `application/problem+json`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import (
    ConfigurationError,
    InvalidInput,
    NotFound,
    StoreUnavailable,
    TakeoffError,
    TooLarge,
    Unauthorized,
)

PROBLEM_JSON = "application/problem+json"

STATUS_CODES: dict[type[TakeoffError], int] = {
    TakeoffError: 400,
    InvalidInput: 422,
    TooLarge: 413,
    NotFound: 404,
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


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {"type": "about:blank", "status": status, "title": title, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "ApiKey"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _takeoff_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TakeoffError)
    return problem(status_for(exc), exc.title, str(exc), **exc.where)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
        for error in exc.errors()
    ]
    detail = "; ".join(f"{error['field']}: {error['message']}" for error in errors)
    return problem(422, "Invalid request", detail, errors=errors)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, "HTTP error", str(exc.detail))


def add_exception_handlers(app: FastAPI) -> None:
    """Register the problem+json handlers on `app`."""
    app.add_exception_handler(TakeoffError, _takeoff_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
