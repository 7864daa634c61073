"""One estimate, from parsed features to a priced bill: the pipeline every edge calls.

Three steps, so the impure part (loading templates and a catalog from the store) sits between
two pure ones: `plan_features` reads each feature's own options (template, width, name,
overrides), the caller resolves the templates and catalog the plan names, and
`estimate_features` measures and prices every feature at once.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pydantic import ValidationError

from app.arrays import factorize, rows_where
from app.errors import InvalidGeometry, InvalidParameter, TakeoffError
from app.estimate.bom import BillOfMaterials, BomLine
from app.estimate.catalogs import HaulLength, RateCatalog, priced_catalog
from app.estimate.grand_total import Language, grand_total_figures
from app.estimate.haul import feature_haul_overrides, haul_of_lines
from app.estimate.materials import Haul, MaterialView, material_view
from app.estimate.overrides import Overrides
from app.estimate.plausibility import default_width_warning, plausibility_warnings
from app.estimate.pricing import PricedFeatures, price_features
from app.estimate.quantities import FloatArray, Measures
from app.estimate.templates import Template
from app.geo.arrays import LINE_TYPE_IDS, GeometryArray, is_type
from app.geo.footprint import footprints
from app.geo.measure import Measurements, measure
from app.geo.overlap import (
    MAX_OVERLAP_CHECKS,
    MIN_OVERLAP_M2,
    OverlapReport,
    PavedSurfaces,
    find_overlaps,
)
from app.geo.parse import ParsedFeatures
from app.geo.validate import MAX_WIDTH_M

OVERRIDE_PROPERTIES = tuple(name for name in Overrides.model_fields if name != "width_m")
"""Feature properties read as that feature's overrides (`thickness`, `rates`, ...)."""

IndexArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class EstimateOptions:
    """Request-level choices; each feature's properties may override them."""

    template: str
    catalog: str
    width_m: float | None = None
    dissolve: bool = False
    overrides: Overrides = field(default_factory=Overrides)
    check_overlaps: bool = True
    max_overlap_checks: int = MAX_OVERLAP_CHECKS
    max_dissolve_pairs: int | None = None
    """Pairs of distinct overlapping features one call takes apart for `dissolve` (None: any;
    a batch feeds its own `PavedSurfaces`)."""
    project_items: bool = True
    """Bill the catalog's project items (mobilisasi, SMKK, ...) once for the estimate or the
    whole batch; False for a segment that joins a larger package."""
    lang: Language = "en"
    """Language the total is written in words in (terbilang)."""


@dataclass(frozen=True)
class FeaturePlan:
    """What each feature asks for: template reference, explicit width, name, overrides."""

    templates: list[str]
    width_m: npt.NDArray[np.float64]
    names: list[str | None]
    overrides: list[Overrides | None]
    centerlines: list[shapely.Geometry | None] | None


def _is_blank(value: Any) -> bool:
    """No value: missing, null, NaN (an empty spreadsheet cell) or empty text."""
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _objects(values: Sequence[Any]) -> npt.NDArray[np.object_]:
    """One array element per value, even where a value is itself a list (`["x"]` from JSON)."""
    return np.fromiter(values, dtype=object, count=len(values))


def _template_column(
    values: Sequence[Any] | None, default: str, problems: list[TakeoffError | None]
) -> list[str]:
    if values is None:
        return [default] * len(problems)
    array = _objects(values)
    blank = pd.isna(array) | (array == "")
    if pd.api.types.infer_dtype(array[~blank], skipna=False) in ("string", "empty"):
        return np.where(blank, default, array).tolist()  # every value text or blank: no loop
    templates = []
    for index, value in enumerate(values):
        if _is_blank(value):
            templates.append(default)
        elif isinstance(value, str):
            templates.append(value)
        else:
            problems[index] = InvalidParameter(
                f"template must be a template id, got {value!r}", feature=index, field="template"
            )
            templates.append(default)
    return templates


