"""A batch against the store: the request's options, templates and catalog, the outputs.

The CLI, `POST /batch`, asynchronous jobs and the Dask engine all open a batch here, so they
read inputs, map attributes, resolve the same stored template and catalog versions and write
the same columns.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.batch.mapping import TemplateMap, WidthRule, load_template_map
from app.batch.runner import BatchOptions, BatchRunner, BatchSummary, Sink
from app.errors import InvalidInput
from app.estimate.catalogs import priced_catalog
from app.estimate.grand_total import rounded_total
from app.estimate.materials import material_view
from app.estimate.templates import Template
from app.geo.crs import resolve_crs
from app.io.rows import money_number
from app.io.sources import open_source
from app.io.writers import needs_geometry, open_sink, output_format
from app.pipeline import EstimateOptions
from app.resolve import haul_overrides, item_codes, resolve_catalog, resolve_templates
from app.settings import Settings
from app.store.repository import Repository


@dataclass(frozen=True)
class BatchRequest:
    """What a batch asks for; per-row columns win over these."""

    template: str | None = None
    catalog: str | None = None
    width_m: float | None = None
    crs: str | None = None
    wkt_column: str | None = None
    template_map: str | None = None
    width_from: str | None = None
    separator: str | None = None
    decimal: str | None = None
    encoding: str = "utf-8"
    workers: int = 1
    dissolve: bool = False
    project_items: bool = True
    haul_km: float | None = None
    """Haul distance L (km) of analysed hauled items for rows that give none."""


@dataclass
class OpenBatch:
    """A batch ready to run: the runner and where its rows go."""

    runner: BatchRunner
    sinks: list[Sink]

    def run(
        self,
        progress: Callable[[int], None] | None = None,
        executor: Executor | None = None,
        in_flight: int | None = None,
    ) -> BatchSummary:
        """Stream every row to every output (see `BatchRunner.run`)."""
        return self.runner.run(self.sinks, progress, executor, in_flight)


def open_batch(
    repository: Repository,
    settings: Settings,
    input_path: Path,
    output: Path,
    request: BatchRequest,
    errors: Path | None = None,
) -> OpenBatch:
    """Check the request, open the input and the outputs; nothing is read or written yet."""
    outputs = [output] + ([errors] if errors else [])
    for path in outputs:
        output_format(path)
        if path.resolve() == input_path.resolve():
            raise InvalidInput(f"{path} is the input file; write elsewhere", field="output")
    if request.crs is not None:
        resolve_crs(request.crs)
    source = open_source(
        input_path,
        crs=request.crs,
        wkt_column=request.wkt_column,
        separator=request.separator,
        decimal=request.decimal,
        encoding=request.encoding,
    )
    mapping: TemplateMap | None = None
    if request.template_map:
        mapping = load_template_map(request.template_map)
        if mapping.default is None and request.template is not None:
            mapping = TemplateMap(
                mapping.column,
                mapping.templates,
                request.template,
                mapping.width_from,
                mapping.source,
            )
    rule = WidthRule.parse(request.width_from) if request.width_from else None
    if rule is None and mapping is not None:
        rule = mapping.width_from
    template = request.template or settings.estimate.default_template
    references = [template]
    if mapping is not None:
        references += list(mapping.templates.values())
        references += [mapping.default] if mapping.default else []
    every = "template" in source.columns
    wkt = source.geometry_column if source.kind == "csv" else None
    options = BatchOptions(
        estimate=EstimateOptions(
            template=template,
            catalog=request.catalog or settings.estimate.default_catalog,
            width_m=request.width_m,
            dissolve=request.dissolve,
            project_items=request.project_items,
            overrides=haul_overrides(request.haul_km),
        ),
        template_map=mapping,
        width_from=rule,
        max_vertices=settings.limits.max_vertices,
        workers=request.workers,
        want_geometry=needs_geometry(outputs, wkt),
    )
    catalog = priced_catalog(
        resolve_catalog(repository, options.estimate.catalog), options.estimate.overrides.haul_km
    )

    def resolve(reference: str) -> Template:
        return resolve_templates(repository, [reference])[reference]

    codes = item_codes(repository, references, every)
    runner = BatchRunner(source, options, catalog, resolve, codes)
    sinks: list[Sink] = [open_sink(output, wkt)]
    if errors is not None:
        sinks.append(open_sink(errors, wkt, errors_only=True))
    return OpenBatch(runner, sinks)


def summary_dict(summary: BatchSummary) -> dict[str, Any]:
    """The batch's outcome as JSON: row counts, first errors, the BoM totals and lines."""
    bill = summary.bill
    out: dict[str, Any] = {
        "rows": summary.rows,
        "succeeded": summary.succeeded,
        "failed": summary.failed,
        "first_errors": summary.first_errors,
    }
    if bill is not None:
        out.update(
            {
                "currency": bill.currency,
                "catalog": bill.catalog.to_dict(),
                "templates": [ref.to_dict() for ref in bill.templates],
                "totals": {
                    key: money_number(value) if not isinstance(value, float) else value
                    for key, value in vars(bill.totals).items()
                }
                | {
                    "rounded_total": money_number(
                        rounded_total(bill.totals.total, bill.rounding_unit)
                    )
                },
                "divisions": [division.to_dict() for division in bill.divisions],
                "items": [line.to_dict() for line in bill.items],
            }
        )
        if summary.catalog is not None:
            view = material_view(bill.items, summary.templates, summary.catalog)
            out["materials"] = view.to_list()
    return out
