"""Rate catalogs: unit prices per item code, with currency, markups and provenance.

Catalogs are versioned data (the store assigns `version`; files on disk have none) because
AHSP unit prices are updated every year and a saved estimate must be reproducible with the
rates it was priced at. Amounts are `Decimal`, written as strings in JSON so no binary float
ever touches money.

A catalog also says how its items stand in a priced bill of quantities (DKH): each item's
Divisi of the Spesifikasi Umum and its pay item number (mata pembayaran), with the names of
the divisions, and which items are project items (lump sums added once per estimate).
Catalog versions saved before these fields existed still load: their items carry none.

A catalog may also hold basic prices (HSD) and AHSP analyses (`app.estimate.ahsp`): an
analysed item's rate is its HSP, computed when the catalog is validated at the catalog's
default haul distance `haul_km`, and again by `priced_catalog` for the L a request gives or
the delivery plan routes (each priced item says which L it took, and from where). Flat rates
and analyses mix freely in one catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from app.errors import UnknownCatalog
from app.estimate.ahsp import Analysis, BasicPrice, Costing, HaulKm, PriceCode, cost, missing_prices
from app.estimate.datafiles import load_directory
from app.estimate.localized import LocalizedText
from app.estimate.money import quantum
from app.estimate.provenance import Sourced, SourceText
from app.estimate.templates import ItemCode, PositiveFinite, Slug, SprayProduct
from app.estimate.units import canonical_unit
from app.memo import once_per

Rate = Annotated[Decimal, Field(gt=0, max_digits=20, allow_inf_nan=False)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=9, allow_inf_nan=False)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]
Division = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]?$")]
"""A Divisi of the Spesifikasi Umum ("1" Umum ... "10"), or a further one a DKH adds (SMKK)."""
PayItem = Annotated[
    str, StringConstraints(pattern=r"^[1-9][0-9]?\.[0-9]{1,2}(\.?\(([0-9]{1,2}[a-z]?|[a-z])\))*$")
]
"""A mata pembayaran number as the specification writes it: "1.2", "5.1.(1)", "6.3.(5a)"."""
HaulOrigin = Literal["request", "network", "straight-line", "catalog"]
"""Where an L came from: the request (query, feature property, command-line option or column),
the delivery plan's route to the nearest source (over the road network or in a straight line
times the detour factor), or the catalog's default."""


@dataclass(frozen=True, order=True)
class HaulLength:
    """An average haul distance L (km) and where it came from."""

    km: Decimal
    origin: HaulOrigin


PROJECT_UNIT = "Ls"
"""Lump sum: the unit of project items (mobilisasi, papan nama, traffic management, SMKK)."""


