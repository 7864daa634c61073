"""A programme against the store: the stored rule set, catalog and templates it names, the
inventory and complaint files opened, the outputs written, the programme saved.

The CLI, `POST /programmes` and its jobs all come through here, so they resolve the same
versions and write the same columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import shapely

from app.batch.jobs import JobReport, JobWork
from app.errors import InvalidInput
from app.estimate.bom import BillOfMaterials
from app.estimate.catalogs import RateCatalog
from app.estimate.materials import MaterialView
from app.estimate.templates import Template
from app.geo.crs import resolve_crs
from app.io.csvout import encode_csv
from app.io.rows import money_as_numbers, output_table
from app.io.sources import Source, open_source
from app.io.writers import needs_geometry, open_sink, output_format
from app.programme.complaints import complaint_points
from app.programme.engine import Language
from app.programme.run import Programme, ProgrammeRequest, make_programme, output_chunks
from app.programme.workbook import write_workbook
from app.resolve import resolve_catalog, resolve_rule_set, resolve_templates
from app.settings import Settings
from app.store.repository import NewProgramme, Repository, StoredProgramme


@dataclass(frozen=True)
class ProgrammeQuery:
    """What a programme asks for, as given (rule set and catalog may be `id@version`)."""

    rules: str | None = None
    catalog: str | None = None
    budget: Decimal | None = None
    columns: Mapping[str, str] | None = None
    lang: Language = "en"
    crs: str | None = None
    separator: str | None = None
    decimal: str | None = None
    encoding: str = "utf-8"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, saved with the programme."""
        return {
            "rules": self.rules,
            "catalog": self.catalog,
            "budget": None if self.budget is None else format(self.budget, "f"),
            "columns": dict(self.columns or {}),
            "lang": self.lang,
            "crs": self.crs,
        }


@dataclass(frozen=True)
class OpenProgramme:
    """An inventory opened and the stored versions resolved; nothing read yet."""

    source: Source
    request: ProgrammeRequest

    @property
    def wkt_column(self) -> str | None:
        """The inventory's WKT column (CSV: copied as sent, left out of GIS outputs; empty
        for a table without geometry, which gets no WKT column either)."""
        return self.source.geometry_column if self.source.kind == "csv" else None

    def run(self, progress: Callable[[int], None] | None = None) -> Programme:
        """Pass one over the inventory (see `app.programme.run`)."""
        return make_programme(self.source, self.request, progress)


def open_programme(
    repository: Repository,
    settings: Settings,
    inventory: Path,
    query: ProgrammeQuery,
    complaints: Path | None = None,
) -> OpenProgramme:
    """Check the query, open the inventory and the complaints, resolve the stored versions."""
    if query.budget is not None and query.budget < 0:
        raise InvalidInput(f"budget must be >= 0, got {query.budget}", field="budget")
    if query.crs is not None:
        resolve_crs(query.crs)
    source = open_source(
        inventory,
        crs=query.crs,
        separator=query.separator,
        decimal=query.decimal,
        encoding=query.encoding,
        geometry_optional=True,
    )
    rules = resolve_rule_set(repository, query.rules or settings.estimate.default_rules)
    catalog = resolve_catalog(repository, query.catalog or settings.estimate.default_catalog)
    templates = resolve_templates(repository, sorted(rules.templates()))
    points = None if complaints is None else complaint_points(complaints)
    if points is not None and not source.geometry_column:
        raise InvalidInput(
            f"{inventory.name} has no geometry, so complaints cannot be placed on its segments",
            field="complaints",
        )
    request = ProgrammeRequest(
        rules=rules,
        catalog=catalog,
        templates=templates,
        budget=query.budget,
        columns=query.columns,
        complaints=points,
        lang=query.lang,
    )
    return OpenProgramme(source, request)


@dataclass
class _Outcome:
    """What the row writers are told at the end (they need no bill for a programme)."""

    rows: int
    failed: int
    bill: BillOfMaterials | None = None
    templates: list[Template] = field(default_factory=list)
    catalog: RateCatalog | None = None
    materials: MaterialView | None = None


def write_programme(opened: OpenProgramme, programme: Programme, output: Path) -> None:
    """Pass two: every inventory row with its programme columns, in `output`'s format."""
    fmt = output_format(output)
    if output.resolve() == opened.source.path.resolve():
        raise InvalidInput(f"{output} is the input file; write elsewhere", field="output")
    wkt = opened.wkt_column
    if fmt == "xlsx":
        chunks = output_chunks(programme, opened.source, want_geometry=False)
        write_workbook(programme, chunks, output, wkt)
        return
    sink = open_sink(output, wkt)
    want = needs_geometry([output], wkt)
    for chunk in output_chunks(programme, opened.source, want_geometry=want):
        encoded = None if sink.csv_format is None else encode_csv(sink.csv_format, chunk)
        sink.write(chunk, encoded)
    sink.close(_Outcome(programme.rows, int(programme.failed.sum())))


def stored_segments(
    opened: OpenProgramme, programme: Programme
) -> Iterator[tuple[dict[str, Any], shapely.Geometry | None]]:
    """Each segment's flat properties (money as numbers) and geometry, for the store."""
    for chunk in output_chunks(programme, opened.source, want_geometry=True):
        table = money_as_numbers(output_table(chunk, opened.wkt_column, errors_only=False))
        geometries = (
            [None] * table.num_rows if chunk.wkb is None else shapely.from_wkb(chunk.wkb).tolist()
        )
        yield from zip(table.to_pylist(), geometries, strict=True)


def save_programme(
    repository: Repository,
    opened: OpenProgramme,
    programme: Programme,
    query: ProgrammeQuery,
    name: str | None,
    owner: str | None,
) -> StoredProgramme:
    """Save the programme, pinned to its rule set, catalog and template versions."""
    request, summary = programme.request, programme.summary()
    rules, catalog = request.rules, request.catalog
    assert rules.version is not None and catalog.version is not None
    record = NewProgramme(
        name=name,
        request={**query.to_dict(), "inventory": opened.source.path.name},
        summary=summary,
        rule_set_slug=rules.slug,
        rule_set_version=rules.version,
        catalog_slug=catalog.slug,
        catalog_version=catalog.version,
        currency=catalog.currency,
    )
    return repository.save_programme(record, list(stored_segments(opened, programme)), owner)


@dataclass
class ProgrammeWork(JobWork):
    """A programme run as a job: made, written to `output`, saved; the job's summary holds
    the saved programme's id and totals."""

    repository: Repository
    opened: OpenProgramme
    query: ProgrammeQuery
    output: Path
    name: str | None
    owner: str | None
    process_id: str = "programme"

    def run(self, progress: Callable[[int], None]) -> JobReport:
        """Pass one with progress, the output file, the saved programme."""
        programme = self.opened.run(progress)
        write_programme(self.opened, programme, self.output)
        saved = save_programme(
            self.repository, self.opened, programme, self.query, self.name, self.owner
        )
        totals = saved.summary["totals"]
        return JobReport(
            rows=programme.rows,
            message=f"programme {saved.id}: {totals['segments']} segments, "
            f"{totals['funded_segments']} funded, {totals['errors']} with errors",
            summary={"programme": saved.id, **saved.summary},
        )
