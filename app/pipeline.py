"""One estimate, from parsed features to a priced bill: the pipeline every edge calls.

Three steps, so the impure part (loading templates and a catalog from the store) sits between
two pure ones: `plan_features` reads each feature's own options (template, width, name,
overrides), the caller resolves the templates and catalog the plan names, and
`estimate_features` measures and prices every feature at once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pydantic import ValidationError

from app.errors import InvalidGeometry, InvalidParameter
from app.estimate.bom import BillOfMaterials
from app.estimate.catalogs import RateCatalog
from app.estimate.overrides import Overrides
from app.estimate.pricing import price_bill
from app.estimate.quantities import Measures
from app.estimate.templates import Template
from app.geo.measure import Measurements, measure
from app.geo.parse import ParsedFeatures

OVERRIDE_PROPERTIES = tuple(name for name in Overrides.model_fields if name != "width_m")
"""Feature properties read as that feature's overrides (`thickness`, `rates`, ...)."""


@dataclass(frozen=True)
class EstimateOptions:
    """Request-level choices; each feature's properties may override them."""

    template: str
    catalog: str
    width_m: float | None = None
    dissolve: bool = False
    overrides: Overrides = field(default_factory=Overrides)


@dataclass(frozen=True)
class FeaturePlan:
    """What each feature asks for: template reference, explicit width, name, overrides."""

    templates: list[str]
    width_m: npt.NDArray[np.float64]
    names: list[str | None]
    overrides: list[Overrides | None]
    centerlines: list[shapely.Geometry | None] | None