def _width_column(
    values: Sequence[Any] | npt.NDArray[Any] | None,
    default: float | None,
    problems: list[TakeoffError | None],
) -> npt.NDArray[np.float64]:
    """Explicit widths (NaN: none); a blank cell takes the request's width."""
    count = len(problems)
    fallback = np.nan if default is None else float(default)
    if values is None:
        return np.full(count, fallback)
    array = np.asarray(values)
    if array.dtype.kind in "iuf":
        widths = array.astype(np.float64)
        not_numbers = np.zeros(count, dtype=bool)
    else:
        widths = np.full(count, np.nan)
        not_numbers = np.zeros(count, dtype=bool)
        for index, value in enumerate(array.tolist()):
            if isinstance(value, int | float) and not isinstance(value, bool):
                widths[index] = value
            elif not _is_blank(value):
                not_numbers[index] = True
    given = ~np.isnan(widths)
    with np.errstate(invalid="ignore"):
        in_range = (widths > 0) & (widths <= MAX_WIDTH_M)
    bad = not_numbers | (given & ~np.isfinite(widths)) | (given & ~in_range)
    for row in np.flatnonzero(bad).tolist():
        value = array[row].item() if isinstance(array[row], np.generic) else array[row]
        message = (
            f"width_m must be > 0 m and at most {MAX_WIDTH_M:g} m, got {value}"
            if isinstance(value, int | float | np.number) and np.isfinite(value)
            else f"width_m must be a number, got {value!r}"
        )
        problems[row] = InvalidParameter(message, feature=row, field="width_m")
    widths[~given | bad] = fallback
    return widths


def read_overrides(
    given: Mapping[str, Any], feature: int | None = None, prefix: tuple[str, ...] = ()
) -> Overrides:
    """Overrides from request data; a bad value names its field (`thickness.AC-WC`)."""
    try:
        return Overrides.model_validate(given)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in (*prefix, *error["loc"]))
        raise InvalidParameter(error["msg"], feature=feature, field=where) from exc


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


@dataclass(frozen=True)
class ColumnPlan:
    """A plan and, per feature, the problem that stops it being estimated (None: none)."""

    plan: FeaturePlan
    problems: list[TakeoffError | None]


def plan_columns(
    count: int,
    options: EstimateOptions,
    *,
    template: Sequence[Any] | None = None,
    width_m: Sequence[Any] | npt.NDArray[Any] | None = None,
    name: Sequence[Any] | None = None,
    overrides: Mapping[str, Sequence[Any]] | None = None,
    centerline: Sequence[Any] | None = None,
) -> ColumnPlan:
    """Plan features given as columns (one value per feature; None or blank: not given).

    Never raises for one feature's values: each bad value becomes that feature's problem, a
    domain error naming the feature and the field, so a batch can report every bad row.
    `overrides` maps override names (`thickness`, `rates`, ...) to columns of values.
    """
    problems: list[TakeoffError | None] = [None] * count
    templates = _template_column(template, options.template, problems)
    widths = _width_column(width_m, options.width_m, problems)
    names: list[str | None] = [None] * count
    if name is not None:
        array = _objects(name)
        blank = pd.isna(array) | (array == "")
        if pd.api.types.infer_dtype(array[~blank], skipna=False) in ("string", "empty"):
            array[blank] = None
            names = array.tolist()
        else:
            names = [None if _is_blank(v) else str(v) for v in name]
    own: list[Overrides | None] = [None] * count
    if overrides:
        columns = {key: values for key, values in overrides.items() if key in OVERRIDE_PROPERTIES}
        given_rows = np.zeros(count, dtype=bool)
        for values in columns.values():
            given_rows |= ~np.fromiter((_is_blank(v) for v in values), dtype=bool, count=count)
        for index in np.flatnonzero(given_rows).tolist():
            given = {k: v[index] for k, v in columns.items() if not _is_blank(v[index])}
            try:
                own[index] = read_overrides(given, index)
            except TakeoffError as exc:
                problems[index] = problems[index] or exc
    centerlines: list[shapely.Geometry | None] = [None] * count
    if centerline is not None:
        for index, value in enumerate(centerline):
            if value is not None:
                try:
                    centerlines[index] = _centerline(value, index)
                except TakeoffError as exc:
                    problems[index] = problems[index] or exc
    plan = FeaturePlan(
        templates=templates,
        width_m=widths,
        names=names,
        overrides=own,
        centerlines=centerlines if any(c is not None for c in centerlines) else None,
    )
    return ColumnPlan(plan, problems)


