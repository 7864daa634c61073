"""Project items: the lines an estimate carries once, however many roads it prices.

An RAB is a package: mobilisasi, the project sign board, traffic management and safety, and
the SMKK cost (its own division, as Permen PUPR 8/2023 structures it) are paid once for the
whole works, never per road feature. They come from the catalog (items in `Ls`, or with a
`project_quantity`) at quantity 1 Ls each unless the catalog fixes another. A segment that
joins a larger package leaves them out (a request's `project_items=false` is `include=False`),
since the package already has them.

They join a bill's aggregated lines (`items`, its divisions and totals) and no feature's
lines: a single estimate adds them to its bill, a batch to the bill of the whole file.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from app.estimate.bom import BillOfMaterials, BomLine, MeasuredLine, bill_totals
from app.estimate.catalogs import RateCatalog
from app.estimate.divisions import division_amounts
from app.estimate.pricing import priced_lines


def project_lines(catalog: RateCatalog, *, include: bool = True) -> tuple[BomLine, ...]:
    """The catalog's project items as priced lines, in catalog order (none if not `include`)."""
    if not include:
        return ()
    return priced_lines(
        (
            MeasuredLine(code, item.rate, item.project_quantity or 1.0)
            for code, item in catalog.items.items()
            if item.is_project_item
        ),
        catalog,
    )


def with_project_items(
    bill: BillOfMaterials, catalog: RateCatalog, *, include: bool = True
) -> BillOfMaterials:
    """`bill` with the catalog's project items among its lines, in catalog order, and its
    divisions and totals made again; features keep their own lines (None added). A bill that
    prices no road (every row of a batch failed) gets none: there is no works to mobilise."""
    added = project_lines(catalog, include=include and bool(bill.measured))
    if not added:
        return bill
    order = {code: index for index, code in enumerate(catalog.items)}
    merged = sorted(
        [*enumerate(bill.items), *((-1, line) for line in added)],
        key=lambda pair: (order[pair[1].code], pair[1].unit_rate),
    )
    items = tuple(line for _, line in merged)
    renumber = np.full(len(bill.items), -1, dtype=np.intp)
    for number, (old, _) in enumerate(merged):
        if old >= 0:
            renumber[old] = number
    totals = bill.totals
    return replace(
        bill,
        items=items,
        blocks=tuple(
            replace(block, lines=np.where(block.lines >= 0, renumber[block.lines], -1))
            for block in bill.blocks
        ),
        totals=bill_totals(
            items,
            bill.overhead_profit_pct,
            bill.vat_pct,
            bill.currency_exponent,
            totals.length_m,
            totals.area_m2,
        ),
        divisions=division_amounts(((line.code, line.amount) for line in items), catalog),
    )
