"""Delivered against planned: each material's delivery tickets beside its order quantity.

The plan is the material view of the saved estimate (`order_quantity`: the net pay quantity
plus the material loss). A ticket that a later one `supersedes` no longer counts: nothing is
edited in place. difference = delivered - planned, difference % = difference / planned x 100;
within the catalog's stated tolerance either way a material is "ok", below it "short", above
it "over". For a material paid by mass, the yield is delivered tonnes over the design tonnes
(area x thickness x density: the net pay quantity).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.errors import InvalidInput
from app.estimate.site_records import read_records

"""Tickets one request records."""


class Ticket(BaseModel):
    """One delivery ticket as sent; `supersedes` is the id of the ticket it corrects."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ticket: str = Field(min_length=1, max_length=100)
    date: date
    material: str = Field(min_length=1, max_length=40)
    quantity: float = Field(ge=0, allow_inf_nan=False)
    unit: str = Field(min_length=1, max_length=10)
    feature: int | None = Field(default=None, ge=0)
    supersedes: int | None = Field(default=None, ge=1)


@dataclass(frozen=True)
class StoredTicket:
    """A recorded ticket: who sent it and when."""

    id: int
    ticket: str
    delivered_on: date
    material: str
    quantity: float
    unit: str
    feature: int | None
    supersedes: int | None
    owner: str | None


def read_tickets(body: Any, planned: Sequence[Mapping[str, Any]], features: int) -> list[Ticket]:
    """Tickets from `{"deliveries": [...]}` (or a bare list), each checked against the
    estimate's materials, units and features; a problem names the ticket's index."""
    units = {line["material"]: line["unit"] for line in planned}

    def check(ticket: Ticket, index: int) -> None:
        if ticket.material not in units:
            raise InvalidInput(
                f"the estimate has no material {ticket.material}; its materials: "
                f"{', '.join(units) or 'none'}",
                row=index,
                field="material",
            )
        if ticket.unit != units[ticket.material]:
            raise InvalidInput(
                f"{ticket.material} is planned in {units[ticket.material]}, not {ticket.unit}",
                row=index,
                field="unit",
            )

    return read_records(
        body,
        key="deliveries",
        model=Ticket,
        names=("ticket", "tickets", "delivery tickets"),
        features=features,
        check=check,
    )


def reconcile(
    planned: Sequence[Mapping[str, Any]], tickets: Sequence[StoredTicket], tolerance_pct: float
) -> dict[str, Any]:
    """The `materials` of the reconciliation, in the plan's order, and warnings in words."""
    superseded = {ticket.supersedes for ticket in tickets if ticket.supersedes is not None}
    delivered: dict[str, float] = {}
    for ticket in tickets:
        if ticket.id not in superseded:
            delivered[ticket.material] = delivered.get(ticket.material, 0.0) + ticket.quantity
    materials, warnings = [], []
    for line in planned:
        plan = float(line["order_quantity"])
        got = delivered.get(line["material"], 0.0)
        difference = got - plan
        pct = difference / plan * 100 if plan else 0.0
        status = "ok" if abs(pct) <= tolerance_pct else ("short" if pct < 0 else "over")
        row = {
            "material": line["material"],
            "unit": line["unit"],
            "planned": plan,
            "delivered": round(got, 3),
            "difference": round(difference, 3),
            "difference_pct": round(pct, 2),
            "status": status,
        }
        net = float(line["net_quantity"])
        if line["unit"] == "t" and net:
            row["yield_pct"] = round(got / net * 100, 2)  # of design area x thickness x density
        materials.append(row)
        if status != "ok":
            warnings.append(
                f"{line['material']}: {abs(pct):.1f} % {status} of the {plan:g} {line['unit']} "
                f"planned (tolerance {tolerance_pct:g} %)"
            )
    return {"tolerance_pct": tolerance_pct, "materials": materials, "warnings": warnings}
