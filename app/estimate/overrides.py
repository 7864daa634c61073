"""Overrides: a request or a single feature changing a template's or catalog's defaults.

Shape (every key optional; item parameters are keyed by item code):
`{"width_m": 4, "thickness": {"AC-WC": 0.05}, "density": {"AC-WC": 2.3},
"spray_rate": {"PRIME-COAT": 0.8}, "material_loss": {"LPA": 0.1}, "rates": {"AC-WC": "1500000"},
"overhead_profit_pct": 10, "vat_pct": 11, "haul_km": 25}`; `haul_km` is the average haul distance
L (km) an analysed catalog prices its hauled items at (`app.estimate.haul`).

Request-level overrides apply to every feature; a feature's own overrides are merged on top,
key by key (the feature wins). A request-level entry applies to the features whose template
has that item and ignores the others (one request may mix templates); a feature-level entry
must name an item of the feature's own template.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from decimal import Decimal
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.errors import InvalidParameter
from app.estimate.ahsp import HaulKm
from app.estimate.templates import Template, TemplateItem
from app.estimate.units import Basis
from app.geo.validate import MAX_WIDTH_M


class Overrides(BaseModel):
    """Parameter changes for a request or one feature; values are checked when pricing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    width_m: float | None = Field(default=None, le=MAX_WIDTH_M, allow_inf_nan=False)
    thickness: dict[str, float] = Field(default_factory=dict)
    density: dict[str, float] = Field(default_factory=dict)
    spray_rate: dict[str, float] = Field(default_factory=dict)
    material_loss: dict[str, float] = Field(default_factory=dict)
    rates: dict[str, Decimal] = Field(default_factory=dict)
    overhead_profit_pct: Decimal | None = None
    vat_pct: Decimal | None = None
    haul_km: HaulKm | None = None
    waste: None = None
    """The former name of `material_loss`: refused with a message, never silently ignored."""

    @field_validator("waste", mode="before")
    @classmethod
    def _renamed(cls, value: object) -> None:
        if value is not None:
            raise ValueError(
                "waste is now material_loss: bill quantities are net (unit prices already hold "
                "the loss), and material_loss only feeds the material-order quantities"
            )
        return None

    def merged_with(self, feature: Overrides | None) -> Overrides:
        """These (request-level) overrides with a feature's own on top, key by key."""
        if feature is None:
            return self
        if self == NO_OVERRIDES:
            return feature
        # both sides are validated already: construct without validating again
        return Overrides.model_construct(
            width_m=_first(feature.width_m, self.width_m),
            thickness={**self.thickness, **feature.thickness},
            density={**self.density, **feature.density},
            spray_rate={**self.spray_rate, **feature.spray_rate},
            material_loss={**self.material_loss, **feature.material_loss},
            rates={**self.rates, **feature.rates},
            overhead_profit_pct=_first(feature.overhead_profit_pct, self.overhead_profit_pct),
            vat_pct=_first(feature.vat_pct, self.vat_pct),
            haul_km=_first(feature.haul_km, self.haul_km),
        )

    def key(self) -> Hashable:
        """A hashable value equal for equal overrides, to group features that share them."""
        maps: dict[str, Mapping[str, object]] = {
            "thickness": self.thickness,
            "density": self.density,
            "spray_rate": self.spray_rate,
            "material_loss": self.material_loss,
            "rates": self.rates,
        }
        return (
            self.width_m,
            self.overhead_profit_pct,
            self.vat_pct,
            self.haul_km,
            *((name, tuple(sorted(values.items()))) for name, values in maps.items() if values),
        )


NO_OVERRIDES = Overrides()
"""No override at all: a request or feature that gives none."""

T = TypeVar("T")


def _first(value: T | None, fallback: T | None) -> T | None:
    return fallback if value is None else value


# Which items each per-item override can change, and the template field it sets.
_ITEM_PARAMETERS: dict[str, tuple[str, set[Basis]]] = {
    "thickness": ("thickness_m", {Basis.VOLUME, Basis.MASS}),
    "density": ("density_t_m3", {Basis.MASS}),
    "spray_rate": ("spray_l_m2", {Basis.SPRAY}),
    "material_loss": ("material_loss", {*Basis} - {Basis.COUNT}),
}


