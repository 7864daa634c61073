"""`takeoff estimate INPUT -o OUTPUT`: a batch of road geometries from a file to a priced file.

Templates and catalogs come from the same store as the server's, so a batch and an HTTP
estimate price the same versions. The rows stream through `app.batch.runner` (or a Dask
cluster with `--engine dask`); a progress bar goes to stderr when it is a terminal, the BoM
summary to stdout at the end.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from app.batch.mapping import TemplateMap, WidthRule, load_template_map
from app.batch.runner import BatchOptions, BatchRunner, BatchSummary, Sink
from app.batch.sinks import needs_geometry, open_sink, output_format
from app.errors import InvalidInput
from app.estimate.catalogs import RateCatalog
from app.estimate.templates import Template
from app.geo.crs import resolve_crs
from app.io.flat import money_number
from app.io.sources import Source, open_source
from app.pipeline import EstimateOptions
from app.resolve import resolve_catalog, resolve_templates
from app.settings import get_settings
from app.store import database
from app.store.repository import Repository
from app.store.startup import prepare_store


class Engine(StrEnum):
    """Where the expensive part runs."""

    local = "local"
    dask = "dask"


class _RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} rows/s" if speed else "", style="progress.data.speed")


def _item_codes(repository: Repository, references: list[str], every_template: bool) -> list[str]:
    """Columns of per-row quantities: items of every template the rows may use, in order."""
    if every_template:
        references = references + [doc.slug for doc in repository.templates.latest_all()]
    codes: list[str] = []
    for reference in dict.fromkeys(references):
        try:
            template = resolve_templates(repository, [reference])[reference]
        except InvalidInput:
            continue  # reported on the rows that name it
        codes.extend(item.code for item in template.items)
    return list(dict.fromkeys(codes))


def _print_summary(summary: BatchSummary, output: Path, errors: Path | None) -> None:
    console = Console()
    bill = summary.bill
    assert bill is not None
    table = Table(
        title=f"Bill of materials ({bill.currency}, "
        f"catalog {bill.catalog.slug} v{bill.catalog.version})"
    )
    for name, justify in (
        ("Code", "left"),
        ("Description", "left"),
        ("Unit", "left"),
        ("Quantity", "right"),
        ("Unit rate", "right"),
        ("Amount", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for line in bill.items:
        table.add_row(
            line.code,
            line.description.en,
            line.unit,
            f"{line.quantity:,.3f}",
            f"{money_number(line.unit_rate):,}",
            f"{money_number(line.amount):,}",
        )
    totals = bill.totals
    table.add_section()
    for label, amount in (
        ("Subtotal", totals.subtotal),
        (f"Overhead & profit {bill.overhead_profit_pct} %", totals.overhead_profit),
        (f"VAT {bill.vat_pct} %", totals.tax),
        ("Total", totals.total),
    ):
        table.add_row("", label, "", "", "", f"{money_number(amount):,}")
    console.print(table)
    console.print(
        f"{summary.rows:,} rows: {summary.succeeded:,} estimated, {summary.failed:,} with errors; "
        f"length {totals.length_m:,.1f} m, area {totals.area_m2:,.1f} m2 -> {output}"
        + (f" (failed rows in {errors})" if errors and summary.failed else "")
    )
    stderr = Console(stderr=True)
    for message in summary.first_errors:
        stderr.print(f"error: {message}", markup=False, highlight=False)
    if summary.failed > len(summary.first_errors):
        stderr.print(
            f"... and {summary.failed - len(summary.first_errors):,} more rows with errors"
        )


def estimate(
    input_file: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT", help="CSV (WKT column), GeoJSON, GeoPackage, Shapefile or GeoParquet."
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="CSV, GeoJSON, GeoPackage, GeoParquet or XLSX, by extension."
        ),
    ],
    template: Annotated[
        str | None, typer.Option(help="Template id (or id@version) for rows that name none.")
    ] = None,
    width_m: Annotated[
        float | None,
        typer.Option("--width-m", min=0.01, help="Road width in metres for rows that give none."),
    ] = None,
    catalog: Annotated[str | None, typer.Option(help="Rate catalog id or id@version.")] = None,
    crs: Annotated[
        str | None,
        typer.Option(help="CRS of WKT coordinates without an EWKT SRID, e.g. EPSG:32748."),
    ] = None,
    wkt_column: Annotated[
        str | None,
        typer.Option(help="CSV column holding the geometry (default: wkt, geometry or geom)."),
    ] = None,
    errors: Annotated[
        Path | None,
        typer.Option(
            "--errors", help="Also write the failed rows alone here, with the input's columns."
        ),
    ] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 when any row fails.")] = False,
    template_map: Annotated[
        str | None,
        typer.Option(
            help="JSON/YAML/CSV file (or a shipped name, e.g. osm-highway) mapping a "
            "column's values to templates."
        ),
    ] = None,
    width_from: Annotated[
        str | None, typer.Option(help="Width rule on numeric columns, e.g. 'lanes * 3.5'.")
    ] = None,
    sep: Annotated[str | None, typer.Option(help="CSV separator (default: detected).")] = None,
    decimal: Annotated[
        str | None, typer.Option(help="CSV decimal mark, . or , (default: detected).")
    ] = None,
    encoding: Annotated[str, typer.Option(help="CSV text encoding.")] = "utf-8",
    engine: Annotated[
        Engine, typer.Option(help="local: this machine's cores; dask: a Dask cluster.")
    ] = Engine.local,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (default: a local cluster).")
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes for the local engine.")
    ] = max(1, os.cpu_count() or 1),
) -> None:
    """Estimate every row of INPUT; every row appears in OUTPUT with `status` and `error`."""
    outputs = [output] + ([errors] if errors else [])
    for path in outputs:
        output_format(path)
        if path.resolve() == input_file.resolve():
            raise InvalidInput(
                f"{path} is the input file; write the output elsewhere", field="output"
            )
    if crs is not None:
        resolve_crs(crs)
    settings = get_settings()
    store = database.create_store_engine(settings.store)
    prepare_store(store, settings)
    repository = Repository(store)
    source = open_source(
        input_file,
        crs=crs,
        wkt_column=wkt_column,
        separator=sep,
        decimal=decimal,
        encoding=encoding,
    )

    mapping: TemplateMap | None = load_template_map(template_map) if template_map else None
    if mapping is not None and mapping.default is None and template is not None:
        mapping = TemplateMap(
            mapping.column, mapping.templates, template, mapping.width_from, mapping.source
        )
    rule = WidthRule.parse(width_from) if width_from else (mapping.width_from if mapping else None)
    default_template = template or settings.estimate.default_template
    references = [default_template]
    if mapping is not None:
        references += list(mapping.templates.values()) + (
            [mapping.default] if mapping.default else []
        )
    codes = _item_codes(repository, references, every_template="template" in source.columns)

    wkt = source.geometry_column if source.kind == "csv" else None
    options = BatchOptions(
        estimate=EstimateOptions(
            template=default_template,
            catalog=catalog or settings.estimate.default_catalog,
            width_m=width_m,
        ),
        template_map=mapping,
        width_from=rule,
        max_vertices=settings.limits.max_vertices,
        workers=workers,
        want_geometry=needs_geometry(outputs, wkt),
    )
    rate_catalog = resolve_catalog(repository, options.estimate.catalog)

    def resolve(reference: str) -> Template:
        return resolve_templates(repository, [reference])[reference]

    sinks = [open_sink(output, wkt)] + (
        [open_sink(errors, wkt, errors_only=True)] if errors else []
    )
    if engine == Engine.dask:
        from app.batch.dask_engine import run_dask

        summary = run_dask(source, options, rate_catalog, resolve, codes, sinks, scheduler)
    else:
        summary = _run_local(source, options, rate_catalog, resolve, codes, sinks)
    store.dispose()
    _print_summary(summary, output, errors)
    if summary.succeeded == 0 or (strict and summary.failed):
        raise typer.Exit(1)


def _run_local(
    source: Source,
    options: BatchOptions,
    catalog: RateCatalog,
    resolve: Callable[[str], Template],
    codes: list[str],
    sinks: list[Sink],
) -> BatchSummary:
    runner = BatchRunner(source, options, catalog, resolve, codes)
    if not sys.stderr.isatty():
        return runner.run(sinks)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.completed:,} rows"),
        _RowsPerSecond(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task("estimate", total=None)
        return runner.run(sinks, lambda rows: progress.advance(task, rows))
