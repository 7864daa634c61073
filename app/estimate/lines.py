"""Aggregated bill lines priced on their stated quantities.

An aggregated line states round(sum of its features' unrounded quantities) with its unit's
decimals, and its amount is round(stated quantity x rate), once (`app.estimate.money`), as a
DKH rounds the volume back-up once; shared by an estimate's bill, a batch's and the project
items.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.estimate.bom import BomLine, MeasuredLine
from app.estimate.catalogs import RateCatalog
from app.estimate.money import line_amount
from app.estimate.units import stated_quantities


def priced_lines(measured: Iterable[MeasuredLine], catalog: RateCatalog) -> tuple[BomLine, ...]:
    """Aggregated lines priced on their stated quantities, in the order given; a line
    stating zero is left out."""
    measured = list(measured)
    items = [catalog.items[line.code] for line in measured]
    quantities = stated_quantities(
        [line.quantity for line in measured], [item.unit for item in items]
    )
    return tuple(
        BomLine(
            code=line.code,
            description=item.description,
            unit=item.unit,
            quantity=float(quantity),
            unit_rate=line.unit_rate,
            amount=line_amount(quantity, line.unit_rate, catalog.currency_exponent),
            division=item.division,
            pay_item=item.pay_item,
        )
        for line, item, quantity in zip(measured, items, quantities, strict=True)
        if quantity != 0
    )
