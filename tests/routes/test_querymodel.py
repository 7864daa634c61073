"""A query string read as one model answers and documents as FastAPI's own parameters do."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query
from fastapi.testclient import TestClient

from app.routes.errors import add_exception_handlers
from app.routes.estimates import EstimateParameters
from app.routes.querymodel import documented_query, read_query
from app.settings import Settings


def probe_app() -> FastAPI:
    """The estimate options read both ways: by FastAPI (a query-parameter model) and at once."""
    app = FastAPI()
    add_exception_handlers(app, Settings())

    @app.get("/by-fastapi")
    async def by_fastapi(options: Annotated[EstimateParameters, Query()]) -> dict[str, Any]:
        return options.model_dump()

    @app.get("/at-once", openapi_extra=documented_query(EstimateParameters))
    async def at_once(
        options: Annotated[EstimateParameters, Depends(read_query(EstimateParameters))],
    ) -> dict[str, Any]:
        return options.model_dump()

    return app


def test_the_document_lists_the_parameters_as_fastapi_would() -> None:
    paths = probe_app().openapi()["paths"]
    documented = paths["/at-once"]["get"]["parameters"]
    assert [parameter["name"] for parameter in documented] == [
        "template",
        "catalog",
        "width_m",
        "crs",
        "dissolve",
        "haul_km",
        "save",
        "project_items",
        "supersedes",
        "f",
        "lang",
    ]
    assert documented == paths["/by-fastapi"]["get"]["parameters"]


def test_values_are_read_as_fastapi_reads_them() -> None:
    query = "template=a&template=local-rigid&width_m=6.5&save=yes&project_items=0&unknown=1"
    with TestClient(probe_app()) as client:
        ours = client.get(f"/at-once?{query}")
        theirs = client.get(f"/by-fastapi?{query}")
    assert ours.status_code == 200
    assert ours.json() == theirs.json()
    assert ours.json()["template"] == "local-rigid"  # the last of a repeated parameter
    assert ours.json()["save"] is True
    assert ours.json()["project_items"] is False


def test_every_wrong_value_is_named_at_its_place_in_the_query() -> None:
    with TestClient(probe_app()) as client:
        answer = client.get("/at-once?width_m=0&save=maybe&supersedes=1.5")
    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["errors"]] == [
        "query.width_m",
        "query.save",
        "query.supersedes",
    ]


def test_the_estimate_route_refuses_a_wrong_option_before_estimating(client: TestClient) -> None:
    answer = client.post("/estimates?haul_km=-3", json={"type": "Point", "coordinates": [0, 0]})
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"field": "query.haul_km", "message": "Input should be greater than or equal to 0"}
    ]
