"""`POST /estimates` and saved estimates: the planner's front door.

Handlers stay thin: read options, call the pipeline (`app.service`), pick the output format.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from app.errors import InvalidInput
from app.routes.deps import (
    CallerDep,
    EstimatesVisibleDep,
    KeyOwnerDep,
    RepositoryDep,
    SettingsDep,
    creator,
    estimates_visible,
    repository_of,
    settings_of,
)
from app.routes.downloads import (
    FORMAT_DESCRIPTION,
    LANGUAGE_DESCRIPTION,
    EstimateFormat,
    EstimateFormatDep,
    answer_language,
    estimate_format_of,
    estimate_response,
)
from app.routes.errors import problems
from app.routes.options import EstimateArguments
from app.routes.querymodel import documented_query, read_query
from app.routes.responses import ESTIMATE_CONTENT, JSONAnswer
from app.service import EstimateQuery, rerun_saved, run_estimate, save_estimate
from app.settings import Settings
from app.store.repository import Repository, StoredEstimate

router = APIRouter(prefix="/estimates", tags=["estimates"], responses=problems(503))

INLINE_BODY_BYTES = 8192
"""Estimates of bodies up to this size (a road of up to about 200 vertices), neither saved
nor written as a file, are made on the event loop: they take a few milliseconds, about what
the hop to a worker thread and back costs, and being CPU-bound they would hold the GIL in a
thread just the same. Larger ones, saves (a database write) and files run in a worker thread,
so the loop keeps answering other requests meanwhile."""

GEOJSON_BODY = Body(
    description="A GeoJSON Geometry, Feature or FeatureCollection (lon/lat WGS84 unless `crs` "
    "says otherwise). Feature properties `template`, `width_m`, `name`, `centerline` and "
    "overrides (`thickness`, `density`, `spray_rate`, `material_loss`, `rates`, "
    "`overhead_profit_pct`, `vat_pct`, `haul_km`) apply to that feature.",
    examples=[
        {
            "type": "Feature",
            "properties": {"name": "Jalan Contoh", "template": "neighbourhood-rigid"},
            "geometry": {
                "type": "LineString",
                "coordinates": [[106.6300, -6.1700], [106.6309, -6.1700]],
            },
        }
    ],
)


class EstimateParameters(EstimateArguments):
    """The options of `POST /estimates`, read from its query string in one validation
    (`app.routes.querymodel`)."""

    save: Annotated[
        bool,
        Field(
            description="Keep the estimate (GET /estimates/{id}); needs an API key when "
            "writes or saved estimates are limited to keys."
        ),
    ] = False
    project_items: Annotated[
        bool,
        Field(
            description="Bill the catalog's project items (mobilisasi, papan nama, traffic "
            "management, SMKK) once; false for a segment that joins a larger package."
        ),
    ] = True
    supersedes: Annotated[
        int | None,
        Field(
            ge=1,
            description="With `save=true` and an API key: save this as the next version of "
            "that saved estimate, which stays as it was (409 if it already has a next version).",
        ),
    ] = None
    f: Annotated[str | None, Field(description=FORMAT_DESCRIPTION)] = None
    lang: Annotated[str | None, Field(description=LANGUAGE_DESCRIPTION)] = None


@router.post(
    "",
    summary="Estimate the materials and cost of road geometries",
    responses={
        200: {"content": ESTIMATE_CONTENT},
        201: {
            "description": "Saved (`save=true`): see the Location header",
            "content": ESTIMATE_CONTENT,
        },
        **problems(401, 404, 409, 413),
    },
    openapi_extra=documented_query(EstimateParameters),
)
async def create_estimate(
    request: Request,
    caller: CallerDep,
    body: Annotated[dict[str, Any], GEOJSON_BODY],
    parameters: Annotated[EstimateParameters, Depends(read_query(EstimateParameters))],
) -> Response:
    """Measure, quantify and price every feature; optionally save the estimate."""
    # the busiest route reads the app's state itself: two dependencies fewer to solve
    repository, settings = repository_of(request), settings_of(request)
    save, supersedes = parameters.save, parameters.supersedes
    output = estimate_format_of(request, parameters.f)
    if supersedes is not None and not save:
        raise InvalidInput("a new version is saved only with save=true", field="supersedes")
    query = parameters.query(
        settings,
        project_items=parameters.project_items,
        lang=answer_language(request, parameters.lang),
    )
    answer = partial(
        estimate_answer,
        request,
        repository,
        settings,
        caller,
        output,
        body,
        query,
        save,
        supersedes,
    )
    if save or output != EstimateFormat.json or len(await request.body()) > INLINE_BODY_BYTES:
        return await run_in_threadpool(answer)
    return answer()


def estimate_answer(
    request: Request,
    repository: Repository,
    settings: Settings,
    caller: str | None,
    output: EstimateFormat,
    body: dict[str, Any],
    query: EstimateQuery,
    save: bool,
    supersedes: int | None,
) -> Response:
    """The answer to `POST /estimates`: the estimate, saved when asked, in `output`'s format."""
    visible = estimates_visible(settings, caller)
    # in `owner` mode an estimate saved without a key would be no one's to read back;
    # a new version, like a deletion, needs a key whoever may read
    key_required = visible.owner_only or supersedes is not None
    owner = creator(settings, caller, key_required) if save else None
    run = run_estimate(repository, settings, body, query)
    if save and not len(run.result.bill):
        raise InvalidInput("nothing to save: the request has no features", field="save")
    answer = run.result.to_dict()
    status = 200
    if save:
        saved = save_estimate(repository, run, body, query, owner, supersedes, visible)
        answer = {**version_links(saved), **answer}
        status = 201
    response = estimate_response(repository, run, answer, output, filename="estimate")
    response.status_code = status
    if save:
        response.headers["Location"] = str(
            request.url_for("get_estimate", estimate_id=answer["id"])
        )
    return response


