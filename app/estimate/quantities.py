"""Quantities: measured roads x template -> how much of each item, vectorised over features.

Areas. Each feature has a surface area: `area_m2` where the area was measured directly (a
road polygon), otherwise `length_m x width_m`. A layer covers the surface plus its extra
width along the whole length: `A_layer = A_surface + L x extra_width`, which is
`L x (width + extra_width)` whenever `width = A_surface / L` (the mean width of a polygon).

Every quantity is net, the design quantity Bina Marga pays: no material loss is added (an
AHSP unit price already holds it; see `app.estimate.templates`). Formulas, by basis:
volume `A_layer t` m3 | mass `A_layer t density` t | spray `A_layer rate p` L |
area `A_layer` m2 | area_mass `A_layer kg_per_m2` kg | transverse_joint `A_layer / spacing` m |
linear items `L n` times 1 m, `width`, `thickness`, both (m, m2, m3) or `kg_per_m` (kg) |
count `ceil(L / spacing) per_station` units.

`n` is the item's `sides`, or for a longitudinal slab joint `ceil(width / max slab width) - 1`
at each feature's width; a linear item's thickness may be a layer's (`thickness_of`: formwork
as high as the slab in each override variant). `p` converts litres of sprayed product to the
litres the catalog pays (1, or the product's residue share: `app.estimate.binders`); without a
catalog it is 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.errors import InvalidParameter
from app.estimate.binders import paid_litres_per_litre
from app.estimate.catalogs import RateCatalog
from app.estimate.templates import (
    PARAMETERS_BY_BASIS,
    CountItem,
    Layer,
    LinearItem,
    Template,
    TemplateItem,
)
from app.estimate.units import Basis

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Measures:
    """Measured features as columns; NaN in `width_m` / `area_m2` means "not given".

    `width_m` is the caller's resolved width (explicit, or area / length for polygons); where it
    is NaN the feature's overrides or its template's default width apply. `area_m2` is the
    directly measured surface area (polygons); where NaN the area is length x width.
    """

    length_m: FloatArray
    width_m: FloatArray
    area_m2: FloatArray

    @classmethod
    def from_columns(
        cls,
        length_m: npt.ArrayLike,
        width_m: npt.ArrayLike | None = None,
        area_m2: npt.ArrayLike | None = None,
    ) -> Measures:
        """Columns (lists, numpy arrays, pandas Series) checked for values a road cannot have."""
        length = np.asarray(length_m, dtype=np.float64)
        if length.ndim != 1:
            raise InvalidParameter("length_m must be one column of numbers", field="length_m")
        columns = {"length_m": length}
        for name, column in (("width_m", width_m), ("area_m2", area_m2)):
            values = np.full(length.shape, np.nan) if column is None else np.asarray(column)
            columns[name] = values.astype(np.float64)
            if columns[name].shape != length.shape:
                raise InvalidParameter(
                    f"{name} has {columns[name].size} values for {length.size} features",
                    field=name,
                )
        _require(np.isfinite(length) & (length >= 0), length, "length_m", "a finite length >= 0")
        for name in ("width_m", "area_m2"):
            values = columns[name]
            _require(np.isnan(values) | (values > 0), values, name, "> 0 (or not given)")
            _require(~np.isinf(values), values, name, "finite")
        return cls(**columns)

    def __len__(self) -> int:
        return int(self.length_m.size)

    def take(self, index: IndexArray | None) -> Measures:
        """The features at `index` (all of them for None, without copying)."""
        if index is None:
            return self
        return Measures(self.length_m[index], self.width_m[index], self.area_m2[index])


def _require(ok: npt.NDArray[np.bool_], values: FloatArray, field: str, expected: str) -> None:
    if not ok.all():
        first = int(np.argmin(ok))
        raise InvalidParameter(
            f"{field} must be {expected}, got {values[first]}", feature=first, field=field
        )


@dataclass(frozen=True)
class QuantityBlock:
    """Quantities of the features of one template: row j holds item j for every feature."""

    width_m: FloatArray
    surface_m2: FloatArray
    quantities: FloatArray


_SAME_WIDTH = 1e-9
"""Relative slack when dividing a width into slabs: 7.0 m is two 3.5 m slabs, not three."""


def quantity_factor(
    item: TemplateItem, catalog: RateCatalog | None = None, template: Template | None = None
) -> float:
    """The net quantity per m2 of layer, per metre of road and side (or of joint), or per
    station, as the basis says; spray litres in the unit `catalog` pays when given. A linear
    item's `thickness_of` is read from `template`, the template (variant) it belongs to."""
    if isinstance(item, CountItem):
        return float(item.per_station)
    if isinstance(item, LinearItem):
        thickness = item.thickness_m
        if item.thickness_of is not None:
            if template is None:
                raise ValueError(f"{item.code} takes its thickness from the template: pass it")
            thickness = template.layer_thickness(item.thickness_of)
        per_metre = (item.width_m or 1.0) * (thickness or 1.0) * (item.mass_kg_m or 1.0)
        return per_metre * (item.sides or 1)
    if item.basis is Basis.TRANSVERSE_JOINT:
        assert item.joint_spacing_m is not None
        return 1.0 / item.joint_spacing_m
    per_m2 = float(math.prod(getattr(item, name) for name in PARAMETERS_BY_BASIS[item.basis]))
    if item.basis is Basis.SPRAY and catalog is not None:
        per_m2 *= paid_litres_per_litre(item, catalog)
    return per_m2


