"""Cross-section templates: layers bottom to top, plus linear and count items.

A template is data (one JSON file per template in `data/templates/`, slug = file stem) so a
city can add its own typical sections without code. The formulas that turn a template into
quantities live in `app.estimate.quantities`; this module only says what a valid template is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator, model_validator

from app.estimate.datafiles import load_directory
from app.estimate.localized import LocalizedText
from app.estimate.provenance import Sourced
from app.estimate.units import Basis

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64)]
ItemCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9._-]*$", max_length=40)]
PositiveFinite = Annotated[float, Field(gt=0, allow_inf_nan=False)]
WasteFraction = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]

LAYER_BASES = (Basis.VOLUME, Basis.MASS, Basis.SPRAY, Basis.AREA, Basis.AREA_MASS)
_LAYER_PARAMETERS = ("thickness_m", "density_t_m3", "spray_l_m2", "mass_kg_m2")
PARAMETERS_BY_BASIS: dict[Basis, tuple[str, ...]] = {
    Basis.VOLUME: ("thickness_m",),
    Basis.MASS: ("thickness_m", "density_t_m3"),
    Basis.SPRAY: ("spray_l_m2",),
    Basis.AREA: (),
    Basis.AREA_MASS: ("mass_kg_m2",),
}
"""The layer parameters each basis uses; their product is the quantity per m2 before waste."""


class Layer(Sourced):
    """One layer of the cross-section, measured over its own width (surface width + extra).

    Only the parameters its basis uses may be set: a density on a volume layer is a data error,
    not something to ignore silently. `area_mass` is a mass spread over the layer area (kg/m2),
    used for dowel and tie bars of rigid pavement, which are paid per kg of steel.
    """

    code: ItemCode
    basis: Basis
    thickness_m: PositiveFinite | None = None
    density_t_m3: PositiveFinite | None = None
    spray_l_m2: PositiveFinite | None = None
    mass_kg_m2: PositiveFinite | None = None
    waste: WasteFraction = 0.0
    extra_width_m: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0

    @field_validator("basis")
    @classmethod
    def _layer_basis(cls, basis: Basis) -> Basis:
        if basis not in LAYER_BASES:
            raise ValueError(f"a layer cannot have basis {basis.value!r}")
        return basis

    @model_validator(mode="after")
    def _parameters_fit_basis(self) -> Layer:
        required = set(PARAMETERS_BY_BASIS[self.basis])
        given = {name for name in _LAYER_PARAMETERS if getattr(self, name) is not None}
        if missing := sorted(required - given):
            raise ValueError(f"basis {self.basis.value} needs {', '.join(missing)}")
        if extra := sorted(given - required):
            raise ValueError(f"basis {self.basis.value} does not use {', '.join(extra)}")
        return self

    def sourced_parameters(self) -> set[str]:
        """The basis parameters, the waste and any extra width: each is a claim to cite."""
        parameters = {*PARAMETERS_BY_BASIS[self.basis], "waste"}
        if self.extra_width_m:
            parameters.add("extra_width_m")
        return parameters


class LinearItem(Sourced):
    """An item measured along the road: kerbs, drains, markings (per side)."""

    code: ItemCode
    sides: int = Field(ge=1)
    waste: WasteFraction = 0.0

    @property
    def basis(self) -> Basis:
        """Always linear: the quantity is a length."""
        return Basis.LINEAR

    def sourced_parameters(self) -> set[str]:
        """How many sides and the waste are both design choices to cite."""
        return {"sides", "waste"}


class CountItem(Sourced):
    """Items at stations along the road (lights, signs): `per_station` every `spacing_m`."""

    code: ItemCode
    spacing_m: PositiveFinite
    per_station: int = Field(ge=1)

    @property
    def basis(self) -> Basis:
        """Always count: the quantity is a number of units."""
        return Basis.COUNT

    def sourced_parameters(self) -> set[str]:
        """Spacing and units per station are design choices to cite."""
        return {"spacing_m", "per_station"}


TemplateItem = Layer | LinearItem | CountItem

PLAUSIBLE_WIDTH_M = (2.0, 30.0)
"""Mean widths a road surface plausibly has, unless a template says otherwise: under 2 m is
narrower than one car lane (lanes are commonly 2.75-3.5 m wide) and over 30 m wider than eight
3.5 m lanes with a median; outside it, a width or an outline is likely mistyped [I]."""


class Template(Sourced):
    """A typical cross-section; `version` is filled by the store (None for files on disk)."""

    slug: Slug
    version: int | None = Field(default=None, ge=1)
    name: LocalizedText
    description: LocalizedText
    default_width_m: PositiveFinite
    plausible_width_m: tuple[PositiveFinite, PositiveFinite] = PLAUSIBLE_WIDTH_M
    layers: tuple[Layer, ...] = ()
    linear_items: tuple[LinearItem, ...] = ()
    count_items: tuple[CountItem, ...] = ()

    @model_validator(mode="after")
    def _items_are_unique_and_present(self) -> Template:
        codes = [item.code for item in self.items]
        if not codes:
            raise ValueError("a template needs at least one layer, linear or count item")
        if duplicates := sorted({code for code in codes if codes.count(code) > 1}):
            raise ValueError(
                f"item codes must be unique within a template (overrides name items by code): "
                f"{', '.join(duplicates)}"
            )
        return self

    @model_validator(mode="after")
    def _plausible_width_is_a_range(self) -> Template:
        low, high = self.plausible_width_m
        if not low < high:
            raise ValueError(f"plausible_width_m must be (min, max), got ({low}, {high})")
        return self

    def sourced_parameters(self) -> set[str]:
        """The default width, and a plausible width range other than the shipped one."""
        if self.plausible_width_m != PLAUSIBLE_WIDTH_M:
            return {"default_width_m", "plausible_width_m"}
        return {"default_width_m"}

    @property
    def items(self) -> tuple[TemplateItem, ...]:
        """Every item in BoM order: layers bottom to top, then linear, then count items."""
        return (*self.layers, *self.linear_items, *self.count_items)


def load_builtin_templates(directory: Path) -> dict[str, Template]:
    """Read every `*.json` template in `directory`, keyed by slug (the file stem)."""
    return load_directory(directory, Template)