@router.get(
    "/{estimate_id}",
    name="get_estimate",
    summary="A saved estimate",
    responses={200: {"content": ESTIMATE_CONTENT}},
)
def get_estimate(
    estimate_id: int,
    repository: RepositoryDep,
    settings: SettingsDep,
    visible: EstimatesVisibleDep,
    output: EstimateFormatDep,
) -> Response:
    """The saved answer and the request that made it (body, options, pinned versions).

    JSON is the answer as stored; other formats are made again from the pinned template and
    catalog versions.
    """
    saved = repository.get_estimate(estimate_id, visible)
    answer = saved_answer(saved)
    if output == EstimateFormat.json:
        return JSONAnswer(answer)
    run = rerun_saved(repository, settings, saved)
    return estimate_response(repository, run, answer, output, filename=f"estimate-{saved.id}")


@router.delete(
    "/{estimate_id}", status_code=204, summary="Delete a saved estimate (needs an API key)"
)
def delete_estimate(
    estimate_id: int, repository: RepositoryDep, settings: SettingsDep, key_owner: KeyOwnerDep
) -> Response:
    """Remove the estimate; 404 when there is none the key may see."""
    repository.delete_estimate(estimate_id, estimates_visible(settings, key_owner))
    return Response(status_code=204)


def version_links(saved: StoredEstimate) -> dict[str, Any]:
    """Which saved estimate this is: id, name, version and its neighbouring versions."""
    return {
        "id": saved.id,
        "name": saved.name,
        "version": saved.version,
        "supersedes": saved.supersedes,
        "superseded_by": saved.superseded_by,
    }


def saved_answer(saved: StoredEstimate) -> dict[str, Any]:
    """A saved estimate as JSON: what it is, when and how it was made, and its answer."""
    return {
        **version_links(saved),
        "created_at": saved.created_at.isoformat(),
        "request": saved.request,
        **saved.result,
    }


class EstimateChange(BaseModel):
    """What may change of a saved estimate in place: its name (the estimate stays as priced)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        max_length=200, description="The new name; blank or null leaves it without a name."
    )


@router.patch(
    "/{estimate_id}",
    summary="Rename a saved estimate (needs an API key)",
    responses=problems(401, 404),
)
def rename_estimate(
    estimate_id: int,
    change: EstimateChange,
    repository: RepositoryDep,
    settings: SettingsDep,
    key_owner: KeyOwnerDep,
) -> JSONAnswer:
    """Give the estimate another name; 404 when there is none the key may see."""
    name = (change.name or "").strip() or None
    saved = repository.rename_estimate(estimate_id, name, estimates_visible(settings, key_owner))
    return JSONAnswer(saved_answer(saved))
