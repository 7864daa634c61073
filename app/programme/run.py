"""A maintenance programme from an inventory file, in bounded memory, in two passes.

Pass one streams the inventory chunk by chunk (`app.io.sources`): each chunk is assessed,
priced and scored by `app.programme.engine`, and only a few numbers per segment are kept
(treatment, template, measures, cost, score: under 100 bytes a segment, no geometry, no
input columns), so a 100,000-segment inventory holds a few MB. The budget line needs every
score, so it is drawn once all are known. Pass two (`output_chunks`) streams the inventory
again and writes each row back with its programme columns and its priced quantities (the
segment priced again from the kept measures: the same engine, the same figures).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import shapely

from app.batch.planning import RowErrors, column_of
from app.batch.work import decode
from app.errors import InvalidInput
from app.estimate.bom import BillOfMaterials, VersionRef
from app.estimate.catalogs import RateCatalog
from app.estimate.templates import Template
from app.geo.measure import measure
from app.geo.validate import MAX_WIDTH_M, find_problems
from app.io.rows import OutputChunk, decimal_array, quantity_array, result_table
from app.io.sources import Source, SourceChunk
from app.programme.complaints import count_near
from app.programme.engine import (
    CONDITION_FROM,
    NOT_PRICED,
    BudgetLine,
    Language,
    PricedSegments,
    assess,
    budget_line,
    minor_units,
    money,
    price_segments,
    priority_scores,
    templates_of,
    treated_areas,
)
from app.programme.inventory import column_map, read_columns
from app.programme.rules import CONDITIONS, NO_WORKS, RuleSet

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
STATUS = ("funded", "not funded", "no works", "error")
_POLYGON_TYPES = (3, 6)


@dataclass(frozen=True)
class ProgrammeRequest:
    """What a programme is made with: rules, prices, templates, the budget (None: no limit),
    the inventory's own column names, complaint points (lon/lat), the reasons' language."""

    rules: RuleSet
    catalog: RateCatalog
    templates: Mapping[str, Template]
    budget: Decimal | None = None
    columns: Mapping[str, str] | None = None
    complaints: npt.NDArray[np.float64] | None = None
    lang: Language = "en"


@dataclass
class _Parts:
    """Per-segment columns of each chunk, joined once the inventory has been read."""

    columns: dict[str, list[npt.NDArray[Any]]] = field(default_factory=dict)

    def add(self, **values: npt.NDArray[Any]) -> None:
        for name, value in values.items():
            self.columns.setdefault(name, []).append(value)

    def joined(self) -> dict[str, npt.NDArray[Any]]:
        return {name: np.concatenate(parts) for name, parts in self.columns.items()}


@dataclass(frozen=True)
class Programme:
    """Every segment's treatment, measures, cost, score and budget status, with the data
    versions it was made with. Columns are indexed by input row (0-based)."""

    request: ProgrammeRequest
    segments: dict[str, npt.NDArray[Any]]
    messages: dict[int, str]
    line: BudgetLine

    @property
    def rows(self) -> int:
        """Rows read."""
        return len(self.segments["cost"])

    @cached_property
    def failed(self) -> npt.NDArray[np.bool_]:
        """Rows with an error."""
        failed = np.zeros(self.rows, dtype=bool)
        failed[list(self.messages)] = True
        return failed

    @cached_property
    def statuses(self) -> npt.NDArray[np.int64]:
        """Each row's index in `STATUS`."""
        cost = self.segments["cost"]
        status = np.where(self.line.funded, 0, np.where(cost > 0, 1, 2))
        return np.where(self.failed, 3, status)

    def template_refs(self) -> list[VersionRef]:
        """The templates the programme priced with, by slug."""
        used = {slug for slug in self.segments["template"].tolist() if slug is not None}
        return [VersionRef(slug, self.request.templates[slug].version) for slug in sorted(used)]

    def _money(self, minor: int) -> str:
        return format(money(minor, self.request.catalog.currency_exponent), "f")

    def summary(self) -> dict[str, Any]:
        """Totals, the budget line, and totals per kecamatan and per treatment (JSON-ready)."""
        request, line = self.request, self.line
        status = self.statuses
        catalog = request.catalog
        totals = {
            "segments": self.rows,
            "errors": int((status == 3).sum()),
            "no_works": int((status == 2).sum()),
            "funded_segments": int((status == 0).sum()),
            "unfunded_segments": int((status == 1).sum()),
            "needed": self._money(line.needed),
            "funded": self._money(line.funded_total),
            "funding_gap": self._money(line.gap),
            "budget_left": None if line.left is None else self._money(line.left),
        }
        return {
            "rule_set": VersionRef(request.rules.slug, request.rules.version).to_dict(),
            "catalog": VersionRef(catalog.slug, catalog.version).to_dict(),
            "templates": [ref.to_dict() for ref in self.template_refs()],
            "currency": catalog.currency,
            "budget": None if request.budget is None else format(request.budget, "f"),
            "totals": totals,
            "by_kecamatan": self._groups("kecamatan", status),
            "by_treatment": self._groups("treatment", status),
            "first_errors": [self.messages[row] for row in sorted(self.messages)[:10]],
        }

    def _groups(self, name: str, status: npt.NDArray[np.int64]) -> list[dict[str, Any]]:
        frame = pd.DataFrame(
            {
                "key": pd.Series(self.segments[name], dtype=object).fillna("-"),
                "length": self.segments["length_m"],
                "cost": np.maximum(self.segments["cost"], 0),
                "funded": np.where(status == 0, self.segments["cost"], 0),
                "counted": status != 3,
            }
        )
        frame = frame[frame["counted"]]
        groups = frame.groupby("key", sort=True)
        sums = groups[["length", "cost", "funded"]].sum()
        sizes = groups.size()
        return [
            {
                name: key,
                "segments": int(sizes[key]),
                "length_m": round(float(sums.loc[key, "length"]), 2),
                "cost": self._money(int(sums.loc[key, "cost"])),
                "funded": self._money(int(sums.loc[key, "funded"])),
                "not_funded": self._money(
                    int(sums.loc[key, "cost"]) - int(sums.loc[key, "funded"])
                ),
            }
            for key in sums.index.tolist()
        ]

    @cached_property
    def item_codes(self) -> list[str]:
        """Items given a quantity and an amount column, the same in every chunk: those of
        every template the rule set may price with, in the catalog's order."""
        request = self.request
        used = {
            item.code
            for slug in request.rules.templates()
            if slug in request.templates
            for item in request.templates[slug].items
        }
        return [code for code in request.catalog.items if code in used]

    def reprice(self, rows: npt.NDArray[np.intp]) -> PricedSegments:
        """The engine's pricing of some segments again, from the kept measures."""
        seg = self.segments
        return price_segments(
            seg["template"][rows],
            seg["length_m"][rows],
            seg["width_m"][rows],
            seg["treated_m2"][rows],
            self.request.templates,
            self.request.catalog,
        )

    def funded_bills(self) -> dict[str, BillOfMaterials]:
        """The bill of the funded works of each kecamatan (stated volumes priced once)."""
        kecamatan = pd.Series(self.segments["kecamatan"], dtype=object).fillna("-")
        funded = np.flatnonzero(self.line.funded)
        bills = {}
        for key, rows in pd.Series(funded).groupby(kecamatan.iloc[funded].to_numpy()):
            bills[str(key)] = self.reprice(rows.to_numpy()).bill
        return dict(sorted(bills.items()))

    def result_columns(self, start: int, stop: int) -> pa.Table:
        """The programme columns and priced quantities of rows `start` to `stop`."""
        seg, rules, request = self.segments, self.request.rules, self.request
        rows = np.arange(start, stop)
        priced = self.reprice(rows)
        count = stop - start
        messages = [self.messages.get(row) for row in rows.tolist()]
        base = result_table(
            priced.bill,
            priced.priced,
            np.full(len(priced.priced), "", dtype=object),
            [[]] * count,
            messages,
            codes=self.item_codes,
            catalog=request.catalog,
        )
        base = base.drop_columns(
            ["length_method", "warnings", "status", "error", "length_m", "area_m2", "mean_width_m"]
        )
        status = self.statuses[start:stop]
        treatment = seg["treatment"][start:stop]
        handling = [
            None
            if t is None or t == NO_WORKS
            else getattr(rules.treatments[t].handling, request.lang)
            for t in treatment.tolist()
        ]
        condition = seg["condition"][start:stop]
        condition_from = seg["condition_from"][start:stop]
        road_class = seg["road_class"][start:stop]
        classes = list(rules.road_classes)
        exponent = request.catalog.currency_exponent
        cost, score = seg["cost"][start:stop], seg["score"][start:stop]
        columns: dict[str, pa.Array] = {
            "treatment": pa.array(treatment.tolist(), pa.string()),
            "handling": pa.array(handling, pa.string()),
            "condition": pa.array(
                [CONDITIONS[c] if c >= 0 else None for c in condition.tolist()], pa.string()
            ),
            "condition_from": pa.array(
                [CONDITION_FROM[c] if c >= 0 else None for c in condition_from.tolist()],
                pa.string(),
            ),
            "road_class": pa.array(
                [classes[k] if k >= 0 else None for k in road_class.tolist()], pa.string()
            ),
            "complaints": pa.array(seg["complaints"][start:stop]),
            "length_m": quantity_array(seg["length_m"][start:stop], "m"),
            "width_m": quantity_array(seg["width_m"][start:stop], "m"),
            "road_area_m2": quantity_array(seg["road_m2"][start:stop], "m2"),
            "treated_area_m2": quantity_array(
                np.where(cost > 0, seg["treated_m2"][start:stop], np.nan), "m2"
            ),
        }
        columns.update({name: base.column(name) for name in base.column_names})
        columns.update(
            {
                "cost": decimal_array(np.where(cost == NOT_PRICED, -1, cost), exponent),
                "cost_per_m2": quantity_array(self._cost_per_m2(start, stop), "m2"),
                "priority": pa.array(score, mask=np.isnan(score)),
                "rank": pa.array(self.line.rank[start:stop], mask=self.line.rank[start:stop] == 0),
                "funded": pa.array(self.line.funded[start:stop]),
                "status": pa.array([STATUS[s] for s in status.tolist()], pa.string()),
                "reason": pa.array(self.reasons(start, stop), pa.string()),
                "error": pa.array(messages, pa.string()),
            }
        )
        return pa.table(columns)

    def _cost_per_m2(self, start: int, stop: int) -> FloatArray:
        seg = self.segments
        cost = seg["cost"][start:stop]
        per_m2 = (
            money_float(cost, self.request.catalog.currency_exponent) / seg["road_m2"][start:stop]
        )
        return np.where(cost >= 0, per_m2, np.nan)

    def reasons(self, start: int, stop: int) -> list[str | None]:
        """Why each segment gets its treatment and its place, in the request's language."""
        seg, request = self.segments, self.request
        rules, lang = request.rules, request.lang
        english = lang == "en"
        classes = list(rules.road_classes)
        per_m2 = self._cost_per_m2(start, stop)
        out: list[str | None] = []
        for offset, row in enumerate(range(start, stop)):
            if row in self.messages:
                out.append(None)
                continue
            condition = CONDITIONS[seg["condition"][row]]
            source = CONDITION_FROM[seg["condition_from"][row]]
            if source != "kondisi":
                value = seg[source][row]
                condition = f"{condition} ({source.upper()} {value:g})"
            treatment = seg["treatment"][row]
            if treatment == NO_WORKS:
                works = "no works" if english else "tidak ada pekerjaan"
            else:
                named = rules.treatments[treatment]
                works = f"{getattr(named.name, lang)} ({getattr(named.handling, lang)})"
            if seg["overridden"][row]:
                works += " (chosen in penanganan)" if english else " (dipilih di kolom penanganan)"
            count = int(seg["complaints"][row])
            distance = f"{rules.complaints.distance_m:g} m"
            parts = [
                f"{condition} -> {works}",
                f"road class {classes[seg['road_class'][row]]}"
                if english
                else f"fungsi {classes[seg['road_class'][row]]}",
                f"{count} complaints within {distance}"
                if english
                else f"{count} aduan dalam {distance}",
            ]
            if seg["cost"][row] > 0:
                figure = f"{per_m2[offset]:,.0f} {request.catalog.currency}"
                parts.append(f"{figure} per m2 of road" if english else f"{figure} per m2 jalan")
            parts.append(
                f"priority {seg['score'][row]:.2f}"
                if english
                else f"prioritas {seg['score'][row]:.2f}"
            )
            out.append("; ".join(parts))
        return out


