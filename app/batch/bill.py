"""A bill of materials across chunks, priced once on the aggregated quantities.

Each chunk is priced by the engine (`price_features`), which gives every row its own rounded
lines. The bill of the whole batch must not be the sum of per-chunk rounded figures: like the
engine's own aggregated lines, each line states round(sum of its rows' unrounded quantities)
and its amount is round(stated quantity x rate), then subtotal, overhead & profit and tax
follow as in `app.estimate.pricing`, and the project items join once for the whole file
(`app.estimate.project`). `BillAccumulator` keeps the unrounded quantities per (item code,
unit rate) and prices them at the end, lines in the catalog's item order and templates by
name, so neither depends on the order of the rows, and a batch of one row bills exactly what
a single estimate of it does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from app.estimate.bom import BillOfMaterials, FeatureColumns, MeasuredLine, VersionRef, bill_totals
from app.estimate.catalogs import RateCatalog
from app.estimate.divisions import division_amounts
from app.estimate.overrides import Overrides
from app.estimate.pricing import bill_percentages
from app.estimate.project import bill_lines


@dataclass
class BillAccumulator:
    """Unrounded quantities of every chunk's bill, summed per line; `bill()` prices them once.

    The percentages are the batch's own (the request's, else the catalog's): the engine
    never prices a row that asks for others, so every chunk's bill has them.
    `project_items` False leaves the catalog's project items out of the batch's bill.
    """

    catalog: RateCatalog
    overrides: Overrides | None = None
    project_items: bool = True
    quantities: dict[tuple[str, Decimal], float] = field(default_factory=dict)
    templates: dict[str, VersionRef] = field(default_factory=dict)
    length_m: float = 0.0
    area_m2: float = 0.0

    def add(self, bill: BillOfMaterials) -> None:
        """Add one chunk's aggregated lines (their unrounded quantities)."""
        for line in bill.measured:
            key = (line.code, line.unit_rate)
            self.quantities[key] = self.quantities.get(key, 0.0) + line.quantity
        for ref in bill.templates:
            self.templates.setdefault(f"{ref.slug}@{ref.version}", ref)
        self.length_m += bill.totals.length_m
        self.area_m2 += bill.totals.area_m2

    def bill(self) -> BillOfMaterials:
        """The batch's bill: lines, divisions, totals and markups; no per-feature columns."""
        catalog = self.catalog
        exponent = catalog.currency_exponent
        op_pct, vat_pct = bill_percentages(catalog, self.overrides)
        order = catalog.line_order()
        measured = tuple(
            MeasuredLine(code, rate, quantity)
            for (code, rate), quantity in sorted(
                self.quantities.items(), key=lambda entry: order(entry[0])
            )
        )
        items = bill_lines(measured, catalog, project_items=self.project_items)
        empty = np.empty(0)
        no_money = np.empty(0, dtype=np.int64)
        return BillOfMaterials(
            currency=catalog.currency,
            currency_exponent=exponent,
            catalog=VersionRef(catalog.slug, catalog.version),
            templates=tuple(self.templates[key] for key in sorted(self.templates)),
            overhead_profit_pct=op_pct,
            vat_pct=vat_pct,
            items=items,
            totals=bill_totals(items, op_pct, vat_pct, exponent, self.length_m, self.area_m2),
            blocks=(),
            features=FeatureColumns(
                template=np.empty(0, dtype=np.intp),
                length_m=empty,
                width_m=empty,
                area_m2=empty,
                subtotal=no_money,
                overhead_profit=no_money,
                tax=no_money,
                total=no_money,
            ),
            measured=measured,
            divisions=division_amounts(((line.code, line.amount) for line in items), catalog),
            vat_label=catalog.vat_label,
            rounding_unit=catalog.rounding_unit,
        )
