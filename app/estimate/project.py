"""Project items: the lines an estimate carries once, however many roads it prices.

An RAB is a package: mobilisasi, the project sign board, traffic management and safety, and
the SMKK cost (its own division, as Permen PUPR 8/2023 structures it) are paid once for the
whole works, never per road feature. They come from the catalog (items in `Ls`, or with a
`project_quantity`) at quantity 1 Ls each unless the catalog fixes another. A segment that
joins a larger package leaves them out (a request's `project_items=false` is `include=False`),
since the package already has them.
"""

from __future__ import annotations

from app.estimate.bom import BomLine
from app.estimate.catalogs import RateCatalog
from app.estimate.money import line_amount


def project_lines(catalog: RateCatalog, *, include: bool = True) -> tuple[BomLine, ...]:
    """The catalog's project items as priced lines, in catalog order (none if not `include`)."""
    if not include:
        return ()
    return tuple(
        BomLine(
            code=code,
            description=item.description,
            unit=item.unit,
            quantity=quantity,
            unit_rate=item.rate,
            amount=line_amount(quantity, item.rate, catalog.currency_exponent),
            division=item.division,
            pay_item=item.pay_item,
        )
        for code, item in catalog.items.items()
        if item.is_project_item
        for quantity in [item.project_quantity or 1.0]
    )