def money_float(minor: IntArray, exponent: int) -> FloatArray:
    """Minor units as currency-unit floats, for ratios only (never for a money figure)."""
    return minor.astype(np.float64) / 10**exponent


def assess_chunk(
    chunk: SourceChunk,
    source: Source,
    request: ProgrammeRequest,
    headers: Mapping[str, str],
    first_row: int,
) -> tuple[dict[str, npt.NDArray[Any]], dict[int, str]]:
    """One chunk of the inventory: its per-segment columns and its rows' problems."""
    count = len(chunk)
    errors = RowErrors(count, first_row)
    for index, reason in chunk.broken.items():
        errors.add(index, None, reason)
    columns = read_columns(chunk.attributes, headers, source.decimal, errors)
    numbers = columns.numbers
    length, width = numbers["panjang"].copy(), numbers["lebar"].copy()
    road_m2 = np.full(count, np.nan)
    geometries = None
    lebar = headers.get("lebar", "lebar")
    bad_width = ~np.isnan(width) & ~((width > 0) & (width <= MAX_WIDTH_M))
    for row in np.flatnonzero(bad_width).tolist():
        errors.add(row, lebar, f"lebar must be > 0 m and at most {MAX_WIDTH_M:g} m")
    if source.geometry_column:
        features = decode(chunk.geometry, source.encoding, source.crs)
        for index, problem in enumerate(find_problems(features)):
            if problem is not None:
                errors.add(index, source.geometry_column, problem)
        geometries = features.geometries
        polygon = np.isin(shapely.get_type_id(geometries), _POLYGON_TYPES)
        for row in np.flatnonzero(~polygon & np.isnan(width)).tolist():
            errors.add(row, lebar, "lebar is needed for a line")
        rows = np.flatnonzero(~errors.failed)
        measured = measure(
            geometries[rows],
            width_m=np.where(np.isnan(width[rows]), 1.0, width[rows]),
            width_explicit=~np.isnan(width[rows]),
        )
        length[rows], road_m2[rows] = measured.length_m, measured.area_m2
        width[rows] = measured.mean_width_m
    else:
        panjang = headers.get("panjang", "panjang")
        for row in np.flatnonzero(np.isnan(length)).tolist():
            errors.add(row, panjang, "panjang is needed for a row without geometry")
        for row in np.flatnonzero(~np.isnan(length) & ~(length > 0)).tolist():
            errors.add(row, panjang, "panjang must be > 0 m")
        for row in np.flatnonzero(np.isnan(width)).tolist():
            errors.add(row, lebar, "lebar is needed")
        road_m2 = length * width
    rules = request.rules
    assessment = assess(columns, rules, headers, errors)
    complaints = np.zeros(count, dtype=np.int64)
    if geometries is not None and request.complaints is not None:
        complaints = count_near(geometries, request.complaints, rules.complaints.distance_m)
    treated = treated_areas(road_m2, assessment, complaints, rules.complaints.patch_m2)
    slugs = templates_of(assessment, rules)
    slugs[errors.failed] = None
    priced = price_segments(slugs, length, width, treated, request.templates, request.catalog)
    for row, unpriced in enumerate(priced.problems):
        if unpriced is not None:
            errors.add(row, column_of(unpriced), unpriced.detail)
    failed = errors.failed
    cost = np.where(failed, NOT_PRICED, np.where(pd.isna(slugs), 0, priced.cost))
    exponent = request.catalog.currency_exponent
    with np.errstate(invalid="ignore", divide="ignore"):
        per_m2 = np.where(cost >= 0, money_float(cost, exponent) / road_m2, np.nan)
    score = priority_scores(
        np.where(failed, -1, assessment.condition),
        np.where(failed, -1, assessment.road_class),
        complaints,
        per_m2,
        rules,
    )
    treatment = assessment.treatment.copy()
    treatment[failed] = None
    slugs[failed] = None
    texts = columns.texts
    segments = {
        "kecamatan": texts["kecamatan"],
        "treatment": treatment,
        "overridden": pd.notna(texts["penanganan"]) & ~failed,
        "template": slugs,
        "condition": np.where(failed, -1, assessment.condition),
        "condition_from": np.where(failed, -1, assessment.condition_from),
        "road_class": np.where(failed, -1, assessment.road_class),
        "iri": numbers["iri"],
        "pci": numbers["pci"],
        "complaints": complaints,
        "length_m": length,
        "width_m": width,
        "road_m2": road_m2,
        "treated_m2": treated,
        "cost": cost,
        "score": score,
    }
    messages = {
        first_row - 1 + index: message
        for index, message in enumerate(errors.messages)
        if message is not None
    }
    return segments, messages


