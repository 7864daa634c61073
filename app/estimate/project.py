"""Project items: the lines an estimate carries once, however many roads it prices.

An RAB is a package: mobilisasi, the project sign board, traffic management and safety, and
the SMKK cost (its own division, as Permen PUPR 8/2023 structures it) are paid once for the
whole works, never per road feature. They come from the catalog (items in `Ls`, or with a
`project_quantity`) at quantity 1 Ls each unless the catalog fixes another. A segment that
joins a larger package leaves them out (a request's `project_items=false` is `include=False`),
since the package already has them.

They join a bill's aggregated lines before its divisions and totals are summed, and no
feature's lines: a single estimate adds them to its bill (`price_features(...,
project_items=True)`), a batch to the bill of the whole file.
"""

from __future__ import annotations

from app.estimate.bom import BomLine, MeasuredLine
from app.estimate.catalogs import RateCatalog
from app.estimate.lines import priced_lines
from app.memo import once_per


def project_lines(catalog: RateCatalog, *, include: bool = True) -> tuple[BomLine, ...]:
    """The catalog's project items as priced lines, in catalog order (none if not `include`);
    priced once per catalog object."""
    if not include:
        return ()
    return once_per(
        (catalog,),
        "project lines",
        lambda: priced_lines(
            (
                MeasuredLine(code, item.rate, item.project_quantity or 1.0)
                for code, item in catalog.items.items()
                if item.is_project_item
            ),
            catalog,
        ),
    )


def bill_lines(
    measured: tuple[MeasuredLine, ...], catalog: RateCatalog, *, project_items: bool
) -> tuple[BomLine, ...]:
    """A bill's aggregated lines: the `measured` ones priced and, with `project_items`, the
    catalog's project items among them, all in line order (catalog order, then rate). A bill
    that prices no road (every row of a batch failed) gets none: there is no works to
    mobilise."""
    lines = priced_lines(measured, catalog)
    added = project_lines(catalog, include=project_items and bool(measured))
    if not added:
        return lines
    order = catalog.line_order()
    return tuple(sorted((*lines, *added), key=lambda line: order((line.code, line.unit_rate))))