def plan_features(features: ParsedFeatures, options: EstimateOptions) -> FeaturePlan:
    """Each feature's template, explicit width (NaN: none), name, overrides and centerline.

    Raises the first feature's problem (an API request is answered as a whole).
    """
    properties = features.properties

    def column(key: str) -> list[Any] | None:
        if not any(key in row for row in properties):
            return None
        return [row.get(key) for row in properties]

    present = {key for row in properties for key in row}
    planned = plan_columns(
        len(properties),
        options,
        template=column("template"),
        width_m=column("width_m"),
        name=column("name"),
        overrides={
            key: [row.get(key) for row in properties]
            for key in OVERRIDE_PROPERTIES
            if key in present
        },
        centerline=column("centerline"),
    )
    for problem in planned.problems:
        if problem is not None:
            raise problem
    return planned.plan


@dataclass(frozen=True)
class EstimateResult:
    """Everything an estimate produced, ready for any output format."""

    options: EstimateOptions
    features: ParsedFeatures
    plan: FeaturePlan
    measured: MeasuredFeatures
    bill: BillOfMaterials
    warnings: list[str]
    haul: Mapping[tuple[str, Decimal], list[HaulLength]] = field(default_factory=dict)
    """The haul distances L that priced each (item code, unit rate) of hauled items."""
    materials: MaterialView = field(default_factory=MaterialView)

    @property
    def measurements(self) -> Measurements:
        """What the geometry of each feature says."""
        return self.measured.measurements

    @property
    def surfaces(self) -> GeometryArray:
        """The paved surface of each feature (`MeasuredFeatures.surfaces`)."""
        return self.measured.surfaces

    def feature_warnings(self, index: int) -> list[str]:
        """Warnings about one feature: from reading it and from measuring it."""
        return [*self.features.warnings[index], *self.measurements.warnings[index]]

    def to_dict(self) -> dict[str, Any]:
        """The JSON answer of `POST /estimates` (identical for identical input), built once
        however many times it is asked for (answering and saving both need it)."""
        return self._answer

    @cached_property
    def _answer(self) -> dict[str, Any]:
        bill = self.bill.to_dict(features=False)
        items = [
            self._line(line, answer)
            for line, answer in zip(self.bill.items, bill["items"], strict=True)
        ]
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
                    "items": self.bill.feature_line_dicts(index, items),
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
            "vat_label": bill["vat_label"],
            "totals": {
                **bill["totals"],
                **grand_total_figures(
                    self.bill.totals.total,
                    self.bill.rounding_unit,
                    self.options.lang,
                    self.bill.currency,
                ),
            },
            "divisions": bill["divisions"],
            "items": items,
            "features": features,
            "materials": self.materials.to_list(),
            "warnings": all_warnings,
        }

    def _line(self, line: BomLine, answer: dict[str, Any]) -> dict[str, Any]:
        """An aggregated line's JSON form `answer`; a hauled item's also says the L it was
        priced with and where that L came from (`haul_from`: request, network, straight-line
        or catalog), which its features' lines repeat."""
        lengths = self.haul.get((line.code, line.unit_rate))
        if lengths:
            kms = [float(length.km) for length in lengths]
            origins = [length.origin for length in lengths]
            answer["haul_km"] = kms if len(kms) > 1 else kms[0]
            answer["haul_from"] = origins if len(origins) > 1 else origins[0]
        return answer


