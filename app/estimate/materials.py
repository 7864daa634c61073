"""The material-order view: the bill's net pay quantities turned into what must be delivered.

A bill pays net design quantities; the site needs more (the material loss of each template
item) and needs it as truckloads. For every item the catalog's `vehicles` section describes:

order = net x (1 + loss) | loose volume = order x loose factor (granular, m3) |
mass = order (t) or order x density (m3) or order x mass per m2 (paving) |
pieces = order x pieces per m2 | cement bags = ceil(order x cement kg/m3 / bag kg) |
loads = ceil(the largest of mass / vehicle t, loose volume (or m3 of concrete) / vehicle m3,
litres / vehicle L), the limit reached first naming the vehicle capacity shown |
working days = ceil(order / daily output of one crew or plant) |
loads per day = ceil(loads / working days).

Sprayed binders are paid per litre of residue in some catalogs; a distributor carries the
product, so their litres are turned back into litres of product with the template's residue
share. The loss of an item is the request's `material_loss` override, else the template's;
a request may also change vehicle capacities and daily outputs (`with_delivery_overrides`);
where two templates of one bill state different losses for an item, the larger is used and
a warning says so. Figures are rounded to 3 decimals (the bill keeps full precision).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from app.errors import ConfigurationError, InvalidParameter
from app.estimate.binders import paid_litres_per_litre
from app.estimate.bom import BomLine
from app.estimate.catalogs import (
    HaulLength,
    HaulOrigin,
    MaterialDelivery,
    RateCatalog,
    VehicleClass,
)
from app.estimate.localized import LocalizedText
from app.estimate.overrides import Overrides
from app.estimate.templates import Layer, Template, TemplateItem

STRAIGHT_LINE: Final = "straight-line"
"""The haul method of a geodesic distance times the catalog's detour factor."""
NETWORK: Final = "network"
"""The haul method of a shortest path over the published road layers."""
_DECIMALS = 3
_FULL = 1e-9
"""Slack when counting loads: 70.000000001 m3 in 7 m3 mixers is 10 loads, not 11."""


@dataclass(frozen=True)
class Vehicle:
    """The vehicle a material travels on and the capacity that limits its loads."""

    slug: str
    name: LocalizedText
    capacity: float
    capacity_unit: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.slug,
            "name": self.name.to_dict(),
            "capacity": self.capacity,
            "capacity_unit": self.capacity_unit,
        }


@dataclass(frozen=True)
class Haul:
    """The nearest source of one material and how far it is from the site."""

    source_id: int
    name: str
    kind: str
    straight_km: float
    haul_km: float
    method: str
    warning: str | None = None
    route: tuple[tuple[float, float], ...] | None = None
    """Lon/lat of the way over the road network (method `network` only), to draw it."""

    @property
    def length(self) -> HaulLength:
        """This haul as the L of haul-dependent unit prices (`app.estimate.catalogs`)."""
        origin: HaulOrigin = NETWORK if self.method == NETWORK else STRAIGHT_LINE
        return HaulLength(Decimal(str(self.haul_km)), origin)

    def source_dict(self) -> dict[str, Any]:
        """The `source` of a material in a JSON answer."""
        return {"id": self.source_id, "name": self.name, "kind": self.kind}

    def route_geometry(self) -> dict[str, Any] | None:
        """The route as a GeoJSON LineString (7 decimals: about 1 cm), or None."""
        if self.route is None:
            return None
        coordinates = [[round(lon, 7), round(lat, 7)] for lon, lat in self.route]
        return {"type": "LineString", "coordinates": coordinates}


@dataclass(frozen=True)
class MaterialLine:
    """One material to order: quantities in its delivery unit, conversions where they apply."""

    material: str
    name: LocalizedText
    unit: str
    net_quantity: float
    loss_pct: float
    order_quantity: float
    loose_volume_m3: float | None
    mass_t: float | None
    pieces: int | None
    cement_bags: int | None
    vehicle: Vehicle
    loads: int
    daily_output: float | None = None
    working_days: int | None = None
    loads_per_day: int | None = None
    haul: Haul | None = None
    hauled: bool = False
    """Whether sources were looked up (an answer made without the store has no haul)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; conversions that do not apply are left out."""
        out: dict[str, Any] = {
            "material": self.material,
            "name": self.name.to_dict(),
            "unit": self.unit,
            "net_quantity": self.net_quantity,
            "loss_pct": self.loss_pct,
            "order_quantity": self.order_quantity,
            "loose_volume_m3": self.loose_volume_m3,
            "mass_t": self.mass_t,
        }
        if self.pieces is not None:
            out["pieces"] = self.pieces
        if self.cement_bags is not None:
            out["cement_bags"] = self.cement_bags
        out["vehicle"] = self.vehicle.to_dict()
        out["loads"] = self.loads
        out["daily_output"] = self.daily_output
        out["working_days"] = self.working_days
        out["loads_per_day"] = self.loads_per_day
        if self.haul is not None:
            out["source"] = self.haul.source_dict()
            out["haul_km"] = self.haul.haul_km
            out["haul_method"] = self.haul.method
            out["route"] = self.haul.route_geometry()
            if self.haul.warning:
                out["haul_warning"] = self.haul.warning
        elif self.hauled:
            out["source"] = out["haul_km"] = out["haul_method"] = out["route"] = None
            out["haul_warning"] = "no material source supplies it: no haul distance"
        return out


