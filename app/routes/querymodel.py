"""A route's query parameters read as one pydantic model, in one validation.

FastAPI reads and validates each declared query parameter on its own, and on every request
works out again how to read it: about as much work per parameter as a short endpoint. A busy
route with many options reads its query string with `read_query` instead (one validation of
the whole model) and lists the same parameters in the API document with `documented_query`;
a wrong value is answered as FastAPI answers it (422, located at `query.<name>`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


def read_query(model: type[Model]) -> Callable[[Request], Coroutine[Any, Any, Model]]:
    """A dependency reading the request's query parameters as `model` (the last value of a
    repeated parameter, as FastAPI reads one; parameters the model does not name are ignored)."""

    async def query(request: Request) -> Model:
        try:
            return model.model_validate(dict(request.query_params))
        except ValidationError as exc:
            raise RequestValidationError(
                [
                    {**error, "loc": ("query", *error["loc"])}
                    for error in exc.errors(include_url=False)
                ]
            ) from None

    return query


def documented_query(model: type[BaseModel]) -> dict[str, Any]:
    """The route's `openapi_extra`: every field of `model` as a query parameter."""
    properties = model.model_json_schema()["properties"]
    parameters = []
    for name, field in model.model_fields.items():
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": field.is_required(),
            "schema": properties[name],
        }
        if field.description:
            parameter["description"] = field.description
        parameters.append(parameter)
    return {"parameters": parameters}
