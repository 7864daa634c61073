"""The `takeoff` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress

from app.cli.estimate import estimate
from app.cli.programme import programme
from app.errors import TakeoffError
from app.io.layers import DEFAULT_CHUNK_FEATURES, open_layer
from app.io.material_sources import read_sources
from app.io.pricelist import PriceListError, save_price_list
from app.settings import get_settings, setting_problem
from app.store import database
from app.store.repository import Repository
from app.store.startup import prepare_store

cli = typer.Typer(
    help="Takeoff: road geometries in, priced bill of materials out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db = typer.Typer(help="Database schema.", no_args_is_help=True)
cli.add_typer(db, name="db")
catalog = typer.Typer(help="Rate catalogs.", no_args_is_help=True)
cli.add_typer(catalog, name="catalog")
cli.command("estimate")(estimate)
cli.command("programme")(programme)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    worker_timeout: Annotated[
        int,
        typer.Option(
            min=1,
            help="With --workers: seconds a worker may take to start or to answer the "
            "supervisor's health check (while busy with a large request) before it is "
            "restarted.",
        ),
    ] = 60,
) -> None:
    """Run the HTTP service (the embedded store is created and upgraded by itself)."""
    import uvicorn  # here: the other commands start without the server

    from app.logs import log_config
    from app.metrics import share_metrics

    settings = get_settings()
    engine = database.create_store_engine(settings.store, serving=False)
    prepare_store(engine, settings)
    engine.dispose()
    where = (
        "embedded store " + str(settings.store.data_dir)
        if settings.store.backend == "sqlite"
        else "PostGIS"
    )
    typer.echo(f"Takeoff on http://{host}:{port}/ ({where})", err=True)
    if workers > 1:
        share_metrics()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_worker_healthcheck=worker_timeout,
        log_config=log_config(settings.api.log_format),
        access_log=False,  # the app writes its own (app.access)
    )


@db.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Migrate the schema to REVISION (default: the newest)."""
    engine = database.create_store_engine(get_settings().store, serving=False)
    database.upgrade(engine, revision)
    current, head = database.schema_revisions(engine)
    typer.echo(f"schema at revision {current} (newest {head})")


@db.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()]) -> None:
    """Take the schema back to REVISION (`base` removes every table)."""
    engine = database.create_store_engine(get_settings().store, serving=False)
    database.downgrade(engine, revision)
    typer.echo(f"schema at revision {database.schema_revisions(engine)[0] or 'base'}")


@cli.command("load-layer")
def load_layer(
    file: Annotated[Path, typer.Argument(help="GeoJSON, GeoPackage, Shapefile, ...")],
    slug: Annotated[
        str | None, typer.Option(help="Collection id (default: from the name).")
    ] = None,
    title: Annotated[str | None, typer.Option(help="Collection title.")] = None,
    attribution: Annotated[str | None, typer.Option(help="Shown wherever the data is.")] = None,
    replace: Annotated[bool, typer.Option(help="Replace a layer with the same id.")] = False,
    chunk_features: Annotated[
        int, typer.Option(min=1, help="Features read and stored at a time (memory follows it).")
    ] = DEFAULT_CHUNK_FEATURES,
) -> None:
    """Publish a road layer as an OGC API Features collection, streamed in chunks: a file of
    any size loads in bounded memory, and all or nothing of it is published."""
    settings = get_settings()
    engine = database.create_store_engine(settings.store, serving=False)
    prepare_store(engine, settings)
    layer = open_layer(file, slug=slug, title=title, chunk_features=chunk_features)
    if attribution:
        layer.metadata["attribution"] = attribution
    columns = (*Progress.get_default_columns(), MofNCompleteColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"loading {layer.slug}", total=layer.feature_count)
        info = Repository(engine).create_layer(
            layer, replace=replace, progress=lambda stored: bar.advance(task, stored)
        )
    engine.dispose()
    typer.echo(f"collection {info.slug!r}: {info.feature_count} features")


@catalog.command("import")
def catalog_import(
    file: Annotated[Path, typer.Argument(help="The city's price list (HSPK / SSH), XLSX or CSV.")],
    slug: Annotated[str, typer.Option(help="Catalog id the new version is saved under.")],
    crosswalk: Annotated[
        Path, typer.Option(help="CSV item_code,list_code: which list row prices what.")
    ],
    base: Annotated[
        str | None,
        typer.Option(
            help="Catalog (id or id@version) the new version starts from (default: SLUG)."
        ),
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(
            help="Header names when they are not the usual ones: "
            "'code=Kode Barang,description=Uraian,unit=Satuan,price=Harga 2025'."
        ),
    ] = None,
    decimal: Annotated[
        str, typer.Option(help="Decimal mark of prices written as text: ',' (1.400.000,00) or '.'.")
    ] = ",",
) -> None:
    """Read a price list into a new catalog version; nothing is saved if a row the crosswalk
    needs is missing or unreadable (exit 1 with the list)."""
    settings = get_settings()
    engine = database.create_store_engine(settings.store, serving=False)
    prepare_store(engine, settings)
    try:
        imported, version = save_price_list(
            Repository(engine),
            file.read_bytes(),
            file.name,
            crosswalk.read_bytes(),
            slug=slug,
            base=base,
            columns=columns,
            decimal=decimal,
        )
    except PriceListError as exc:
        for problem in exc.problems:
            typer.echo(f"takeoff: error: {problem}", err=True)
        typer.echo(f"takeoff: nothing saved: {len(exc.problems)} problem(s)", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    for problem in imported.unused_problems:
        typer.echo(f"takeoff: warning: {problem} (no crosswalk row needs it)", err=True)
    typer.echo(
        f"catalog {slug!r} version {version}: {len(imported.items)} item rate(s), "
        f"{len(imported.basic_prices)} basic price(s) from the crosswalk, "
        f"{len(imported.added)} other row(s) kept as basic prices"
    )


@cli.command("load-sources")
def load_sources(
    file: Annotated[
        Path, typer.Argument(help="GeoJSON or GeoPackage points: name, kind, materials.")
    ],
) -> None:
    """Add material sources (plants, quarries, base camps) to the `sources` collection."""
    settings = get_settings()
    engine = database.create_store_engine(settings.store, serving=False)
    prepare_store(engine, settings)
    ids = Repository(engine).add_sources(read_sources(file))
    typer.echo(f"collection 'sources': {len(ids)} sources added")


def main() -> None:
    """Entry point: every user-fixable problem is one line on stderr, never a traceback."""
    try:
        cli()
    except TakeoffError as exc:
        typer.echo(f"takeoff: error: {exc}", err=True)
        sys.exit(2)
    except ValidationError as exc:
        typer.echo(f"takeoff: error: {setting_problem(exc)}", err=True)
        sys.exit(2)
