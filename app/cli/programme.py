"""`takeoff programme INVENTORY -o OUTPUT`: a road inventory and its condition to a costed
maintenance programme, with a budget line.

The rule set, catalog and templates come from the same store as the server's. A summary of
the budget line and the totals per kecamatan and per treatment goes to stdout.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.cli.options import CsvDecimal, CsvEncoding, CsvSeparator
from app.errors import InvalidInput
from app.programme.engine import Language
from app.settings import get_settings
from app.store import database
from app.store.repository import Repository
from app.store.startup import prepare_store


def _budget(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text.replace("_", ""))
    except InvalidOperation:
        raise InvalidInput(f"budget must be a number, got {text!r}", field="budget") from None


def programme(
    inventory: Annotated[
        Path,
        typer.Argument(
            metavar="INVENTORY",
            help="Road inventory: CSV (Indonesian or English column names, geometry optional), "
            "GeoJSON or GeoPackage.",
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="CSV, GeoJSON, GeoPackage or XLSX, by extension.")
    ],
    budget: Annotated[
        str | None, typer.Option(help="Budget in the catalog's currency (e.g. 25000000000).")
    ] = None,
    complaints: Annotated[
        Path | None,
        typer.Option(help="Complaint points (GeoJSON, GeoPackage or CSV with a WKT column)."),
    ] = None,
    rules: Annotated[str | None, typer.Option(help="Treatment rule set id or id@version.")] = None,
    catalog: Annotated[str | None, typer.Option(help="Rate catalog id or id@version.")] = None,
    column: Annotated[
        list[str] | None,
        typer.Option(
            "--column",
            help="Where a field is in this inventory, field=header (e.g. panjang=PJG_M); "
            "repeat for more.",
        ),
    ] = None,
    lang: Annotated[Language, typer.Option(help="Language of the reasons: en or id.")] = "en",
    crs: Annotated[
        str | None, typer.Option(help="CRS of WKT coordinates without an EWKT SRID.")
    ] = None,
    sep: CsvSeparator = None,
    decimal: CsvDecimal = None,
    encoding: CsvEncoding = "utf-8",
) -> None:
    """Choose each segment's treatment, price it, rank it and draw the budget line."""
    from app.programme.inventory import parse_column_map  # not loaded by other commands
    from app.programme.service import ProgrammeQuery, open_programme, write_programme

    settings = get_settings()
    store = database.create_store_engine(settings.store)
    prepare_store(store, settings)
    query = ProgrammeQuery(
        rules=rules,
        catalog=catalog,
        budget=_budget(budget),
        columns=parse_column_map(column or []),
        lang=lang,
        crs=crs,
        separator=sep,
        decimal=decimal,
        encoding=encoding,
    )
    opened = open_programme(Repository(store), settings, inventory, query, complaints)
    store.dispose()
    made = opened.run()
    write_programme(opened, made, output)
    summary = made.summary()
    console = Console()
    totals = summary["totals"]
    currency = summary["currency"]
    for key, title in (("by_kecamatan", "Kecamatan"), ("by_treatment", "Treatment")):
        table = Table(title=f"{title} ({currency})")
        for name in (title, "Segments", "Length m", "Cost", "Funded", "Not funded"):
            table.add_column(name, justify="left" if name == title else "right")
        for group in summary[key]:
            name = group["kecamatan" if key == "by_kecamatan" else "treatment"]
            table.add_row(
                str(name),
                f"{group['segments']:,}",
                f"{group['length_m']:,.1f}",
                f"{Decimal(group['cost']):,}",
                f"{Decimal(group['funded']):,}",
                f"{Decimal(group['not_funded']):,}",
            )
        console.print(table)
    console.print(
        f"{totals['segments']:,} segments: {totals['funded_segments']:,} funded, "
        f"{totals['unfunded_segments']:,} not funded, {totals['no_works']:,} without works, "
        f"{totals['errors']:,} with errors; needed {Decimal(totals['needed']):,} {currency}, "
        f"funded {Decimal(totals['funded']):,}, funding gap {Decimal(totals['funding_gap']):,} "
        f"-> {output}",
        markup=False,
        highlight=False,
    )
    stderr = Console(stderr=True)
    for message in summary["first_errors"]:
        stderr.print(f"error: {message}", markup=False, highlight=False)
    if totals["segments"] and totals["errors"] == totals["segments"]:
        raise typer.Exit(1)
