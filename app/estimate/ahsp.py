"""AHSP analyses: a unit price (HSP) computed from basic prices (HSD) and coefficients.

The structure is that of the Bina Marga and Permen PUPR 8/2023 analysis sheets: per pay item,
labour (A. Tenaga), materials (B. Bahan) and equipment (C. Peralatan) lines, each a
coefficient x a basic price; D = A + B + C; overhead & profit E = D x pct; HSP = D + E,
rounded as the sheet says. The loss factor Fh sits inside a material's coefficient. A
dump-truck line takes its coefficient from the average haul distance L from base camp (AMP,
stockpile, batching plant) to site, with the sheets' formulas:

    Ts = T1 (load) + (L / v1) x 60 + (L / v2) x 60 + T4 (unload and wait)     minutes
    Q  = V x Fa x 60 / (Ts x carried per pay unit)                             pay units / hour
    coefficient = 1 / Q                                                        hours / pay unit

as the Bina Marga sheets write them for a dump truck (e.g. Analisa Harga Dasar Satuan Bahan
M01a, E09: "Waktu tempuh isi = (L : v1) x 60", "Kap. Prod. / jam = V x Fa x 60 / (Ts2 x Bil)",
"Koefisien Alat = 1 : Q2"), so the same road costs more the further it is from the plant.
Everything is `Decimal`, computed at 50 significant digits; only the HSP is rounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from app.estimate.provenance import SourceText
from app.estimate.units import canonical_unit

_PRECISION = Context(prec=50, rounding=ROUND_HALF_UP)

Positive = Annotated[Decimal, Field(gt=0, max_digits=30, allow_inf_nan=False)]
Fraction = Annotated[Decimal, Field(gt=0, le=1, max_digits=12, allow_inf_nan=False)]
Minutes = Annotated[Decimal, Field(ge=0, max_digits=12, allow_inf_nan=False)]
LossFactor = Annotated[Decimal, Field(ge=1, lt=2, max_digits=12, allow_inf_nan=False)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=9, allow_inf_nan=False)]
MAX_HAUL_KM = 1000
"""The longest average haul distance L (km) a request may set."""
HaulKm = Annotated[Decimal, Field(ge=0, le=MAX_HAUL_KM, max_digits=12, allow_inf_nan=False)]
"""An average haul distance L in km: 0 (plant on site) to 1000."""
PriceCode = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/()-]*$", max_length=60)
]
"""A basic price's code as the price list writes it: "L.01", "M.10", "E08", "1.1.2.03"."""
LineKind = Literal["labour", "material", "equipment"]
KINDS: tuple[LineKind, ...] = ("labour", "material", "equipment")


class BasicPrice(BaseModel):
    """A basic price (HSD): labour per OH or hour, a material per unit, equipment per hour."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: Annotated[str, StringConstraints(min_length=1)]
    unit: Annotated[str, StringConstraints(min_length=1)]
    price: Positive
    source: SourceText

    @field_validator("unit")
    @classmethod
    def _canonical(cls, unit: str) -> str:
        return canonical_unit(unit)


class Haul(BaseModel):
    """A dump truck (or truck mixer) carrying the item's material from base camp to site.

    `capacity` V is in the unit carried (t, or m3 loose); `carried_per_unit` converts one pay
    unit into it (1 for hot mix paid and carried by the tonne; the compacted density for
    aggregate paid per m3 compacted and carried by the tonne).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    capacity: Positive
    efficiency: Fraction
    loaded_kmh: Positive
    empty_kmh: Positive
    load_min: Minutes
    unload_min: Minutes
    carried_per_unit: Positive = Decimal(1)

    def cycle_min(self, haul_km: Decimal) -> Decimal:
        """Ts = T1 + (L / v1) x 60 + (L / v2) x 60 + T4, in minutes."""
        with localcontext(_PRECISION):
            travel = haul_km / self.loaded_kmh * 60 + haul_km / self.empty_kmh * 60
            return self.load_min + travel + self.unload_min

    def per_hour(self, haul_km: Decimal) -> Decimal:
        """Q = V x Fa x 60 / (Ts x carried per pay unit): pay units delivered per hour."""
        with localcontext(_PRECISION):
            return (
                self.capacity
                * self.efficiency
                * 60
                / (self.cycle_min(haul_km) * self.carried_per_unit)
            )

    def coefficient(self, haul_km: Decimal) -> Decimal:
        """Truck hours per pay unit, 1 / Q."""
        with localcontext(_PRECISION):
            return 1 / self.per_hour(haul_km)