def _accepts(item: TemplateItem, override: str) -> bool:
    if override == "rates":
        return True
    return item.basis in _ITEM_PARAMETERS[override][1]


def check_overrides(
    overrides: Overrides, templates: Sequence[Template], feature: int | None
) -> None:
    """Raise `InvalidParameter` for a value out of range or an item no template can take it for.

    `templates` are those the overrides apply to: every template of the request for
    request-level overrides, the feature's own template for a feature's.
    """
    if overrides.width_m is not None:
        _require(_positive(overrides.width_m), "width_m", overrides.width_m, feature, "> 0 m")
    for name in ("overhead_profit_pct", "vat_pct"):
        pct = getattr(overrides, name)
        if pct is not None:
            _require(pct.is_finite() and 0 <= pct <= 100, name, pct, feature, "within 0-100 %")
    items = [item for template in templates for item in template.items]
    for name in (*_ITEM_PARAMETERS, "rates"):
        for code, value in getattr(overrides, name).items():
            field = f"{name}.{code}"
            if not any(item.code == code and _accepts(item, name) for item in items):
                takers = sorted({item.code for item in items if _accepts(item, name)})
                slugs = ", ".join(template.slug for template in templates)
                raise InvalidParameter(
                    f"{name} given for item {code!r}, which template {slugs} has no such "
                    f"item to apply it to; items that take it: {', '.join(takers) or 'none'}",
                    feature=feature,
                    field=field,
                )
            if name == "material_loss":
                _require(0 <= value < 1, field, value, feature, "a fraction in [0, 1)")
            elif name == "rates":
                _require(value.is_finite() and value > 0, field, value, feature, "> 0")
            else:
                _require(_positive(value), field, value, feature, "> 0")


def _positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


def _require(ok: bool, field: str, value: object, feature: int | None, expected: str) -> None:
    if not ok:
        raise InvalidParameter(
            f"{field} must be {expected}, got {value}", feature=feature, field=field
        )


def _follow_thickness(
    template: Template, overrides: Overrides, changes: dict[str, dict[str, float]]
) -> None:
    """Add to `changes` the thickness of each box cut that follows the layers it is dug for."""
    thickness_change = {
        layer.code: value - layer.thickness_m
        for layer in template.layers
        if layer.thickness_m is not None
        and (value := overrides.thickness.get(layer.code)) is not None
    }
    for layer in template.layers:
        deeper = sum(thickness_change.get(code, 0.0) for code in layer.depth_of)
        if deeper and layer.code not in overrides.thickness and layer.thickness_m is not None:
            changes.setdefault(layer.code, {})["thickness_m"] = layer.thickness_m + deeper


def apply_overrides(template: Template, overrides: Overrides) -> Template:
    """The template with the overrides' width and item parameters that apply to it.

    An item parameter applies to the items of that code which have the parameter (a thickness
    changes a volume or mass layer, not a spray one). A box cut (`depth_of`) not given a
    thickness of its own follows the thickness changes of the layers it is dug for. Call
    `check_overrides` first: this only copies values in, it does not judge them.
    """
    changes: dict[str, dict[str, float]] = {}
    for name, (field, _) in _ITEM_PARAMETERS.items():
        for code, value in getattr(overrides, name).items():
            changes.setdefault(code, {})[field] = value
    update: dict[str, object] = {}
    if overrides.width_m is not None:
        update["default_width_m"] = overrides.width_m
    if changes:  # most requests change no item: the items stay as they are
        _follow_thickness(template, overrides, changes)

        def changed(item: TemplateItem) -> TemplateItem:
            values = {
                field: value
                for field, value in changes.get(item.code, {}).items()
                if getattr(item, field, None) is not None
            }
            return item.model_copy(update=values) if values else item

        update["layers"] = tuple(changed(layer) for layer in template.layers)
        update["linear_items"] = tuple(changed(item) for item in template.linear_items)
    return template.model_copy(update=update) if update else template