def make_programme(
    source: Source,
    request: ProgrammeRequest,
    progress: Callable[[int], None] | None = None,
) -> Programme:
    """Pass one: assess, price and score every row, then draw the budget line."""
    headers = column_map(source.columns, request.columns)
    if not source.geometry_column and "panjang" not in headers:
        raise InvalidInput(
            f"{source.path.name} has neither geometry nor a panjang column; its columns: "
            f"{', '.join(source.columns)}",
            field="columns",
        )
    parts = _Parts()
    messages: dict[int, str] = {}
    row = 1
    for chunk in source.chunks():
        segments, found = assess_chunk(chunk, source, request, headers, row)
        parts.add(**segments)
        messages.update(found)
        row += len(chunk)
        if progress is not None:
            progress(len(chunk))
    segments = parts.joined() if parts.columns else _empty()
    exponent = request.catalog.currency_exponent
    budget = None if request.budget is None else minor_units(request.budget, exponent)
    line = budget_line(segments["cost"], segments["score"], budget)
    return Programme(request, segments, messages, line)


def _empty() -> dict[str, npt.NDArray[Any]]:
    objects = ("kecamatan", "treatment", "template")
    ints = ("condition", "condition_from", "road_class", "complaints", "cost")
    floats = ("iri", "pci", "length_m", "width_m", "road_m2", "treated_m2", "score")
    empty: dict[str, npt.NDArray[Any]] = {name: np.empty(0, dtype=object) for name in objects}
    empty.update({name: np.empty(0, dtype=np.int64) for name in ints})
    empty.update({name: np.empty(0) for name in floats})
    empty["overridden"] = np.empty(0, dtype=bool)
    return empty


def output_chunks(
    programme: Programme, source: Source, want_geometry: bool
) -> Iterator[OutputChunk]:
    """Pass two: each chunk of the inventory with its programme columns (and geometry)."""
    start = 0
    failed = programme.failed
    for chunk in source.chunks():
        stop = start + len(chunk)
        results = programme.result_columns(start, stop)
        taken = set(chunk.attributes.column_names)
        results = results.rename_columns(
            [f"{name}_result" if name in taken else name for name in results.column_names]
        )
        wkb = None
        if want_geometry and source.geometry_column:
            geometries = decode(chunk.geometry, source.encoding, source.crs).geometries
            wkb = np.asarray(shapely.to_wkb(geometries), dtype=object)
        yield OutputChunk(chunk.attributes, results, wkb, failed[start:stop])
        start = stop
