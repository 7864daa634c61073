"""An estimate in the format the client asked for: JSON, GeoJSON, CSV, XLSX or GeoPackage."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from app.errors import InvalidInput
from app.io import vector, xlsx
from app.io.flat import flat_frame
from app.routes.params import negotiate
from app.routes.responses import MediaType
from app.service import EstimateRun


class EstimateFormat(StrEnum):
    """Formats an estimate can be had in."""

    json = "json"
    geojson = "geojson"
    csv = "csv"
    xlsx = "xlsx"
    gpkg = "gpkg"


async def estimate_format(
    request: Request,
    f: Annotated[
        str | None,
        Query(
            description="json (default), geojson (flat properties, for QGIS), csv, xlsx or "
            "gpkg; without it, `Accept: application/geo+json` selects GeoJSON."
        ),
    ] = None,
) -> EstimateFormat:
    """`f` when given, else the `Accept` header between JSON and GeoJSON."""
    if f is None:
        media = negotiate(request.headers.get("accept"), [MediaType.json, MediaType.geojson])
        return EstimateFormat.geojson if media == MediaType.geojson else EstimateFormat.json
    try:
        return EstimateFormat(f.lower())
    except ValueError:
        known = ", ".join(fmt.value for fmt in EstimateFormat)
        raise InvalidInput(f"unknown format {f!r}; use one of {known}", field="f") from None


EstimateFormatDep = Annotated[EstimateFormat, Depends(estimate_format)]


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def estimate_response(
    run: EstimateRun, answer: dict[str, Any], output: EstimateFormat, filename: str
) -> Response:
    """The response body for `output`; `answer` is the JSON form."""
    if output == EstimateFormat.json:
        return JSONResponse(answer)
    if output == EstimateFormat.xlsx:
        content = xlsx.estimate_workbook(run.result, run.templates, run.catalog)
        return _download(content, xlsx.MEDIA_TYPE, f"{filename}.xlsx")
    frame = flat_frame(run.result)
    content = vector.to_bytes(frame, output.value)
    media_type = vector.MEDIA_TYPES[output.value]
    if output == EstimateFormat.geojson:
        return Response(content, media_type=media_type)
    return _download(content, media_type, f"{filename}.{output.value}")