@dataclass(frozen=True)
class MeasuredFeatures:
    """What the geometry says (`measurements`), the measures to price, and the surfaces."""

    measurements: Measurements
    measures: Measures
    geometries: GeometryArray
    widths_m: npt.NDArray[np.float64]
    """The width each feature was measured with (given, else implied)."""
    warnings: list[str]
    checked_surfaces: GeometryArray | None = None
    """The surfaces, where the overlap check made them."""

    @cached_property
    def surfaces(self) -> GeometryArray:
        """Polygons as drawn and lines as their footprints (about 0.3 ms a line): made only
        when overlaps are checked or taken off, or an estimate is saved."""
        if self.checked_surfaces is not None:
            return self.checked_surfaces
        return footprints(self.geometries, self.widths_m)


def measure_features(
    geometries: GeometryArray,
    plan: FeaturePlan,
    options: EstimateOptions,
    templates: Mapping[str, Template],
) -> MeasuredFeatures:
    """Measure every (valid) feature: what the geometry says, and the measures to price.

    Surfaces are polygons as drawn and lines as footprints; where they overlap a warning says
    so (the first pairs one by one, then how many in all). Taking overlaps off (`dissolve`)
    happens once it is known which features are priced (`estimate_chunk`).
    """
    explicit = ~np.isnan(plan.width_m)
    implied, template_default = _implied_widths(plan, options, templates)
    widths = np.where(explicit, plan.width_m, implied)
    measured = measure(
        geometries, width_m=widths, width_explicit=explicit, centerlines=plan.centerlines
    )
    surfaces, warnings = None, []
    if options.check_overlaps and len(geometries) > 1:  # one feature overlaps nothing
        surfaces = footprints(geometries, widths)
        found = find_overlaps(surfaces, checks=options.max_overlap_checks)
        warnings = overlap_warnings(found, options.dissolve)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_width = np.where(measured.length_m > 0, measured.area_m2 / measured.length_m, widths)
    measures = Measures.from_columns(
        measured.length_m, width_m=mean_width, area_m2=measured.area_m2
    )
    _add_input_warnings(
        measured, geometries, plan, templates, mean_width, ~explicit & template_default
    )
    return MeasuredFeatures(measured, measures, geometries, widths, warnings, surfaces)


def _add_input_warnings(
    measured: Measurements,
    geometries: GeometryArray,
    plan: FeaturePlan,
    templates: Mapping[str, Template],
    mean_width: npt.NDArray[np.float64],
    template_default: npt.NDArray[np.bool_],
) -> None:
    """Each feature's warnings about what it was priced with: a line that took its template's
    default width, and measures a road does not plausibly have."""
    line = is_type(shapely.get_type_id(geometries), LINE_TYPE_IDS)
    for index in rows_where(line & template_default):
        reference = plan.templates[index]
        measured.warnings[index].append(
            default_width_warning(templates[reference].default_width_m, reference)
        )
    codes, references = factorize(np.asarray(plan.templates, dtype=object))
    ranges = np.array([templates[reference].plausible_width_m for reference in references])
    found = plausibility_warnings(
        measured.length_m,
        measured.area_m2,
        mean_width,
        polygon=~line,
        width_range_m=ranges.reshape(-1, 2)[codes],
    )
    for index, extra in found.items():
        measured.warnings[index].extend(extra)


@dataclass(frozen=True)
class ChunkEstimate:
    """A chunk of features estimated: the bill of those priced and every other one's problem.

    `rows` are the features measured (all but those skipped), `measured` their measures (in
    the order of `rows`); bill feature k is feature `priced[k]`; `problems[i]` says why
    feature i was not priced (None: priced, or skipped by the caller).
    """

    rows: IndexArray
    measured: MeasuredFeatures
    bill: BillOfMaterials
    priced: IndexArray
    problems: list[TakeoffError | None]

    def first_problem(self) -> TakeoffError | None:
        """The problem of the first feature that has one."""
        return next((problem for problem in self.problems if problem is not None), None)