class RateItem(BaseModel):
    """The price of one item per unit, with where the figure comes from.

    `division` and `pay_item` place the item in a DKH; `pay_item` is an explicit null where
    the specification has no pay item for it, and `pay_item_note` then says so (it cites the
    number otherwise). A litre rate says whether it pays litres of the sprayed `product` or of
    its bitumen residue (`per_litre_of`). Items in `Ls`, or with a `project_quantity`, are
    project items: added once per estimate, never measured from a road.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: NonEmpty
    rate: Rate
    description: LocalizedText
    source: SourceText
    valid_from: date
    region: NonEmpty
    division: Division | None = None
    pay_item: PayItem | None = None
    pay_item_note: SourceText | None = None
    per_litre_of: Literal["product", "residue"] | None = None
    product: SprayProduct | None = None
    project_quantity: PositiveFinite | None = None

    @field_validator("unit")
    @classmethod
    def _canonical(cls, unit: str) -> str:
        return canonical_unit(unit)

    @model_validator(mode="after")
    def _placed_in_the_bill(self) -> RateItem:
        if self.division is None:
            if self.pay_item is not None:
                raise ValueError(f"pay_item {self.pay_item} needs the division it belongs to")
        else:
            if "pay_item" not in self.model_fields_set:
                raise ValueError(
                    "an item with a division states its pay_item (null where the "
                    "specification has none)"
                )
            if self.pay_item_note is None:
                raise ValueError("pay_item_note must cite the pay item or say why there is none")
            if self.pay_item is not None and self.pay_item.split(".")[0] != self.division:
                raise ValueError(f"pay_item {self.pay_item} is not in division {self.division}")
        litre = [name for name in ("per_litre_of", "product") if getattr(self, name) is not None]
        if litre and self.unit != "L":
            raise ValueError(f"{' and '.join(litre)} apply to a rate per litre only")
        if self.unit == "L" and self.division is not None and self.per_litre_of is None:
            raise ValueError("a rate per litre says per_litre_of: product or residue")
        return self

    @property
    def is_project_item(self) -> bool:
        """Added once per estimate (a lump sum, or a quantity the catalog fixes)."""
        return self.unit == PROJECT_UNIT or self.project_quantity is not None


class VehicleClass(Sourced):
    """A class of delivery vehicle and what one load carries: a mass, a volume (loose, for
    bulk material) and/or litres (a tank). Whichever limit a material reaches first binds."""

    name: LocalizedText
    capacity_t: PositiveFinite | None = None
    capacity_m3: PositiveFinite | None = None
    capacity_l: PositiveFinite | None = None

    @model_validator(mode="after")
    def _carries_something(self) -> VehicleClass:
        if not self.capacities():
            raise ValueError("a vehicle states at least one of capacity_t, capacity_m3, capacity_l")
        return self

    def capacities(self) -> dict[str, float]:
        """The stated limits of one load, by unit (t, m3, L)."""
        limits = {"t": self.capacity_t, "m3": self.capacity_m3, "L": self.capacity_l}
        return {unit: value for unit, value in limits.items() if value is not None}

    def sourced_parameters(self) -> set[str]:
        """Every stated capacity is a figure to cite."""
        return {name for name in ("capacity_t", "capacity_m3", "capacity_l") if getattr(self, name)}


class MaterialDelivery(Sourced):
    """How the pay quantity of one item becomes material on a truck.

    `density_t_m3` is the mass per m3 of the pay volume (compacted, in place);
    `loose_factor` the loose volume per m3 compacted (granular material); `mass_t_per_m2` and
    `pieces_per_m2` turn an area of paving into tonnes and pieces; `cement_kg_m3` the cement
    in one m3 of concrete, ordered in bags of the section's `cement_bag_kg`; `daily_output`
    what one crew or plant places in a working day, in the item's unit (for the schedule).
    """

    material: LocalizedText
    vehicle: Slug
    density_t_m3: PositiveFinite | None = None
    loose_factor: Annotated[float, Field(ge=1, allow_inf_nan=False)] | None = None
    mass_t_per_m2: PositiveFinite | None = None
    pieces_per_m2: PositiveFinite | None = None
    cement_kg_m3: PositiveFinite | None = None
    daily_output: PositiveFinite | None = None
    thickness_tolerance_mm: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    """How much thinner than design a core of this layer may be."""

    def sourced_parameters(self) -> set[str]:
        """Every stated conversion is a figure to cite."""
        names = (
            "density_t_m3",
            "loose_factor",
            "mass_t_per_m2",
            "pieces_per_m2",
            "cement_kg_m3",
            "daily_output",
            "thickness_tolerance_mm",
        )
        return {name for name in names if getattr(self, name) is not None}


class Vehicles(Sourced):
    """The catalog's `vehicles` section: vehicle classes, the materials they carry (by item
    code, the code sources name what they supply with), the bag size of cement and the
    detour factor from a straight line to the distance driven."""

    classes: dict[Slug, VehicleClass]
    materials: dict[ItemCode, MaterialDelivery]
    cement_bag_kg: PositiveFinite
    detour_factor: Annotated[float, Field(ge=1, allow_inf_nan=False)]
    delivery_tolerance_pct: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 0.0
    """Delivered within this share of the plan, either way, counts as delivered as planned."""

    @model_validator(mode="after")
    def _vehicles_known(self) -> Vehicles:
        for code, material in self.materials.items():
            if material.vehicle not in self.classes:
                raise ValueError(
                    f"material {code} travels on unknown vehicle {material.vehicle!r}; "
                    f"vehicles: {', '.join(sorted(self.classes))}"
                )
        return self

    def sourced_parameters(self) -> set[str]:
        """The bag size, the detour factor and the delivery tolerance are the section-level
        figures to cite."""
        return {"cement_bag_kg", "detour_factor", "delivery_tolerance_pct"}


class RateCatalog(Sourced):
    """A price list in one currency; `sources` cites the markup percentages and minor unit.

    `vat_pct` is the *effective* rate applied to (subtotal + overhead & profit); where a tax
    is levied at a nominal rate on a reduced base (Indonesian PPN: 12 % on 11/12 of the price),
    the effective rate is the product and the source says so. `overhead_profit_pct` is 0 when
    the unit rates already include it (AHSP unit prices do).
    """

    slug: Slug
    version: int | None = Field(default=None, ge=1)
    name: LocalizedText
    label: NonEmpty
    region: NonEmpty
    currency: CurrencyCode
    currency_exponent: int = Field(ge=0, le=4)
    overhead_profit_pct: Percent
    vat_pct: Percent
    provenance: NonEmpty
    valid_from: date
    items: dict[ItemCode, RateItem]
    divisions: dict[Division, LocalizedText] = Field(default_factory=dict)
    rounding_unit: Rate | None = None
    vat_label: LocalizedText | None = None
    """How a bill names the tax line, e.g. "PPN 12 % x 11/12" for an effective 11 %."""
    vehicles: Vehicles | None = None
    """Delivery vehicles and materials for the material-order view (None: no view)."""
    basic_prices: dict[PriceCode, BasicPrice] = Field(default_factory=dict)
    analyses: dict[ItemCode, Analysis] = Field(default_factory=dict)
    haul_km: HaulKm | None = None
    """The default average haul distance L (km) of analyses that haul material."""
    hsp_rounding: Rate | None = None
    """HSPs are rounded half up to a whole number of this (default: the minor unit)."""
    item_hauls: dict[ItemCode, HaulLength] = Field(default_factory=dict, exclude=True)
    """The L each hauled item is priced at where it is not the default `haul_km`: set for one
    request by `priced_catalog`, never stored."""

    @model_validator(mode="before")
    @classmethod
    def _analysed_rates(cls, data: Any) -> Any:
        """Give each analysed item that states no rate its HSP at the default L.

        Analyses that do not validate here are left alone: the field validation that
        follows reports them where they are.
        """
        if not isinstance(data, dict) or not data.get("analyses"):
            return data
        # what GET /catalogs/{id} adds is worked out again from the analyses, never read
        data = {key: value for key, value in data.items() if key != "analysis_results"}
        try:
            costing = _Costing.model_validate(
                {key: data[key] for key in _Costing.model_fields if key in data}
            )
            items = data.get("items")
            if not isinstance(items, dict):
                return data
            filled = dict(items)
            for code, item in items.items():
                if isinstance(item, dict) and "rate" not in item and code in costing.analyses:
                    filled[code] = {**item, "rate": costing.hsp(code, costing.haul_km).hsp}
        except (ValidationError, ValueError, KeyError):
            return data
        return {**data, "items": filled}

    @model_validator(mode="after")
    def _divisions_named_and_rounding_fits(self) -> RateCatalog:
        placed = {code: item.division for code, item in self.items.items()}
        unplaced = sorted(code for code, division in placed.items() if not division)
        if unplaced and len(unplaced) < len(placed):
            raise ValueError(f"items without a division: {', '.join(unplaced)}")
        unnamed = sorted({d for d in placed.values() if d and d not in self.divisions}, key=int)
        if unnamed:
            raise ValueError(f"divisions without a name in 'divisions': {', '.join(unnamed)}")
        self._check_analyses()
        if self.rounding_unit is not None:
            minor = quantum(self.currency_exponent)
            if self.rounding_unit % minor:
                raise ValueError(
                    f"rounding_unit {self.rounding_unit} is not a whole number of the "
                    f"currency's minor unit {minor}"
                )
        return self

    def _check_analyses(self) -> None:
        for code, analysis in self.analyses.items():
            if code not in self.items:
                raise ValueError(f"analysis {code} prices no item: add it to items")
            missing = missing_prices(analysis, self.basic_prices)
            if missing:
                raise ValueError(
                    f"analysis {code} names unknown basic prices: {', '.join(missing)}"
                )
            if analysis.hauled and self.haul_km is None:
                raise ValueError(f"analysis {code} hauls material: give the catalog a haul_km")
            hsp = self.costing(code).hsp
            if hsp <= 0:
                raise ValueError(f"analysis {code} gives an HSP of {hsp}")
            if self.items[code].rate != hsp:
                raise ValueError(
                    f"item {code} states rate {self.items[code].rate}, but its analysis gives "
                    f"{hsp} at haul_km {self.haul_km}: leave the rate out of analysed items"
                )

    def costing(self, code: str, haul_km: Decimal | None = None) -> Costing:
        """Item `code`'s analysis worked out at `haul_km` (None: the L it is priced at)."""
        return _Costing.model_construct(
            basic_prices=self.basic_prices,
            analyses=self.analyses,
            haul_km=self.haul_km,
            hsp_rounding=self.hsp_rounding,
            currency_exponent=self.currency_exponent,
        ).hsp(code, self._priced_km(code) if haul_km is None else haul_km)

    def _priced_km(self, code: str) -> Decimal | None:
        given = self.item_hauls.get(code)
        return self.haul_km if given is None else given.km

    def haul_length(self, code: str) -> HaulLength:
        """The L hauled item `code` is priced at, and where it came from."""
        given = self.item_hauls.get(code)
        if given is not None:
            return given
        if self.haul_km is None:
            raise ValueError(f"item {code} is not priced at a haul distance")
        return HaulLength(self.haul_km, "catalog")

    def line_order(self) -> Callable[[tuple[str, Decimal]], tuple[int, Decimal]]:
        """The sort key of a bill line by its (item code, unit rate): its item's place in the
        catalog, then its rate. Every bill, an estimate's or a batch's, states its lines in
        this order, whatever order the features came in."""
        place = once_per((self,), "item order", lambda: {c: i for i, c in enumerate(self.items)})
        return lambda line: (place[line[0]], line[1])

    def hauled_items(self) -> list[str]:
        """Items whose HSP depends on the haul distance L."""
        return [code for code, analysis in self.analyses.items() if analysis.hauled]

    def sourced_parameters(self) -> set[str]:
        """Markups, the currency's minor unit, the division names, the rounding unit, the
        default haul distance and the HSP rounding are the catalog-level figures to cite."""
        parameters = {"overhead_profit_pct", "vat_pct", "currency_exponent"}
        for name in ("rounding_unit", "haul_km", "hsp_rounding"):
            if getattr(self, name) is not None:
                parameters.add(name)
        if self.divisions:
            parameters.add("divisions")
        return parameters