class AnalysisLine(BaseModel):
    """One line of an analysis: a basic price times a coefficient.

    A material line may state its loss factor Fh apart (coefficient x Fh is what the sheet
    prices); an equipment line has a fixed coefficient (1 / its productivity per hour) or a
    `haul` whose coefficient follows from L.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: LineKind
    price: PriceCode
    coefficient: Positive | None = None
    loss_factor: LossFactor | None = None
    haul: Haul | None = None
    source: SourceText

    @model_validator(mode="after")
    def _one_coefficient(self) -> AnalysisLine:
        if (self.coefficient is None) == (self.haul is None):
            raise ValueError("a line has either a coefficient or a haul, not both or neither")
        if self.haul is not None and self.kind != "equipment":
            raise ValueError("only an equipment line (a dump truck) has a haul")
        if self.loss_factor is not None and self.kind != "material":
            raise ValueError("only a material line has a loss factor Fh")
        return self


class Analysis(BaseModel):
    """The analysis of one pay item; its HSP includes `overhead_profit_pct` of D."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lines: tuple[AnalysisLine, ...] = Field(min_length=1)
    overhead_profit_pct: Percent
    source: SourceText

    @property
    def hauled(self) -> bool:
        """Whether L changes this item's HSP."""
        return any(line.haul is not None for line in self.lines)


@dataclass(frozen=True)
class CostedLine:
    """A line priced: coefficient (Fh and haul applied) x basic price = amount, unrounded."""

    kind: LineKind
    price_code: str
    description: str
    unit: str
    coefficient: Decimal
    price: Decimal
    amount: Decimal
    loss_factor: Decimal | None
    cycle_min: Decimal | None


@dataclass(frozen=True)
class Costing:
    """An analysis worked out: its lines, A/B/C totals, D, E and the rounded HSP."""

    lines: tuple[CostedLine, ...]
    totals: dict[LineKind, Decimal]
    direct: Decimal
    overhead_profit_pct: Decimal
    overhead_profit: Decimal
    unrounded: Decimal
    hsp: Decimal
    haul_km: Decimal | None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (numbers as strings, so no float touches them)."""

        def text(value: Decimal) -> str:
            return format(value.normalize(), "f")

        return {
            "haul_km": None if self.haul_km is None else text(self.haul_km),
            "lines": [
                {
                    "kind": line.kind,
                    "price": line.price_code,
                    "description": line.description,
                    "unit": line.unit,
                    "coefficient": text(line.coefficient),
                    **({} if line.loss_factor is None else {"loss_factor": text(line.loss_factor)}),
                    **({} if line.cycle_min is None else {"cycle_min": text(line.cycle_min)}),
                    "basic_price": text(line.price),
                    "amount": text(line.amount),
                }
                for line in self.lines
            ],
            **{kind: text(total) for kind, total in self.totals.items()},
            "direct_cost": text(self.direct),
            "overhead_profit_pct": text(self.overhead_profit_pct),
            "overhead_profit": text(self.overhead_profit),
            "hsp": text(self.hsp),
        }


def missing_prices(analysis: Analysis, prices: Mapping[str, BasicPrice]) -> list[str]:
    """Basic price codes the analysis names and `prices` lacks."""
    return [line.price for line in analysis.lines if line.price not in prices]


def cost(
    analysis: Analysis,
    prices: Mapping[str, BasicPrice],
    *,
    haul_km: Decimal | None,
    rounding: Decimal,
) -> Costing:
    """Work out an analysis: every line, D, overhead & profit, and the HSP rounded half up to
    a whole number of `rounding` (1: whole rupiah; 100: hundreds).

    `haul_km` is L; it must be given when the analysis hauls. Call `missing_prices` first.
    """
    if analysis.hauled and haul_km is None:
        raise ValueError("this analysis hauls material: it needs the haul distance L")
    used = haul_km if analysis.hauled else None
    with localcontext(_PRECISION):
        lines = []
        for line in analysis.lines:
            basic = prices[line.price]
            cycle = None
            if line.haul is not None:
                assert used is not None
                coefficient = line.haul.coefficient(used)
                cycle = line.haul.cycle_min(used)
            else:
                assert line.coefficient is not None
                coefficient = line.coefficient * (line.loss_factor or 1)
            lines.append(
                CostedLine(
                    kind=line.kind,
                    price_code=line.price,
                    description=basic.description,
                    unit=basic.unit,
                    coefficient=coefficient,
                    price=basic.price,
                    amount=coefficient * basic.price,
                    loss_factor=line.loss_factor,
                    cycle_min=cycle,
                )
            )
        totals = {
            kind: sum((line.amount for line in lines if line.kind == kind), Decimal(0))
            for kind in KINDS
        }
        direct = sum(totals.values(), Decimal(0))
        overhead_profit = direct * analysis.overhead_profit_pct / 100
        unrounded = direct + overhead_profit
        hsp = (unrounded / rounding).quantize(Decimal(1)) * rounding
    return Costing(
        lines=tuple(lines),
        totals=totals,
        direct=direct,
        overhead_profit_pct=analysis.overhead_profit_pct,
        overhead_profit=overhead_profit,
        unrounded=unrounded,
        hsp=hsp,
        haul_km=used,
    )
