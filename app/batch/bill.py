"""A bill of materials across chunks, priced once on the aggregated quantities.

Each chunk is priced by the engine (`price_bill`), which gives every row its own rounded
lines. The bill of the whole batch must not be the sum of per-chunk rounded amounts: like the
engine's own aggregated lines, each line is round(sum of quantities x rate), then subtotal,
overhead & profit and tax follow as in `app.estimate.pricing`. `BillAccumulator` keeps the
quantities per (item code, unit rate) and prices them at the end, lines in the catalog's item
order and templates by name, so neither depends on the order of the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from app.estimate.bom import BillOfMaterials, BomLine, FeatureColumns, Totals, VersionRef
from app.estimate.catalogs import RateCatalog
from app.estimate.money import line_amount, percent_of
from app.estimate.overrides import Overrides
from app.estimate.pricing import bill_percentages


@dataclass
class BillAccumulator:
    """Quantities of every chunk's bill, summed per line; `bill()` prices them once.

    The percentages are the batch's own (the request's, else the catalog's): the engine
    never prices a row that asks for others, so every chunk's bill has them.
    """

    catalog: RateCatalog
    overrides: Overrides | None = None
    quantities: dict[tuple[str, Decimal], float] = field(default_factory=dict)
    templates: dict[str, VersionRef] = field(default_factory=dict)
    length_m: float = 0.0
    area_m2: float = 0.0

    def add(self, bill: BillOfMaterials) -> None:
        """Add one chunk's aggregated lines."""
        for line in bill.items:
            key = (line.code, line.unit_rate)
            self.quantities[key] = self.quantities.get(key, 0.0) + line.quantity
        for ref in bill.templates:
            self.templates.setdefault(f"{ref.slug}@{ref.version}", ref)
        self.length_m += bill.totals.length_m
        self.area_m2 += bill.totals.area_m2

    def bill(self) -> BillOfMaterials:
        """The batch's bill: lines, totals and markups; no per-feature columns."""
        catalog = self.catalog
        exponent = catalog.currency_exponent
        op_pct, vat_pct = bill_percentages(catalog, self.overrides)
        order = {code: index for index, code in enumerate(catalog.items)}
        items = tuple(
            BomLine(
                code=code,
                description=catalog.items[code].description,
                unit=catalog.items[code].unit,
                quantity=quantity,
                unit_rate=rate,
                amount=line_amount(quantity, rate, exponent),
                division=catalog.items[code].division,
                pay_item=catalog.items[code].pay_item,
            )
            for (code, rate), quantity in sorted(
                self.quantities.items(), key=lambda entry: (order[entry[0][0]], entry[0][1])
            )
        )
        subtotal = sum((line.amount for line in items), start=Decimal(0))
        overhead_profit = percent_of(subtotal, op_pct, exponent)
        tax = percent_of(subtotal + overhead_profit, vat_pct, exponent)
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
            totals=Totals(
                length_m=self.length_m,
                area_m2=self.area_m2,
                subtotal=subtotal,
                overhead_profit=overhead_profit,
                tax=tax,
                total=subtotal + overhead_profit + tax,
            ),
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
        )