class _Costing(BaseModel):
    """The part of a catalog an HSP is computed from."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    basic_prices: dict[PriceCode, BasicPrice] = Field(default_factory=dict)
    analyses: dict[ItemCode, Analysis] = Field(default_factory=dict)
    haul_km: HaulKm | None = None
    hsp_rounding: Rate | None = None
    currency_exponent: int = Field(default=0, ge=0, le=4)

    def hsp(self, code: str, haul_km: Decimal | None) -> Costing:
        return cost(
            self.analyses[code],
            self.basic_prices,
            haul_km=haul_km,
            rounding=self.hsp_rounding or quantum(self.currency_exponent),
        )


def priced_catalog(
    catalog: RateCatalog,
    haul_km: Decimal | None = None,
    routed: Mapping[str, HaulLength] | None = None,
) -> RateCatalog:
    """The catalog with its hauled items priced at the request's `haul_km`, else each at the
    L the delivery plan `routed` to it (keyed by item code), else as it is.

    Only rates change, so pricing reads `items[code].rate` as for any flat rate; the result
    says the L each hauled item was priced at (`haul_length`), and a request's L is also its
    `haul_km`.
    """
    hauled = catalog.hauled_items()
    routed = routed or {}
    if not hauled or (haul_km is None and not routed):
        return catalog
    if haul_km is not None:
        lengths = dict.fromkeys(hauled, HaulLength(haul_km, "request"))
    else:
        lengths = {code: routed[code] for code in hauled if code in routed}
    items = dict(catalog.items)
    for code, length in lengths.items():
        items[code] = items[code].model_copy(update={"rate": catalog.costing(code, length.km).hsp})
    update: dict[str, Any] = {"items": items, "item_hauls": {**catalog.item_hauls, **lengths}}
    if haul_km is not None:
        update["haul_km"] = haul_km
    return catalog.model_copy(update=update)


def haul_rates(
    catalog: RateCatalog, haul_km: Decimal, codes: Collection[str] | None = None
) -> dict[str, Decimal]:
    """The HSP of each hauled item (of `codes`, when given) at `haul_km`."""
    return {
        code: catalog.costing(code, haul_km).hsp
        for code in catalog.hauled_items()
        if codes is None or code in codes
    }


def find_catalog(
    catalogs: Mapping[str, RateCatalog], slug: str, version: int | None = None
) -> RateCatalog:
    """The catalog `slug` (at `version` when given), or `UnknownCatalog` naming the known ones."""
    catalog = catalogs.get(slug)
    if catalog is None:
        known = ", ".join(sorted(catalogs)) or "none"
        raise UnknownCatalog(f"unknown catalog {slug!r}; known catalogs: {known}", catalog=slug)
    if version is not None and catalog.version != version:
        raise UnknownCatalog(
            f"catalog {slug!r} has no version {version} (this one is {catalog.version})",
            catalog=slug,
        )
    return catalog


def load_builtin_catalogs(directory: Path) -> dict[str, RateCatalog]:
    """Read every `*.json` catalog in `directory`, keyed by slug (the file stem)."""
    return load_directory(directory, RateCatalog)
