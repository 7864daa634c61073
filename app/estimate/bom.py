"""The bill of materials: aggregated priced lines, totals, and every feature's own lines.

Aggregated lines merge all features priced with the same item code at the same unit rate
(a rate override makes a separate line). Per-feature lines and totals are kept as columns
(integer minor units, float quantities) so a million features cost arrays, not objects;
`feature_lines` and `to_dict` turn them into `Decimal`s on demand (and `app.io.rows` into
columns).

Amounts an auditor can check: every line states its quantity as a bill does (2 decimals for
m3, t, m2, m and L; whole kg, pieces and Ls: `app.estimate.units.quantity_decimals`) and its
amount is that stated quantity x unit rate, rounded once. An aggregated line states the sum
of its features' unrounded quantities, rounded once (as a DKH states the total of a volume
back-up), so it may differ from the sum of the features' stated quantities by a few units of
the last decimal. The unrounded sums are kept (`measured`) so a batch adds chunks up before
rounding, as one estimate of all rows would. A line whose stated quantity is zero (a
longitudinal joint on a one-slab road) is no line of the bill.

A feature's totals are computed from its own rounded lines, so the sum of per-feature totals
may differ from the aggregated totals by rounding (a few minor units per line and feature).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from app.estimate.divisions import DivisionAmount
from app.estimate.localized import LocalizedText
from app.estimate.money import from_minor, percent_of

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]
MinorArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class VersionRef:
    """Which template or catalog, and which stored version of it (None: not stored)."""

    slug: str
    version: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"slug": self.slug, "version": self.version}


@dataclass(frozen=True)
class BomLine:
    """One priced line: quantity as the bill states it, amount = quantity x unit rate rounded
    once to the minor unit; `division` and `pay_item` place it in a DKH (None where the
    catalog does not)."""

    code: str
    description: LocalizedText
    unit: str
    quantity: float
    unit_rate: Decimal
    amount: Decimal
    division: str | None = None
    pay_item: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; money as strings so no float touches it."""
        return {
            "code": self.code,
            "description": self.description.to_dict(),
            "unit": self.unit,
            "quantity": self.quantity,
            "unit_rate": format(self.unit_rate, "f"),
            "amount": format(self.amount, "f"),
            "division": self.division,
            "pay_item": self.pay_item,
        }


@dataclass(frozen=True)
class MeasuredLine:
    """An aggregated line's unrounded quantity: what a batch adds up across chunks."""

    code: str
    unit_rate: Decimal
    quantity: float


