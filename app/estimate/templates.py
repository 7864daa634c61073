"""Cross-section templates: layers bottom to top, plus linear and count items.

A template is data (one JSON file per template in `data/templates/`, slug = file stem) so a
city can add its own typical sections without code. The formulas that turn a template into
quantities live in `app.estimate.quantities`; this module only says what a valid template is.

Every quantity a template gives is the net design quantity Bina Marga pays (area x compacted
thickness, x density for mass items). Material losses are stated per item for the
material-order view only: an AHSP unit price already holds the loss factor.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from app.errors import InvalidParameter
from app.estimate.datafiles import load_directory
from app.estimate.localized import LocalizedText
from app.estimate.provenance import Sourced
from app.estimate.units import Basis
from app.geo.validate import MAX_WIDTH_M

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64)]
ItemCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9._-]*$", max_length=40)]
PositiveFinite = Annotated[float, Field(gt=0, allow_inf_nan=False)]
LossFraction = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]
ShareFraction = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
SprayProduct = Literal["emulsion", "cutback"]
"""Bitumen products sprayed as prime or tack coat; their residue shares differ."""

LAYER_BASES = (
    Basis.VOLUME,
    Basis.MASS,
    Basis.SPRAY,
    Basis.AREA,
    Basis.AREA_MASS,
    Basis.TRANSVERSE_JOINT,
)
_LAYER_PARAMETERS = ("thickness_m", "density_t_m3", "spray_l_m2", "mass_kg_m2", "joint_spacing_m")
PARAMETERS_BY_BASIS: dict[Basis, tuple[str, ...]] = {
    Basis.VOLUME: ("thickness_m",),
    Basis.MASS: ("thickness_m", "density_t_m3"),
    Basis.SPRAY: ("spray_l_m2",),
    Basis.AREA: (),
    Basis.AREA_MASS: ("mass_kg_m2",),
    Basis.TRANSVERSE_JOINT: ("joint_spacing_m",),
}
"""The layer parameters each basis uses. The quantity per m2 is their product, except for
transverse joints: one metre of joint across the slab every `joint_spacing_m`, 1 / spacing."""

_LEGACY_LOSS = "waste"


class _WithMaterialLoss(Sourced):
    """An item with a material loss: the share lost between delivery and the finished work.

    The loss never enters the bill (see the module docstring); it is exposed for the
    material-order view: order quantity = net x (1 + material_loss). Template versions saved
    before losses left the pay quantity call the figure `waste` and are read with it as the
    material loss, so every stored version still loads.
    """

    material_loss: LossFraction = 0.0

    @model_validator(mode="before")
    @classmethod
    def _legacy_waste(cls, data: Any) -> Any:
        if not isinstance(data, dict) or _LEGACY_LOSS not in data:
            return data
        data = dict(data)
        data.setdefault("material_loss", data.pop(_LEGACY_LOSS))
        sources = dict(data.get("sources") or {})
        if _LEGACY_LOSS in sources:
            sources.setdefault("material_loss", sources.pop(_LEGACY_LOSS))
            data["sources"] = sources
        return data

    def _loss_parameters(self) -> set[str]:
        return {"material_loss"} if self.material_loss else set()


class Layer(_WithMaterialLoss):
    """One layer of the cross-section, measured over its own width (surface width + extra).

    Only the parameters its basis uses may be set: a density on a volume layer is a data error,
    not something to ignore silently. `area_mass` is a mass spread over the layer area (kg/m2),
    used for dowel bars of rigid pavement, paid per kg of steel. A spray layer names the
    bitumen `product` it sprays (`spray_l_m2` is litres of that product) and the product's
    `residue_share`, so litres can be converted when a catalog pays per litre of residue.
    `depth_of` makes a layer a box cut dug for the layers it names: a thickness override of
    one of them deepens or shallows the cut by as much, so the excavation stays as deep as the
    structure it holds.
    """

    code: ItemCode
    basis: Basis
    thickness_m: PositiveFinite | None = None
    density_t_m3: PositiveFinite | None = None
    spray_l_m2: PositiveFinite | None = None
    mass_kg_m2: PositiveFinite | None = None
    joint_spacing_m: PositiveFinite | None = None
    product: SprayProduct | None = None
    residue_share: ShareFraction | None = None
    extra_width_m: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    depth_of: tuple[ItemCode, ...] = ()

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
        stated = [name for name in ("product", "residue_share") if getattr(self, name) is not None]
        if stated and self.basis is not Basis.SPRAY:
            raise ValueError(f"only a spray layer states {' and '.join(stated)}")
        if len(stated) == 1:
            raise ValueError("a spray layer states both its product and its residue_share")
        if self.depth_of and self.thickness_m is None:
            raise ValueError("only a layer with a thickness is dug for the layers in depth_of")
        return self

    def sourced_parameters(self) -> set[str]:
        """The basis parameters, the product, any loss and extra width: each a claim to cite."""
        parameters = {*PARAMETERS_BY_BASIS[self.basis], *self._loss_parameters()}
        if self.product is not None:
            parameters.update(("product", "residue_share"))
        if self.extra_width_m:
            parameters.add("extra_width_m")
        return parameters


class LinearItem(_WithMaterialLoss):
    """An item measured along the road, per side or per longitudinal slab joint.

    `sides` counts it across the road (kerbs, drains, shoulders, formwork on both edges);
    `max_slab_width_m` instead counts the longitudinal joints a rigid pavement needs at
    each feature's width (ceil(width / max slab width) - 1: none where one slab spans the
    road). Per metre it is 1 m (linear), `width_m` and/or `thickness_m` (an area in m2 with
    one of them, a volume in m3 with both: a shoulder), or `mass_kg_m` (steel along a joint).
    `thickness_of` takes the thickness of a layer instead (formwork as high as the slab), so
    a thickness override of the slab moves the formwork with it.
    """

    code: ItemCode
    sides: int | None = Field(default=None, ge=1)
    max_slab_width_m: PositiveFinite | None = None
    width_m: PositiveFinite | None = None
    thickness_m: PositiveFinite | None = None
    thickness_of: ItemCode | None = None
    mass_kg_m: PositiveFinite | None = None

    @model_validator(mode="after")
    def _one_count_and_fitting_dimensions(self) -> LinearItem:
        if (self.sides is None) == (self.max_slab_width_m is None):
            raise ValueError("a linear item has either sides or max_slab_width_m")
        if self.thickness_m is not None and self.thickness_of is not None:
            raise ValueError("a linear item has either thickness_m or thickness_of")
        if self.mass_kg_m is not None and (self.width_m or self.has_thickness):
            raise ValueError("mass_kg_m is per metre: it takes no width or thickness")
        return self

    @property
    def has_thickness(self) -> bool:
        """A thickness of its own or a layer's."""
        return self.thickness_m is not None or self.thickness_of is not None

    @property
    def basis(self) -> Basis:
        """Length, area, volume or mass, from the dimensions given per metre."""
        if self.mass_kg_m is not None:
            return Basis.LINEAR_MASS
        dimensions = (self.width_m is not None) + self.has_thickness
        return (Basis.LINEAR, Basis.AREA, Basis.VOLUME)[dimensions]

    def sourced_parameters(self) -> set[str]:
        """How many, the dimensions and any loss are design choices to cite."""
        names = ("sides", "max_slab_width_m", "width_m", "thickness_m", "thickness_of", "mass_kg_m")
        given = {name for name in names if getattr(self, name) is not None}
        return given | self._loss_parameters()


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
    """A typical cross-section; `version` is filled by the store (None for files on disk).

    `options` are linear items a request may add (a U-ditch on each side of a local road);
    they are not in `items` until `with_options` chooses them.
    """

    slug: Slug
    version: int | None = Field(default=None, ge=1)
    name: LocalizedText
    description: LocalizedText
    default_width_m: Annotated[float, Field(gt=0, le=MAX_WIDTH_M, allow_inf_nan=False)]
    plausible_width_m: tuple[PositiveFinite, PositiveFinite] = PLAUSIBLE_WIDTH_M
    layers: tuple[Layer, ...] = ()
    linear_items: tuple[LinearItem, ...] = ()
    count_items: tuple[CountItem, ...] = ()
    options: tuple[LinearItem, ...] = ()

    @model_validator(mode="after")
    def _items_are_unique_and_present(self) -> Template:
        codes = [item.code for item in (*self.items, *self.options)]
        if not self.items:
            raise ValueError("a template needs at least one layer, linear or count item")
        if duplicates := sorted({code for code in codes if codes.count(code) > 1}):
            raise ValueError(
                f"item codes must be unique within a template (overrides name items by code): "
                f"{', '.join(duplicates)}"
            )
        thick = {layer.code for layer in self.layers if layer.thickness_m is not None}
        with_thickness = f"layers with one: {', '.join(sorted(thick)) or 'none'}"
        for item in (*self.linear_items, *self.options):
            if item.thickness_of is not None and item.thickness_of not in thick:
                raise ValueError(
                    f"{item.code} takes its thickness_of {item.thickness_of}, which is not a "
                    f"layer with a thickness; {with_thickness}"
                )
        for layer in self.layers:
            if unknown := sorted(set(layer.depth_of) - (thick - {layer.code})):
                raise ValueError(
                    f"{layer.code} is dug for {', '.join(unknown)} (depth_of), not another "
                    f"layer with a thickness; {with_thickness}"
                )
        return self

    def layer_thickness(self, code: str) -> float:
        """The thickness of layer `code` (validated to exist for every `thickness_of`)."""
        thickness = next(layer.thickness_m for layer in self.layers if layer.code == code)
        assert thickness is not None
        return thickness

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

    def with_options(self, codes: Collection[str]) -> Template:
        """This template with the chosen options added to its linear items.

        Raises `InvalidParameter` naming an option the template does not offer.
        """
        offered = {option.code for option in self.options}
        if unknown := sorted(set(codes) - offered):
            raise InvalidParameter(
                f"template {self.slug} offers no option {', '.join(unknown)}; options: "
                f"{', '.join(sorted(offered)) or 'none'}",
                field="options",
            )
        if not codes:
            return self
        chosen = tuple(option for option in self.options if option.code in codes)
        return self.model_copy(
            update={
                "linear_items": (*self.linear_items, *chosen),
                "options": tuple(option for option in self.options if option.code not in codes),
            }
        )


def load_builtin_templates(directory: Path) -> dict[str, Template]:
    """Read every `*.json` template in `directory`, keyed by slug (the file stem)."""
    return load_directory(directory, Template)