def estimate_chunk(
    geometries: GeometryArray,
    plan: FeaturePlan,
    options: EstimateOptions,
    templates: Mapping[str, Template],
    catalog: RateCatalog,
    *,
    skip: npt.NDArray[np.bool_] | None = None,
    paved: PavedSurfaces | None = None,
    project_items: bool = False,
) -> ChunkEstimate:
    """Measure and price every feature of a chunk not in `skip`, in one pass; what cannot be
    priced gets its problem, the rest go into the bill, with the catalog's project items
    where `project_items` (an estimate that is its own package; a batch bills them once for
    the whole file).

    With `dissolve`, each priced feature is charged only for the part no earlier priced
    feature paves: earlier in this chunk, or in the earlier chunks `paved` has seen.
    """
    count = len(geometries)
    catalog, plan = priced_for_haul(catalog, plan, options, templates)
    if skip is None:
        rows, chosen = np.arange(count), plan
        measured = measure_features(geometries, plan, options, templates)
    else:
        rows = np.flatnonzero(~skip)
        chosen = take_plan(plan, rows)
        measured = measure_features(geometries[rows], chosen, options, templates)
    problems: list[TakeoffError | None] = [None] * count
    priced = _price(measured.measures, chosen, options, templates, catalog, project_items)
    _place(priced.problems, rows, problems)
    which, bill = priced.priced, priced.bill
    if options.dissolve and which.size:
        paved = paved or PavedSurfaces(max_pairs=options.max_dissolve_pairs)
        before = paved.pave(measured.surfaces[which])
        notes = measured.measurements.warnings
        for position in np.flatnonzero(before > MIN_OVERLAP_M2).tolist():
            notes[int(which[position])].append(
                f"{before[position]:.2f} m2 of it is paved by earlier features and not "
                "charged again (dissolve)"
            )
        again = _price(
            _dissolved(measured.measures.take(which), before),
            take_plan(chosen, which),
            options,
            templates,
            catalog,
            project_items,
        )
        _place(again.problems, rows[which], problems)
        which, bill = which[again.priced], again.bill
    return ChunkEstimate(rows, measured, bill, rows[which], problems)


def priced_for_haul(
    catalog: RateCatalog,
    plan: FeaturePlan,
    options: EstimateOptions,
    templates: Mapping[str, Template],
) -> tuple[RateCatalog, FeaturePlan]:
    """The catalog priced at the request's haul distance, and each feature's own haul
    distance as rates for its hauled items (`app.estimate.haul`)."""
    catalog = priced_catalog(catalog, options.overrides.haul_km)
    if not catalog.hauled_items() or all(own is None for own in plan.overrides):
        return catalog, plan
    own = feature_haul_overrides(plan.overrides, plan.templates, templates, catalog)
    return catalog, replace(plan, overrides=own)


def _price(
    measures: Measures,
    plan: FeaturePlan,
    options: EstimateOptions,
    templates: Mapping[str, Template],
    catalog: RateCatalog,
    project_items: bool,
) -> PricedFeatures:
    return price_features(
        measures,
        plan.templates,
        templates=templates,
        catalog=catalog,
        overrides=options.overrides,
        feature_overrides=none_if_all_none(plan.overrides),
        project_items=project_items,
    )