def _width(value: Any, feature: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidParameter(f"width_m must be a number, got {value!r}", feature=feature)
    if value <= 0:
        raise InvalidParameter(f"width_m must be > 0 m, got {value}", feature=feature)
    return float(value)


def _feature_overrides(properties: Mapping[str, Any], feature: int) -> Overrides | None:
    given = {name: properties[name] for name in OVERRIDE_PROPERTIES if name in properties}
    if not given:
        return None
    try:
        return Overrides.model_validate(given)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise InvalidParameter(f"{where}: {error['msg']}", feature=feature, field=where) from exc


def _centerline(value: Any, feature: int) -> shapely.Geometry:
    try:
        line = shapely.from_geojson(json.dumps(value)) if isinstance(value, dict) else None
    except shapely.errors.GEOSException:
        line = None
    if line is None or line.geom_type not in ("LineString", "MultiLineString") or line.is_empty:
        raise InvalidGeometry(
            "centerline must be a GeoJSON LineString or MultiLineString in lon/lat",
            feature=feature,
            field="centerline",
        )
    return line


def plan_features(features: ParsedFeatures, options: EstimateOptions) -> FeaturePlan:
    """Each feature's template, explicit width (NaN: none), name, overrides and centerline."""
    count = len(features.properties)
    templates: list[str] = []
    widths = np.full(count, np.nan)
    names: list[str | None] = []
    overrides: list[Overrides | None] = []
    centerlines: list[shapely.Geometry | None] = [None] * count
    for index, properties in enumerate(features.properties):
        template = properties.get("template") or options.template
        if not isinstance(template, str):
            raise InvalidParameter(
                f"template must be a template id, got {template!r}", feature=index
            )
        templates.append(template)
        width = properties.get("width_m", options.width_m)
        if width is not None:
            widths[index] = _width(width, index)
        name = properties.get("name")
        names.append(None if name is None else str(name))
        overrides.append(_feature_overrides(properties, index))
        if properties.get("centerline") is not None:
            centerlines[index] = _centerline(properties["centerline"], index)
    return FeaturePlan(
        templates=templates,
        width_m=widths,
        names=names,
        overrides=overrides,
        centerlines=centerlines if any(c is not None for c in centerlines) else None,
    )


@dataclass(frozen=True)
class EstimateResult:
    """Everything an estimate produced, ready for any output format."""

    options: EstimateOptions
    features: ParsedFeatures
    plan: FeaturePlan
    measurements: Measurements
    bill: BillOfMaterials
    warnings: list[str]

    def feature_warnings(self, index: int) -> list[str]:
        """Warnings about one feature: from reading it and from measuring it."""
        return [*self.features.warnings[index], *self.measurements.warnings[index]]

    def to_dict(self) -> dict[str, Any]:
        """The JSON answer of `POST /estimates` (identical for identical input)."""
        bill = self.bill.to_dict(features=False)
        features = []
        columns = self.bill.features
        for index in range(len(self.bill)):
            totals = self.bill.feature_totals(index)
            features.append(
                {
                    "index": index,
                    "id": self.features.ids[index],
                    "name": self.plan.names[index],
                    "template": self.bill.templates[columns.template[index]].to_dict(),
                    "length_m": float(columns.length_m[index]),
                    "area_m2": float(columns.area_m2[index]),
                    "mean_width_m": float(columns.width_m[index]),
                    "length_method": str(self.measurements.length_method[index]),
                    "items": [line.to_dict() for line in self.bill.feature_lines(index)],
                    "subtotal": format(totals.subtotal, "f"),
                    "overhead_profit": format(totals.overhead_profit, "f"),
                    "tax": format(totals.tax, "f"),
                    "total": format(totals.total, "f"),
                    "warnings": self.feature_warnings(index),
                }
            )
        all_warnings = list(self.warnings)
        for feature in features:
            all_warnings.extend(f"feature {feature['index']}: {w}" for w in feature["warnings"])
        return {
            "currency": bill["currency"],
            "template": bill["templates"][0] if len(bill["templates"]) == 1 else None,
            "templates": bill["templates"],
            "catalog": bill["catalog"],
            "overhead_profit_pct": bill["overhead_profit_pct"],
            "vat_pct": bill["vat_pct"],
            "totals": bill["totals"],
            "items": bill["items"],
            "features": features,
            "warnings": all_warnings,
        }


def estimate_features(
    features: ParsedFeatures,
    plan: FeaturePlan,
    options: EstimateOptions,
    templates: Mapping[str, Template],
    catalog: RateCatalog,
) -> EstimateResult:
    """Measure every feature and price it with its template against `catalog`."""
    geometries = features.geometries
    is_polygon = np.isin(shapely.get_type_id(geometries), [3, 6])
    explicit = ~np.isnan(plan.width_m)
    widths = np.where(explicit, plan.width_m, _implied_widths(plan, options, templates))
    measured = measure(
        geometries, width_m=widths, width_explicit=explicit, centerlines=plan.centerlines
    )
    mean_width = np.where(is_polygon, measured.mean_width_m, widths)
    measures = Measures.from_columns(
        measured.length_m,
        width_m=mean_width,
        area_m2=np.where(is_polygon, measured.area_m2, np.nan),
    )
    bill = price_bill(
        measures,
        plan.templates,
        templates=templates,
        catalog=catalog,
        overrides=options.overrides,
        feature_overrides=_none_if_all_none(plan.overrides),
    )
    return EstimateResult(
        options=options,
        features=features,
        plan=plan,
        measurements=measured,
        bill=bill,
        warnings=[],
    )


def _implied_widths(
    plan: FeaturePlan, options: EstimateOptions, templates: Mapping[str, Template]
) -> npt.NDArray[np.float64]:
    """Widths of features that gave none: their own override, the request's, or the template's."""
    codes, references = pd.factorize(np.asarray(plan.templates, dtype=object))
    defaults = np.array([templates[reference].default_width_m for reference in references])
    widths = defaults[codes]
    if options.overrides.width_m is not None:
        widths[:] = options.overrides.width_m
    for index, own in enumerate(plan.overrides):
        if own is not None and own.width_m is not None:
            widths[index] = own.width_m
    return widths


def _none_if_all_none(values: Sequence[Overrides | None]) -> Sequence[Overrides | None] | None:
    return None if all(value is None for value in values) else values