def longitudinal_joints(width_m: FloatArray | float, max_slab_width_m: float) -> FloatArray:
    """How many longitudinal joints a slab of `width_m` needs: one fewer than its slabs."""
    slabs = np.ceil(np.asarray(width_m) / max_slab_width_m * (1 - _SAME_WIDTH))
    return np.maximum(slabs - 1, 0.0)


def measure(
    variants: Sequence[Template],
    group: IndexArray | None,
    measures: Measures,
    catalog: RateCatalog | None = None,
) -> QuantityBlock:
    """Net quantities of every item for features sharing one template.

    `variants` are that template with each group's overrides applied (same items, different
    parameters); `group[i]` says which variant feature i uses (None: one variant for all).
    `catalog`, when given, converts spray litres to the litres it pays (see `binders`).
    """

    def per_feature(values: Sequence[float]) -> FloatArray | float:
        if group is None:
            return values[0]
        return np.asarray(values, dtype=np.float64)[group]

    length = measures.length_m
    default_width = per_feature([variant.default_width_m for variant in variants])
    width = np.where(np.isnan(measures.width_m), default_width, measures.width_m)
    surface = np.where(np.isnan(measures.area_m2), length * width, measures.area_m2)
    items = variants[0].items
    # overrides copy only the items they change: compute each distinct item's factor once
    # (an item taking a layer's thickness also depends on that thickness in the variant)
    factors: dict[tuple[int, float | None], float] = {}
    per_variant = []
    for variant in variants:
        row = []
        for item in variant.items:
            linked = item.thickness_of if isinstance(item, LinearItem) else None
            key = (id(item), None if linked is None else variant.layer_thickness(linked))
            if key not in factors:
                factors[key] = quantity_factor(item, catalog, variant)
            row.append(factors[key])
        per_variant.append(row)
    quantities = np.empty((len(items), len(measures)), dtype=np.float64)
    for j, item in enumerate(items):
        factor = per_feature([variant_factors[j] for variant_factors in per_variant])
        if isinstance(item, Layer):
            layer_area = surface + length * item.extra_width_m if item.extra_width_m else surface
            np.multiply(layer_area, factor, out=quantities[j])
        elif isinstance(item, LinearItem):
            along = length
            if item.max_slab_width_m is not None:
                along = length * longitudinal_joints(width, item.max_slab_width_m)
            np.multiply(along, factor, out=quantities[j])
        else:
            np.multiply(np.ceil(length / item.spacing_m), factor, out=quantities[j])
    return QuantityBlock(width_m=width, surface_m2=surface, quantities=quantities)


def order_quantities(items: Sequence[TemplateItem], net: FloatArray) -> FloatArray:
    """What to bring to site: row j of `net` (item j's net quantities) x (1 + its material
    loss); count items have none."""
    losses = np.array([getattr(item, "material_loss", 0.0) for item in items], dtype=np.float64)
    return np.asarray(net, dtype=np.float64) * (1 + losses)[:, None]
