"""An estimate in the format the client asked for: JSON, GeoJSON, CSV, XLSX or GeoPackage."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from app.batch.runner import BatchSummary
from app.errors import InvalidInput
from app.estimate.grand_total import Language
from app.io import vector, xlsx
from app.io.rows import estimate_rows
from app.io.writers import write_file
from app.resolve import item_codes
from app.routes.params import negotiate
from app.routes.responses import JSONAnswer, MediaType
from app.service import EstimateRun
from app.store.repository import Repository


class EstimateFormat(StrEnum):
    """Formats an estimate can be had in."""

    json = "json"
    geojson = "geojson"
    csv = "csv"
    xlsx = "xlsx"
    gpkg = "gpkg"


FORMAT_DESCRIPTION = (
    "json (default), geojson (flat properties, for QGIS), csv, xlsx or gpkg; without it, "
    "`Accept: application/geo+json` selects GeoJSON."
)


def estimate_format_of(request: Request, f: str | None) -> EstimateFormat:
    """`f` when given, else the `Accept` header between JSON and GeoJSON."""
    if f is None:
        media = negotiate(request.headers.get("accept"), [MediaType.json, MediaType.geojson])
        return EstimateFormat.geojson if media == MediaType.geojson else EstimateFormat.json
    try:
        return EstimateFormat(f.lower())
    except ValueError:
        known = ", ".join(fmt.value for fmt in EstimateFormat)
        raise InvalidInput(f"unknown format {f!r}; use one of {known}", field="f") from None


async def estimate_format(
    request: Request,
    f: Annotated[str | None, Query(description=FORMAT_DESCRIPTION)] = None,
) -> EstimateFormat:
    """The format asked for (`estimate_format_of`)."""
    return estimate_format_of(request, f)


EstimateFormatDep = Annotated[EstimateFormat, Depends(estimate_format)]


LANGUAGES: tuple[Language, ...] = ("en", "id")


LANGUAGE_DESCRIPTION = (
    "Language of the total in words (terbilang): id or en; without it, the `Accept-Language` "
    "header, then English."
)


def answer_language(request: Request, lang: str | None) -> Language:
    """`lang` when given, else the first of id and en the `Accept-Language` header prefers
    (by q value, then order), else English."""
    if lang is not None:
        chosen = lang.strip().lower()
        for known in LANGUAGES:
            if chosen == known:
                return known
        raise InvalidInput(f"unknown language {lang!r}; use id or en", field="lang")
    ranked: list[tuple[float, int, Language]] = []
    for position, part in enumerate((request.headers.get("accept-language") or "").split(",")):
        tag, _, params = part.partition(";")
        primary = tag.strip().lower().split("-")[0]
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        for known in LANGUAGES:
            if primary == known and quality > 0:
                ranked.append((-quality, position, known))
    return min(ranked)[2] if ranked else "en"


def download(content: bytes, media_type: str, filename: str) -> Response:
    """A file the client saves as `filename`."""
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def estimate_file(repository: Repository, run: EstimateRun, fmt: str) -> bytes:
    """The estimate as one chunk of rows, written as a batch writes it: the same columns
    (items of every template its features may name, as a batch with a `template` column)
    and the same workbook."""
    result = run.result
    own_templates = any("template" in row for row in result.features.properties)
    codes = item_codes(repository, [result.options.template], own_templates)
    codes += [item.code for template in run.templates for item in template.items]
    priced = [code for code in dict.fromkeys(codes) if code in run.catalog.items]
    chunk = estimate_rows(result, priced, run.catalog)
    outcome = BatchSummary(
        rows=len(result.bill),
        bill=result.bill,
        templates=run.templates,
        catalog=run.catalog,
        materials=result.materials,
    )
    return write_file(chunk, outcome, fmt)


def estimate_response(
    repository: Repository,
    run: EstimateRun,
    answer: dict[str, Any],
    output: EstimateFormat,
    filename: str,
) -> Response:
    """The response body for `output`; `answer` is the JSON form."""
    if output == EstimateFormat.json:
        return JSONAnswer(answer)
    content = estimate_file(repository, run, output.value)
    if output == EstimateFormat.xlsx:
        return download(content, xlsx.MEDIA_TYPE, f"{filename}.xlsx")
    media_type = vector.MEDIA_TYPES[output.value]
    if output == EstimateFormat.geojson:
        return Response(content, media_type=media_type)
    return download(content, media_type, f"{filename}.{output.value}")
