"""`POST /programmes`: a road inventory (upload) to a costed maintenance programme.

The inventory (CSV with Indonesian or English column names, GeoJSON or GeoPackage) and,
optionally, complaint points are uploaded; every segment gets its treatment, cost, priority
and funded status under the budget. The programme is saved, pinned to its rule set, catalog
and template versions, and served as the OGC collection `programme-{id}`. Inventories over
`TAKEOFF_ASYNC_BATCH_ROWS` rows (or `Prefer: respond-async`) run as a job of the same pool as
`POST /batch`; the job's summary names the saved programme.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Header, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from app.batch.jobs import OUTPUTS, job_folder, new_job_id, save_upload
from app.errors import InvalidInput
from app.programme.inventory import parse_column_map
from app.programme.service import (
    ProgrammeQuery,
    ProgrammeWork,
    open_programme,
    save_programme,
    write_programme,
)
from app.routes.deps import (
    CallerDep,
    EstimatesVisibleDep,
    KeyOwnerDep,
    RepositoryDep,
    SettingsDep,
    creator,
    estimates_visible,
)
from app.routes.errors import problems
from app.routes.jobs import job_pool, status_info
from app.routes.responses import JSONAnswer, MediaType
from app.store.repository import StoredProgramme

router = APIRouter(prefix="/programmes", tags=["programmes"], responses=problems(503))
FORMATS = ("json", *OUTPUTS)


def _document(request: Request, saved: StoredProgramme) -> dict[str, Any]:
    """A saved programme as JSON: what was asked, the pinned versions, totals and links."""
    collection = f"programme-{saved.id}"
    return {
        "id": saved.id,
        "name": saved.name,
        "created_at": saved.created_at.isoformat(),
        "request": saved.request,
        **saved.summary,
        "links": [
            {
                "href": str(request.url_for("get_programme", programme_id=saved.id)),
                "rel": "self",
                "type": MediaType.json.value,
            },
            {
                "href": str(request.url_for("collection", collectionId=collection)),
                "rel": "collection",
                "type": MediaType.json.value,
            },
            {
                "href": str(request.url_for("items", collectionId=collection)),
                "rel": "items",
                "type": MediaType.geojson.value,
            },
        ],
    }


@router.post(
    "",
    summary="A costed maintenance programme from an uploaded road inventory",
    status_code=201,
    responses={
        201: {"content": {MediaType.json.value: {}, **{m: {} for m in OUTPUTS.values()}}},
        **problems(413),
    },
)
def create_programme(
    request: Request,
    repository: RepositoryDep,
    settings: SettingsDep,
    caller: CallerDep,
    inventory: Annotated[
        UploadFile,
        File(description="Road inventory: CSV (geometry optional), GeoJSON or GeoPackage."),
    ],
    complaints: Annotated[
        UploadFile | None,
        File(description="Complaint points: GeoJSON, GeoPackage or CSV with a WKT column."),
    ] = None,
    f: Annotated[
        str, Query(description="json (the programme), or a file: " + ", ".join(OUTPUTS))
    ] = "json",
    budget: Annotated[
        Decimal | None, Query(ge=0, description="Budget in the catalog's currency.")
    ] = None,
    rules: Annotated[str | None, Query(description="Rule set id or id@version.")] = None,
    catalog: Annotated[str | None, Query(description="Rate catalog id or id@version.")] = None,
    column: Annotated[
        list[str] | None,
        Query(description="Where a field is in the inventory: field=header, repeatable."),
    ] = None,
    lang: Annotated[Literal["en", "id"], Query(description="Language of the reasons.")] = "en",
    crs: Annotated[str | None, Query(description="CRS of WKT without an EWKT SRID.")] = None,
    name: Annotated[str | None, Query(max_length=200, description="The programme's name.")] = None,
    prefer: Annotated[str | None, Header(description="respond-async: always a job.")] = None,
) -> Response:
    """Every segment's treatment, priced bill, priority and budget status; saved."""
    if f not in FORMATS:
        raise InvalidInput(f"unknown format {f!r}; use one of {', '.join(FORMATS)}", field="f")
    owner = creator(settings, caller, estimates_visible(settings, caller).owner_only)
    query = ProgrammeQuery(
        rules=rules,
        catalog=catalog,
        budget=budget,
        columns=parse_column_map(column or []),
        lang=lang,
        crs=crs,
    )
    job_id = new_job_id()
    folder = job_folder(settings, job_id)
    fmt = "csv" if f == "json" else f
    try:
        upload = save_upload(inventory.file, inventory.filename, folder, field="inventory")
        points = None
        if complaints is not None:
            points = save_upload(
                complaints.file, complaints.filename, folder, "complaints", "complaints"
            )
        opened = open_programme(repository, settings, upload, query, points)
        output = folder / f"result.{fmt}"
        rows = opened.source.count_rows()
        wants_async = "respond-async" in (prefer or "")
        if wants_async or rows > settings.limits.async_batch_rows:
            work = ProgrammeWork(repository, opened, query, output, name, owner)
            job = job_pool(request).start(job_id, work, fmt, query.to_dict(), rows, owner)
            headers = {"Location": str(request.url_for("job", job_id=job_id))}
            if wants_async:
                headers["Preference-Applied"] = "respond-async"
            return JSONAnswer(status_info(request, job), status_code=201, headers=headers)
        made = opened.run()
        saved = save_programme(repository, opened, made, query, name, owner)
        location = {"Location": str(request.url_for("get_programme", programme_id=saved.id))}
        if f == "json":
            shutil.rmtree(folder, ignore_errors=True)
            return JSONAnswer(_document(request, saved), status_code=201, headers=location)
        write_programme(opened, made, output)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        output,
        status_code=201,
        media_type=OUTPUTS[f],
        filename=f"programme-{saved.id}.{f}",
        headers={**location, "X-Programme": str(saved.id)},
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


@router.get("", summary="Saved programmes")
def list_programmes(
    request: Request, repository: RepositoryDep, visible: EstimatesVisibleDep
) -> JSONAnswer:
    """Every saved programme the caller may see, with its totals and links."""
    return JSONAnswer(
        {"programmes": [_document(request, saved) for saved in repository.list_programmes(visible)]}
    )


@router.get("/{programme_id}", name="get_programme", summary="A saved programme")
def get_programme(
    programme_id: int, request: Request, repository: RepositoryDep, visible: EstimatesVisibleDep
) -> JSONAnswer:
    """The request, pinned versions, totals per kecamatan and treatment, and links."""
    return JSONAnswer(_document(request, repository.get_programme(programme_id, visible)))


@router.delete(
    "/{programme_id}", status_code=204, summary="Delete a saved programme (needs an API key)"
)
def delete_programme(
    programme_id: int, repository: RepositoryDep, settings: SettingsDep, key_owner: KeyOwnerDep
) -> Response:
    """Remove the programme and its segments; 404 when there is none the key may see."""
    repository.delete_programme(programme_id, estimates_visible(settings, key_owner))
    return Response(status_code=204)