def _dissolved(measures: Measures, paved_m2: FloatArray) -> Measures:
    """The measures with the part already paved taken off each surface (possibly all of it)."""
    area = np.where(
        np.isnan(measures.area_m2), measures.length_m * measures.width_m, measures.area_m2
    )
    area = np.maximum(area - paved_m2, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        width = np.where(measures.length_m > 0, area / measures.length_m, measures.width_m)
    return Measures(measures.length_m, width, area)


def _place(
    found: Sequence[TakeoffError | None], features: IndexArray, problems: list[TakeoffError | None]
) -> None:
    """Put the engine's problems of `features` (numbered from 0) at their places in the chunk,
    naming the chunk's feature numbers (a problem shared by many features is renamed once)."""
    renamed: dict[int, TakeoffError] = {}
    for position, problem in enumerate(found):
        if problem is None:
            continue
        if id(problem) not in renamed:
            where = problem.where
            if "feature" in where and int(features[where["feature"]]) != where["feature"]:
                problem = copy.copy(problem)
                problem.where = {**where, "feature": int(features[where["feature"]])}
            renamed[id(found[position])] = problem
        problems[int(features[position])] = renamed[id(found[position])]


def estimate_features(
    features: ParsedFeatures,
    plan: FeaturePlan,
    options: EstimateOptions,
    templates: Mapping[str, Template],
    catalog: RateCatalog,
    hauls: Mapping[str, Haul] | None = None,
) -> EstimateResult:
    """Measure every feature and price it with its template against `catalog`: one chunk
    that stops at the first feature's problem (an API request is answered as a whole).
    `hauls` are the materials' nearest sources (None: not looked up)."""
    chunk = estimate_chunk(
        features.geometries,
        plan,
        options,
        templates,
        catalog,
        project_items=options.project_items,
    )
    problem = chunk.first_problem()
    if problem is not None:
        raise problem
    materials = material_view(
        chunk.bill.items, templates.values(), catalog, options.overrides, hauls
    )
    return EstimateResult(
        options=options,
        features=features,
        plan=plan,
        measured=chunk.measured,
        bill=chunk.bill,
        warnings=[*chunk.measured.warnings, *materials.warnings],
        materials=materials,
        haul=haul_of_lines(priced_catalog(catalog, options.overrides.haul_km), plan.overrides),
    )


def overlap_warnings(report: OverlapReport, dissolve: bool) -> list[str]:
    """One warning per listed pair, then one line for the pairs past them: exact counts when
    every pair was told apart, else the range the report is sure of."""
    effect = (
        "paved once (dissolve)"
        if dissolve
        else "that part is paved twice (dissolve=true paves it once)"
    )
    warnings = [
        f"features {overlap.first} and {overlap.second} overlap by {overlap.area_m2:.2f} m2; "
        f"{effect}"
        for overlap in report.listed
    ]
    if report.exact and report.pairs > len(report.listed):
        warnings.append(
            f"{report.features:,} features overlap others; {report.pairs:,} pairs in all "
            f"(the first {len(report.listed)} listed one by one); {effect}"
        )
    elif not report.exact:
        warnings.append(
            f"at least {report.features:,} features overlap others; at least "
            f"{report.pairs:,} pairs, and up to {report.most_pairs:,} by bounding box, not "
            f"all checked one by one ({len(report.listed)} listed one by one); {effect}"
        )
    return warnings


def take_plan(plan: FeaturePlan, rows: IndexArray) -> FeaturePlan:
    """The plan of some features only."""
    picked = rows.tolist()
    return replace(
        plan,
        templates=[plan.templates[i] for i in picked],
        width_m=plan.width_m[rows],
        names=[plan.names[i] for i in picked],
        overrides=[plan.overrides[i] for i in picked],
        centerlines=None if plan.centerlines is None else [plan.centerlines[i] for i in picked],
    )


def _implied_widths(
    plan: FeaturePlan, options: EstimateOptions, templates: Mapping[str, Template]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Widths of features that gave none: their own override, the request's, or the template's;
    and which of them are the template's default."""
    codes, references = factorize(np.asarray(plan.templates, dtype=object))
    defaults = np.array([templates[reference].default_width_m for reference in references])
    widths = defaults[codes]
    template_default = np.ones(len(widths), dtype=bool)
    if options.overrides.width_m is not None:
        widths[:] = options.overrides.width_m
        template_default[:] = False
    for index, own in enumerate(plan.overrides):
        if own is not None and own.width_m is not None:
            widths[index] = own.width_m
            template_default[index] = False
    return widths, template_default


def none_if_all_none(values: Sequence[Overrides | None]) -> Sequence[Overrides | None] | None:
    """None when no feature has overrides: the engine then skips grouping features by them."""
    given = len(values) - values.count(None) if isinstance(values, list) else None
    if given is None:
        given = sum(value is not None for value in values)
    return values if given else None
