"""The rekapitulasi of a bill: its amount per Divisi, as a DKH sums it before PPN.

Each line goes to the division its catalog item names; the division amounts are plain sums
of the lines' rounded amounts, so they add up to the subtotal exactly. Divisions come in
their number order (1 Umum first, SMKK after 10). A catalog version saved before items
carried divisions places none: its lines are summed under one unplaced group (division None)
so the rekapitulasi still adds up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.estimate.catalogs import RateCatalog
from app.estimate.localized import LocalizedText

UNPLACED = LocalizedText(en="Not placed in a division", id="Belum ditempatkan dalam divisi")


@dataclass(frozen=True)
class DivisionAmount:
    """One row of the rekapitulasi: a division, its name and the sum of its lines."""

    division: str | None
    name: LocalizedText
    amount: Decimal

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; money as a string."""
        return {
            "division": self.division,
            "name": self.name.to_dict(),
            "amount": format(self.amount, "f"),
        }


def division_amounts(
    lines: Iterable[tuple[str, Decimal]], catalog: RateCatalog
) -> tuple[DivisionAmount, ...]:
    """Sum bill lines `(item code, amount)` per division of `catalog`, in division order.

    Raises `KeyError` naming a code the catalog does not price (a line from another catalog).
    """
    sums: dict[str | None, Decimal] = {}
    for code, amount in lines:
        if code not in catalog.items:
            raise KeyError(f"bill line {code!r} is not an item of catalog {catalog.slug}")
        division = catalog.items[code].division
        sums[division] = sums.get(division, Decimal(0)) + amount
    order = sorted(sums, key=lambda division: (division is None, int(division or 0)))
    return tuple(
        DivisionAmount(
            division=division,
            name=UNPLACED if division is None else catalog.divisions[division],
            amount=sums[division],
        )
        for division in order
    )