@dataclass(frozen=True)
class MaterialView:
    """The materials of a bill in bill order, and what the reader should know about them."""

    lines: tuple[MaterialLine, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_list(self) -> list[dict[str, Any]]:
        """The `materials` of a JSON answer."""
        return [line.to_dict() for line in self.lines]


def _round(value: float) -> float:
    return round(value, _DECIMALS)


def _loads(
    amounts: dict[str, float], vehicle_slug: str, vehicle: VehicleClass
) -> tuple[Vehicle, int]:
    """Loads of the limit reached first, and that limit as the vehicle's capacity."""
    capacities = vehicle.capacities()
    needs = {
        unit: amounts[unit] / capacity for unit, capacity in capacities.items() if unit in amounts
    }
    if not needs:
        raise ConfigurationError(
            f"vehicle {vehicle_slug} carries {', '.join(capacities)}, none of which "
            f"the material it is given is measured in ({', '.join(amounts) or 'nothing'})"
        )
    unit = max(needs, key=lambda name: needs[name])
    capacity = capacities[unit]
    loads = math.ceil(needs[unit] - _FULL) if needs[unit] > 0 else 0
    return Vehicle(vehicle_slug, vehicle.name, capacity, unit), loads


def _template_items(templates: Iterable[Template], code: str) -> list[TemplateItem]:
    return [item for template in templates for item in template.items if item.code == code]


def _loss(
    code: str, items: Sequence[TemplateItem], overrides: Overrides | None
) -> tuple[float, str | None]:
    """The item's loss and a warning where the templates disagree."""
    if overrides is not None and code in overrides.material_loss:
        return overrides.material_loss[code], None
    losses = sorted({float(getattr(item, "material_loss", 0.0)) for item in items})
    if len(losses) > 1:
        listed = ", ".join(f"{loss * 100:g} %" for loss in losses)
        return losses[
            -1
        ], f"{code}: templates state material losses of {listed}; ordered with the largest"
    return (losses[0] if losses else 0.0), None


def _product_litres(litres: float, items: Sequence[TemplateItem], catalog: RateCatalog) -> float:
    """Paid litres back to litres of the sprayed product (what the distributor carries)."""
    layer = next((item for item in items if isinstance(item, Layer) and item.residue_share), None)
    if layer is None:
        return litres
    return litres / paid_litres_per_litre(layer, catalog)


def _line(
    code: str,
    unit: str,
    net: float,
    loss: float,
    delivery: MaterialDelivery,
    vehicle: VehicleClass,
    bag_kg: float,
    hauls: Mapping[str, Haul] | None,
) -> MaterialLine:
    order = net * (1 + loss)
    amounts: dict[str, float] = {}
    loose = order * delivery.loose_factor if delivery.loose_factor and unit == "m3" else None
    mass: float | None = None
    if unit == "t":
        mass = order
    elif unit == "m3" and delivery.density_t_m3:
        mass = order * delivery.density_t_m3
    elif unit == "m2" and delivery.mass_t_per_m2:
        mass = order * delivery.mass_t_per_m2
    if mass is not None:
        amounts["t"] = mass
    if unit == "m3":
        amounts["m3"] = order if loose is None else loose
    if unit == "L":
        amounts["L"] = order
    pieces = (
        math.ceil(order * delivery.pieces_per_m2)
        if delivery.pieces_per_m2 and unit == "m2"
        else None
    )
    bags = None
    if delivery.cement_kg_m3 and unit == "m3":
        bags = math.ceil(order * delivery.cement_kg_m3 / bag_kg - _FULL)
    carrier, loads = _loads(amounts, delivery.vehicle, vehicle)
    days = per_day = None
    if delivery.daily_output is not None:
        days = math.ceil(order / delivery.daily_output - _FULL) if order > 0 else 0
        per_day = math.ceil(loads / days) if days else 0
    return MaterialLine(
        material=code,
        name=delivery.material,
        unit=unit,
        net_quantity=_round(net),
        loss_pct=_round(loss * 100),
        order_quantity=_round(order),
        loose_volume_m3=None if loose is None else _round(loose),
        mass_t=None if mass is None else _round(mass),
        pieces=pieces,
        cement_bags=bags,
        vehicle=carrier,
        loads=loads,
        daily_output=delivery.daily_output,
        working_days=days,
        loads_per_day=per_day,
        haul=None if hauls is None else hauls.get(code),
        hauled=hauls is not None,
    )


def material_view(
    lines: Iterable[BomLine],
    templates: Iterable[Template],
    catalog: RateCatalog,
    overrides: Overrides | None = None,
    hauls: Mapping[str, Haul] | None = None,
) -> MaterialView:
    """The materials to order for a bill's `lines` (one estimate's or a whole batch's), with
    each material's nearest source and haul distance from `hauls` where a source supplies it
    (None: sources were not looked up).

    Lines of one item at several rates are one material; items the catalog's `vehicles`
    section does not describe (work, not material: excavation, joints) are not listed.
    """
    section = catalog.vehicles
    if section is None:
        return MaterialView()
    templates = tuple(templates)
    net: dict[str, tuple[str, float]] = {}
    for line in lines:
        if line.code in section.materials:
            unit, quantity = net.get(line.code, (line.unit, 0.0))
            net[line.code] = (unit, quantity + line.quantity)
    materials = []
    warnings = []
    for code, (unit, quantity) in net.items():
        items = _template_items(templates, code)
        loss, warning = _loss(code, items, overrides)
        if warning:
            warnings.append(warning)
        if unit == "L":
            quantity = _product_litres(quantity, items, catalog)
        delivery = section.materials[code]
        vehicle = section.classes[delivery.vehicle]
        materials.append(
            _line(code, unit, quantity, loss, delivery, vehicle, section.cement_bag_kg, hauls)
        )
    return MaterialView(tuple(materials), tuple(warnings))


_OVERRIDDEN = "set by the request [I]"
_CAPACITIES = ("capacity_t", "capacity_m3", "capacity_l")


def _positive(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise InvalidParameter(f"must be a number > 0, got {value!r}", field=field)
    return float(value)


def _mapping(given: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = given.get(name) or {}
    if not isinstance(value, Mapping):
        raise InvalidParameter(
            f"{name} must be an object, got {value!r}", field=f"overrides.{name}"
        )
    return value


def with_delivery_overrides(catalog: RateCatalog, given: Mapping[str, Any]) -> RateCatalog:
    """`catalog` with a request's `vehicles` capacities ({"dump-truck-10t": {"capacity_t":
    12}}) and `daily_output` per material ({"AC-WC": 300}) in place of its defaults; each
    changed figure is cited as set by the request. Prices are untouched."""
    section = catalog.vehicles
    if not given:
        return catalog
    if section is None:
        raise InvalidParameter(
            f"catalog {catalog.slug} has no vehicles section to override", field="overrides"
        )
    classes = dict(section.classes)
    for slug, changes in _mapping(given, "vehicles").items():
        field = f"overrides.vehicles.{slug}"
        if slug not in classes:
            known = ", ".join(sorted(classes))
            raise InvalidParameter(f"unknown vehicle {slug!r}; vehicles: {known}", field=field)
        if not isinstance(changes, Mapping) or not changes or set(changes) - set(_CAPACITIES):
            raise InvalidParameter(f"give one or more of {', '.join(_CAPACITIES)}", field=field)
        values = {name: _positive(value, f"{field}.{name}") for name, value in changes.items()}
        vehicle = classes[slug]
        sources = {**vehicle.sources, **dict.fromkeys(values, _OVERRIDDEN)}
        classes[slug] = vehicle.model_copy(update={**values, "sources": sources})
    materials = dict(section.materials)
    for code, value in _mapping(given, "daily_output").items():
        field = f"overrides.daily_output.{code}"
        if code not in materials:
            known = ", ".join(materials)
            raise InvalidParameter(f"unknown material {code!r}; materials: {known}", field=field)
        delivery = materials[code]
        materials[code] = delivery.model_copy(
            update={
                "daily_output": _positive(value, field),
                "sources": {**delivery.sources, "daily_output": _OVERRIDDEN},
            }
        )
    vehicles = section.model_copy(update={"classes": classes, "materials": materials})
    return catalog.model_copy(update={"vehicles": vehicles})
