"""`takeoff estimate INPUT -o OUTPUT`: a batch of road geometries from a file to a priced file.

Templates and catalogs come from the same store as the server's, so a batch and an HTTP
estimate price the same versions. The rows stream through `app.batch.runner` (or a Dask
cluster with `--engine dask`); a progress bar goes to stderr when it is a terminal, the BoM
summary to stdout at the end.
"""

from __future__ import annotations

import os
import sys
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

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

from app.batch.runner import BatchSummary
from app.batch.service import BatchRequest, OpenBatch, open_batch
from app.cli.options import CsvDecimal, CsvEncoding, CsvSeparator
from app.estimate.materials import material_view
from app.estimate.units import quantity_decimals
from app.io.rows import money_number
from app.io.summary import HEADER, summary_rows, words
from app.settings import get_settings
from app.store import database
from app.store.repository import Repository
from app.store.startup import prepare_store


class Engine(StrEnum):
    """Where the expensive part runs."""

    local = "local"
    dask = "dask"


_NUMBERS = ("No", "Quantity", "Unit rate", "Amount")


class _RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} rows/s" if speed else "", style="progress.data.speed")


def _cells(row: tuple[Any, ...]) -> list[Text]:
    """A Summary row for the terminal: quantities with the bill's decimals for their unit,
    money as numbers."""
    unit, cells = row[4], []
    for value in row:
        if value is None:
            text = ""
        elif isinstance(value, float):
            text = f"{value:,.{quantity_decimals(unit)}f}"
        elif isinstance(value, Decimal):
            text = f"{money_number(value):,}"
        else:
            text = str(value)
        cells.append(Text(text))
    return cells


def _print_materials(console: Console, summary: BatchSummary) -> None:
    """What the whole file needs delivered (`app.estimate.materials`), when the catalog says."""
    assert summary.bill is not None and summary.catalog is not None
    view = material_view(summary.bill.items, summary.templates, summary.catalog)
    if not view.lines:
        return
    table = Table(title="Material to order and deliver")
    for name in ("Material", "Unit", "Net", "Loss %", "Order", "Vehicle", "Loads", "Days"):
        table.add_column(
            name, justify="left" if name in ("Material", "Unit", "Vehicle") else "right"
        )
    for line in view.lines:
        decimals = quantity_decimals(line.unit)
        table.add_row(
            line.material,
            line.unit,
            f"{line.net_quantity:,.{decimals}f}",
            f"{line.loss_pct:g}",
            f"{line.order_quantity:,.{decimals}f}",
            line.vehicle.name.en,
            f"{line.loads:,}",
            "" if line.working_days is None else f"{line.working_days:,}",
        )
    console.print(table)


def _print_summary(summary: BatchSummary, output: Path, errors: Path | None) -> None:
    console = Console()
    bill = summary.bill
    assert bill is not None
    table = Table(
        title=f"Bill of materials ({bill.currency}, "
        f"catalog {bill.catalog.slug} v{bill.catalog.version})"
    )
    rows = [_cells(row) for row in summary_rows(bill)]
    for column, name in enumerate(HEADER):
        if name in _NUMBERS:  # numbers are never cut or wrapped; descriptions wrap instead
            widest = max((row[column].cell_len for row in rows), default=0)
            table.add_column(name, justify="right", no_wrap=True, min_width=widest)
        else:
            table.add_column(name, justify="left")
    for position, row in enumerate(rows):
        if position == len(bill.items):
            table.add_section()
        table.add_row(*row)
    console.print(table)
    console.print(f"In words: {words(bill, 'en')}", markup=False, highlight=False)
    _print_materials(console, summary)
    totals = bill.totals
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
    haul_km: Annotated[
        float | None,
        typer.Option(
            "--haul-km",
            min=0,
            max=1000,
            help="Haul distance L (km) for analysed hauled items, for rows without a "
            "haul_km column value (default: the catalog's).",
        ),
    ] = None,
    dissolve: Annotated[
        bool,
        typer.Option(
            help="Pave overlapping parts once: a row is charged only for what no earlier row "
            "of the file paves (rows then run one chunk at a time)."
        ),
    ] = False,
    project_items: Annotated[
        bool,
        typer.Option(
            "--project-items/--no-project-items",
            help="Bill the catalog's project items (mobilisasi, SMKK, ...) once for the whole "
            "file; --no-project-items for a segment that joins a larger package.",
        ),
    ] = True,
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
    sep: CsvSeparator = None,
    decimal: CsvDecimal = None,
    encoding: CsvEncoding = "utf-8",
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
    if engine == Engine.dask:
        from app.batch.dask_engine import require_dask

        require_dask()
    settings = get_settings()
    store = database.create_store_engine(settings.store)
    prepare_store(store, settings)
    request = BatchRequest(
        template=template,
        catalog=catalog,
        width_m=width_m,
        crs=crs,
        wkt_column=wkt_column,
        template_map=template_map,
        width_from=width_from,
        separator=sep,
        decimal=decimal,
        encoding=encoding,
        workers=workers,
        dissolve=dissolve,
        project_items=project_items,
        haul_km=haul_km,
    )
    batch = open_batch(Repository(store), settings, input_file, output, request, errors)
    if engine == Engine.dask:
        from app.batch.dask_engine import run_dask

        summary = run_dask(batch, scheduler)
    else:
        summary = _run_local(batch)
    store.dispose()
    _print_summary(summary, output, errors)
    if summary.succeeded == 0 or (strict and summary.failed):
        raise typer.Exit(1)


def _run_local(batch: OpenBatch) -> BatchSummary:
    if not sys.stderr.isatty():
        return batch.run()
    columns = (
        SpinnerColumn(),
        TextColumn("{task.completed:,} rows"),
        _RowsPerSecond(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task("estimate", total=None)
        return batch.run(lambda rows: progress.advance(task, rows))
