"""The `takeoff` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from app.cli.estimate import estimate
from app.errors import TakeoffError
from app.io.layers import read_layer
from app.io.material_sources import read_sources
from app.settings import get_settings
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
cli.command("estimate")(estimate)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Run the HTTP service (the embedded store is created and upgraded by itself)."""
    import uvicorn  # here: the other commands start without the server

    settings = get_settings()
    engine = database.create_store_engine(settings.store)
    prepare_store(engine, settings)
    engine.dispose()
    where = (
        "embedded store " + str(settings.store.data_dir)
        if settings.store.backend == "sqlite"
        else "PostGIS"
    )
    typer.echo(f"Takeoff on http://{host}:{port}/ ({where})", err=True)
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers)


@db.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Migrate the schema to REVISION (default: the newest)."""
    engine = database.create_store_engine(get_settings().store)
    database.upgrade(engine, revision)
    current, head = database.schema_revisions(engine)
    typer.echo(f"schema at revision {current} (newest {head})")


@db.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()]) -> None:
    """Take the schema back to REVISION (`base` removes every table)."""
    engine = database.create_store_engine(get_settings().store)
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
) -> None:
    """Publish a road layer as an OGC API Features collection."""
    settings = get_settings()
    engine = database.create_store_engine(settings.store)
    prepare_store(engine, settings)
    layer = read_layer(file, slug=slug, title=title)
    if attribution:
        layer.metadata["attribution"] = attribution
    info = Repository(engine).create_layer(layer, replace=replace)
    typer.echo(f"collection {info.slug!r}: {info.feature_count} features")


@cli.command("load-sources")
def load_sources(
    file: Annotated[
        Path, typer.Argument(help="GeoJSON or GeoPackage points: name, kind, materials.")
    ],
) -> None:
    """Add material sources (plants, quarries, base camps) to the `sources` collection."""
    settings = get_settings()
    engine = database.create_store_engine(settings.store)
    prepare_store(engine, settings)
    ids = Repository(engine).add_sources(read_sources(file))
    typer.echo(f"collection 'sources': {len(ids)} sources added")


def _setting_problem(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        name = "TAKEOFF_" + "_".join(str(part) for part in error["loc"]).upper()
        problems.append(f"{name}: {error['msg']} (got {error.get('input')!r})")
    return "invalid setting " + "; ".join(problems)


def main() -> None:
    """Entry point: every user-fixable problem is one line on stderr, never a traceback."""
    try:
        cli()
    except TakeoffError as exc:
        typer.echo(f"takeoff: error: {exc}", err=True)
        sys.exit(2)
    except ValidationError as exc:
        typer.echo(f"takeoff: error: {_setting_problem(exc)}", err=True)
        sys.exit(2)