@dataclass(frozen=True)
class Totals:
    """Length and surface area measured, and the money: total = subtotal + O&P + tax."""

    length_m: float
    area_m2: float
    subtotal: Decimal
    overhead_profit: Decimal
    tax: Decimal
    total: Decimal

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; money as strings."""
        return {
            "length_m": self.length_m,
            "area_m2": self.area_m2,
            "subtotal": format(self.subtotal, "f"),
            "overhead_profit": format(self.overhead_profit, "f"),
            "tax": format(self.tax, "f"),
            "total": format(self.total, "f"),
        }


@dataclass(frozen=True)
class TemplateBlock:
    """Per-feature lines of the features priced with one template (ascending feature order).

    Item j is `codes[j]`; of feature `features[k]`, `quantities[j, k]` is its unrounded
    quantity, `stated[j, k]` the quantity its line states and `amounts[j, k]` (minor units)
    its amount; `lines[j, group[k]]` is the aggregated line it belongs to (`group` None: one
    group; -1: no line, every feature's quantity being zero).
    """

    features: IndexArray
    group: IndexArray | None
    codes: tuple[str, ...]
    lines: IndexArray
    quantities: FloatArray
    stated: FloatArray
    amounts: MinorArray

    def line_index(self, position: int) -> IndexArray:
        """Aggregated line of each item for the feature at `position` in this block."""
        return self.lines[:, 0 if self.group is None else self.group[position]]


@dataclass(frozen=True)
class FeatureColumns:
    """Per-feature measures and totals (money in integer minor units), in input order."""

    template: IndexArray
    length_m: FloatArray
    width_m: FloatArray
    area_m2: FloatArray
    subtotal: MinorArray
    overhead_profit: MinorArray
    tax: MinorArray
    total: MinorArray


@dataclass(frozen=True)
class BillOfMaterials:
    """A priced bill: aggregated `items`, their sums per Divisi (`divisions`) and `totals`,
    plus per-feature results on demand. `vat_label` names the tax line as the catalog does;
    `rounding_unit` is what the grand total is rounded down to (None: not rounded)."""

    currency: str
    currency_exponent: int
    catalog: VersionRef
    templates: tuple[VersionRef, ...]
    overhead_profit_pct: Decimal
    vat_pct: Decimal
    items: tuple[BomLine, ...]
    totals: Totals
    blocks: tuple[TemplateBlock, ...]
    features: FeatureColumns
    measured: tuple[MeasuredLine, ...]
    divisions: tuple[DivisionAmount, ...]
    vat_label: LocalizedText | None
    rounding_unit: Decimal | None

    def __len__(self) -> int:
        return int(self.features.length_m.size)

    def _money(self, minor: int) -> Decimal:
        return from_minor(int(minor), self.currency_exponent)

    def _locate(self, index: int) -> tuple[TemplateBlock, int]:
        block = self.blocks[self.features.template[index]]
        return block, int(np.searchsorted(block.features, index))

    def feature_lines(self, index: int) -> tuple[BomLine, ...]:
        """Feature `index`'s own lines, in the bill's (catalog) order."""
        block, position = self._locate(index)
        return tuple(
            BomLine(
                code=self.items[line].code,
                description=self.items[line].description,
                unit=self.items[line].unit,
                quantity=float(block.stated[j, position]),
                unit_rate=self.items[line].unit_rate,
                amount=self._money(block.amounts[j, position]),
                division=self.items[line].division,
                pay_item=self.items[line].pay_item,
            )
            for j, line in self._stated_lines(block, position)
        )

    @staticmethod
    def _stated_lines(block: TemplateBlock, position: int) -> list[tuple[int, int]]:
        """(item, aggregated line) of a feature's lines with a quantity, in the bill's order."""
        return sorted(
            (
                (j, line)
                for j, line in enumerate(block.line_index(position).tolist())
                if block.stated[j, position] > 0
            ),
            key=lambda pair: pair[1],
        )

    def feature_totals(self, index: int) -> Totals:
        """Feature `index`'s totals, from its own rounded lines."""
        columns = self.features
        return Totals(
            length_m=float(columns.length_m[index]),
            area_m2=float(columns.area_m2[index]),
            subtotal=self._money(columns.subtotal[index]),
            overhead_profit=self._money(columns.overhead_profit[index]),
            tax=self._money(columns.tax[index]),
            total=self._money(columns.total[index]),
        )

    def to_dict(self, *, features: bool = True) -> dict[str, Any]:
        """JSON-ready form, identical for identical input; `features=False` leaves them out."""
        out: dict[str, Any] = {
            "currency": self.currency,
            "currency_exponent": self.currency_exponent,
            "catalog": self.catalog.to_dict(),
            "templates": [template.to_dict() for template in self.templates],
            "overhead_profit_pct": format(self.overhead_profit_pct, "f"),
            "vat_pct": format(self.vat_pct, "f"),
            "vat_label": None if self.vat_label is None else self.vat_label.to_dict(),
            "totals": self.totals.to_dict(),
            "divisions": [division.to_dict() for division in self.divisions],
            "items": [line.to_dict() for line in self.items],
        }
        if features:
            out["features"] = [
                self._feature_dict(index, out["items"]) for index in range(len(self))
            ]
        return out

    def _feature_dict(self, index: int, heads: list[dict[str, Any]]) -> dict[str, Any]:
        """`to_dict` of one feature; its lines reuse the aggregated lines' dicts (same code,
        description, unit and rate) with the feature's own quantity and amount."""
        return {
            "index": index,
            "template": self.templates[self.features.template[index]].slug,
            "width_m": float(self.features.width_m[index]),
            "totals": self.feature_totals(index).to_dict(),
            "items": self.feature_line_dicts(index, heads),
        }

    def feature_line_dicts(self, index: int, heads: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Feature `index`'s lines in JSON form: each the dict of its aggregated line in
        `heads` (the `to_dict` of `items`, and what was added to it), with the feature's own
        quantity and amount; `feature_lines` as dicts, without making lines first."""
        block, position = self._locate(index)
        return [
            {
                **heads[line],
                "quantity": float(block.stated[j, position]),
                "amount": format(self._money(block.amounts[j, position]), "f"),
            }
            for j, line in self._stated_lines(block, position)
        ]

    def to_json(self, *, features: bool = True) -> str:
        """`to_dict` as compact JSON text (UTF-8 safe, byte-identical for identical input)."""
        return json.dumps(
            self.to_dict(features=features), ensure_ascii=False, separators=(",", ":")
        )


def bill_totals(
    items: tuple[BomLine, ...],
    overhead_profit_pct: Decimal,
    vat_pct: Decimal,
    exponent: int,
    length_m: float,
    area_m2: float,
) -> Totals:
    """A bill's totals from its lines: subtotal = sum of line amounts, O&P = round(subtotal x
    O&P%), tax = round((subtotal + O&P) x VAT%), total = their sum."""
    subtotal = sum((line.amount for line in items), start=Decimal(0))
    overhead_profit = percent_of(subtotal, overhead_profit_pct, exponent)
    tax = percent_of(subtotal + overhead_profit, vat_pct, exponent)
    return Totals(
        length_m=length_m,
        area_m2=area_m2,
        subtotal=subtotal,
        overhead_profit=overhead_profit,
        tax=tax,
        total=subtotal + overhead_profit + tax,
    )


def _snake(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def quantity_column(code: str, unit: str) -> str:
    """Flat column of an item's quantity, unit in the name: `AC-WC`, `t` -> `ac_wc_t`."""
    return f"{_snake(code)}_{_snake(unit)}"


def amount_column(code: str) -> str:
    """Flat column of an item's amount: `AC-WC` -> `ac_wc_amount`."""
    return f"{_snake(code)}_amount"


def haul_columns(code: str) -> tuple[str, str]:
    """Flat columns of the haul distance L a hauled item was priced at and where L came
    from: `AC-WC` -> `ac_wc_haul_km`, `ac_wc_haul_from`."""
    return f"{_snake(code)}_haul_km", f"{_snake(code)}_haul_from"
