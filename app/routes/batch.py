"""`POST /batch`: upload a CSV, GeoJSON or GeoPackage of roads, get every row estimated.

Inputs up to `TAKEOFF_ASYNC_BATCH_ROWS` rows are answered at once in the format asked
(`f=csv|geojson|gpkg|parquet|xlsx`); larger ones (or `Prefer: respond-async`) become a job:
201 with `Location: /jobs/{id}`, as in OGC API Processes. A job made with an API key is
that key's alone (see `app.routes.jobs`); `TAKEOFF_REQUIRE_KEY_FOR_WRITES` makes a key required.
"""

from __future__ import annotations

import shutil
from typing import Annotated

from fastapi import APIRouter, File, Header, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from app.batch.jobs import (
    OUTPUTS,
    job_folder,
    new_job_id,
    open_upload,
    save_upload,
    shipped_map,
)
from app.batch.service import BatchRequest
from app.estimate.ahsp import MAX_HAUL_KM
from app.geo.validate import MAX_WIDTH_M
from app.routes.deps import CreatorDep, RepositoryDep, SettingsDep
from app.routes.errors import problems
from app.routes.jobs import job_pool, status_info
from app.routes.responses import JSONAnswer, MediaType

router = APIRouter(tags=["batch"], responses=problems(503))


@router.post(
    "/batch",
    summary="Estimate every row of an uploaded file (large files become a job)",
    responses={
        200: {"content": {media: {} for media in OUTPUTS.values()}},
        201: {
            "description": "Accepted as a job: see the Location header",
            "content": {MediaType.json.value: {}},
        },
        **problems(413),
    },
)
def create_batch(
    request: Request,
    repository: RepositoryDep,
    settings: SettingsDep,
    owner: CreatorDep,
    file: Annotated[UploadFile, File(description="CSV (WKT column), GeoJSON or GeoPackage.")],
    f: Annotated[str, Query(description="Result format: " + ", ".join(OUTPUTS))] = "csv",
    template: Annotated[str | None, Query(description="Template for rows naming none.")] = None,
    catalog: Annotated[str | None, Query(description="Rate catalog id or id@version.")] = None,
    width_m: Annotated[
        float | None, Query(gt=0, le=MAX_WIDTH_M, description="Width for rows giving none.")
    ] = None,
    crs: Annotated[str | None, Query(description="CRS of WKT without an EWKT SRID.")] = None,
    wkt_column: Annotated[str | None, Query(description="CSV geometry column.")] = None,
    template_map: Annotated[
        str | None, Query(description="A shipped attribute map, e.g. osm-highway.")
    ] = None,
    width_from: Annotated[
        str | None, Query(description="Width rule on numeric columns, e.g. lanes * 3.5.")
    ] = None,
    project_items: Annotated[
        bool, Query(description="Bill the catalog's project items once for the whole file.")
    ] = True,
    haul_km: Annotated[
        float | None,
        Query(ge=0, le=MAX_HAUL_KM, description="Haul distance L (km) for rows giving none."),
    ] = None,
    prefer: Annotated[str | None, Header(description="respond-async: always a job.")] = None,
) -> Response:
    """Every input row comes back, in order, with `status` and `error`."""
    options = BatchRequest(
        template=template,
        catalog=catalog,
        width_m=width_m,
        crs=crs,
        wkt_column=wkt_column,
        template_map=shipped_map(template_map),
        width_from=width_from,
        project_items=project_items,
        haul_km=haul_km,
    )
    job_id = new_job_id()
    folder = job_folder(settings, job_id)
    try:
        upload = save_upload(file.file, file.filename, folder)
        batch = open_upload(repository, settings, folder, upload, f, options)
        rows = batch.runner.source.count_rows()
        wants_async = "respond-async" in (prefer or "")
        if wants_async or rows > settings.limits.async_batch_rows:
            job = job_pool(request).start(job_id, batch, f, options, rows, owner)
            headers = {"Location": str(request.url_for("job", job_id=job_id))}
            if wants_async:
                headers["Preference-Applied"] = "respond-async"
            return JSONAnswer(status_info(request, job), status_code=201, headers=headers)
        summary = batch.run()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        folder / f"result.{f}",
        media_type=OUTPUTS[f],
        filename=f"estimate.{f}",
        headers={"X-Rows": str(summary.rows), "X-Rows-Failed": str(summary.failed)},
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
