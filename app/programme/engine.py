"""The programme core: inventory columns -> treatment, priced works, priority, budget line.

Pure and vectorised like the estimate core: no files, no store, no loop over segments on the
hot path (rules are looked up once per distinct pavement, condition and road class, not per
row). Works are priced by `app.estimate.pricing.price_features`, the engine every estimate
uses, so a segment's bill is exactly the estimate of its template on its measures.

Per segment:
- condition class: the survey's `kondisi` (aliases allowed), else the IRI band, else the PCI
  band of the rule set;
- treatment: `penanganan` when given (priced on the whole road), else the first choice of the
  rule set matching its pavement, condition and road class;
- treated area: the whole road (length x width) or the choice's share of it; for a choice that
  takes the area from complaints, complaints x the patch area each stands for (at most the
  road), where the segment has any;
- priority 0-100: the weighted condition, road-class, complaint and cost-per-m2 scores;
- budget: segments with works, highest priority first (then input order), are funded while
  the running total of their costs stays within the budget; the first that does not fit
  draws the budget line and every later one is not funded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from app.batch.planning import RowErrors
from app.errors import TakeoffError
from app.estimate.bom import BillOfMaterials
from app.estimate.catalogs import RateCatalog
from app.estimate.money import from_minor
from app.estimate.pricing import price_features
from app.estimate.quantities import Measures
from app.estimate.templates import Template
from app.programme.inventory import InventoryColumns
from app.programme.rules import CONDITIONS, NO_WORKS, RuleSet

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]
Language = Literal["en", "id"]
CONDITION_FROM = ("kondisi", "iri", "pci")
NOT_PRICED = -1
"""Cost of a segment that is not priced (an error, or no works)."""


def _normalised(values: ObjectArray) -> ObjectArray:
    """Codes as written, in one form: lower case (already), `_` and `-` as spaces, one space."""
    series = pd.Series(values, dtype=object)
    text = series.str.replace(r"[_\-\s]+", " ", regex=True).str.strip()
    return np.asarray(text.where(series.notna(), None), dtype=object)


def _lookup(values: ObjectArray, table: Mapping[str, int]) -> IntArray:
    """Index of each value in `table` (-1: not given or not there), one lookup per distinct
    value."""
    codes, uniques = pd.factorize(values)
    found = np.array([table.get(value, -1) for value in uniques] + [-1], dtype=np.int64)
    return found[codes]


@dataclass(frozen=True)
class Assessment:
    """What the rules say of each segment of a chunk (-1 / None where a row has an error)."""

    pavement: IntArray
    condition: IntArray
    condition_from: IntArray
    road_class: IntArray
    treatment: ObjectArray
    share: FloatArray
    from_complaints: BoolArray


def assess(
    columns: InventoryColumns,
    rules: RuleSet,
    headers: Mapping[str, str],
    errors: RowErrors,
) -> Assessment:
    """Condition class, road class and treatment of every row; a value the rules do not know
    is its row's problem, naming the input column (`headers`: field -> column)."""
    texts, numbers = columns.texts, columns.numbers

    def problem(rows: BoolArray, field: str, reason: str | Callable[[int], str]) -> None:
        for row in np.flatnonzero(rows).tolist():
            errors.add(
                row, headers.get(field, field), reason if isinstance(reason, str) else reason(row)
            )

    pavement_words = {
        word: index for index, words in enumerate(rules.pavements.values()) for word in words
    }
    pavement_words.update({name: index for index, name in enumerate(rules.pavements)})
    written = _normalised(texts["perkerasan"])
    pavement = _lookup(written, pavement_words)
    known_pavements = ", ".join(rules.pavements)
    problem(pd.isna(written), "perkerasan", f"no pavement type: give one of {known_pavements}")
    problem(
        (pavement < 0) & pd.notna(written),
        "perkerasan",
        lambda row: f"unknown pavement {written[row]!r}; known: {known_pavements}",
    )

    condition_words = {name: index for index, name in enumerate(CONDITIONS)}
    condition_words.update(
        {alias: CONDITIONS.index(name) for alias, name in rules.condition_aliases.items()}
    )
    kondisi = _normalised(texts["kondisi"])
    condition = _lookup(kondisi, condition_words)
    stated = pd.notna(kondisi)
    problem(
        stated & (condition < 0),
        "kondisi",
        lambda row: f"unknown condition {kondisi[row]!r}; known: {', '.join(CONDITIONS)}",
    )
    iri, pci = numbers["iri"], numbers["pci"]
    problem(iri < 0, "iri", "IRI must be >= 0 m/km")
    problem((pci < 0) | (pci > 100), "pci", "PCI must be between 0 and 100")
    by_iri = np.sum(iri[:, None] >= np.asarray(rules.iri.limits)[None, :], axis=1)
    by_pci = np.sum(pci[:, None] <= np.asarray(rules.pci.limits)[None, :], axis=1)
    source = np.where(stated, 0, np.where(~np.isnan(iri), 1, np.where(~np.isnan(pci), 2, -1)))
    condition = np.where(source == 1, by_iri, np.where(source == 2, by_pci, condition))
    problem(source < 0, "kondisi", "no condition: give kondisi, iri or pci")

    classes = {name: index for index, name in enumerate(rules.road_classes)}
    fungsi = _normalised(texts["fungsi"])
    road_class = _lookup(fungsi, classes)
    problem(
        (road_class < 0) & pd.notna(fungsi),
        "fungsi",
        lambda row: f"unknown road class {fungsi[row]!r}; known: {', '.join(classes)}",
    )
    road_class = np.where(pd.isna(fungsi), classes[rules.default_road_class], road_class)

    treatment, share, from_complaints = _choose(pavement, condition, road_class, rules)
    override = _normalised(texts["penanganan"])
    known = set(rules.treatments) | {NO_WORKS}
    given = pd.notna(override)
    bad = given & ~np.isin(override, list(known))
    problem(
        bad,
        "penanganan",
        lambda row: f"unknown treatment {override[row]!r}; known: {', '.join(sorted(known))}",
    )
    chosen = given & ~bad
    treatment = np.where(chosen, override, treatment)
    share = np.where(chosen, 1.0, share)
    from_complaints = from_complaints & ~chosen
    failed = errors.failed
    treatment[failed] = None
    return Assessment(
        pavement=np.where(failed, -1, pavement),
        condition=np.where(failed, -1, condition),
        condition_from=np.where(failed, -1, source),
        road_class=np.where(failed, -1, road_class),
        treatment=treatment,
        share=share,
        from_complaints=from_complaints,
    )


def _choose(
    pavement: IntArray, condition: IntArray, road_class: IntArray, rules: RuleSet
) -> tuple[ObjectArray, FloatArray, BoolArray]:
    """The first matching choice of each (pavement, condition, class), found once per
    distinct combination."""
    pavements, classes = list(rules.pavements), list(rules.road_classes)
    key = (pavement * len(CONDITIONS) + condition) * len(classes) + road_class
    valid = (pavement >= 0) & (condition >= 0) & (road_class >= 0)
    key = np.where(valid, key, -1)
    uniques, inverse = np.unique(key, return_inverse=True)
    names, shares, complaints = [], [], []
    for value in uniques.tolist():
        match = None
        if value >= 0:
            p, rest = divmod(value, len(CONDITIONS) * len(classes))
            c, k = divmod(rest, len(classes))
            match = next(
                choice
                for choice in rules.choices
                if choice.pavement == pavements[p]
                and choice.condition == CONDITIONS[c]
                and (choice.road_classes is None or classes[k] in choice.road_classes)
            )
        names.append(None if match is None else match.treatment)
        shares.append(np.nan if match is None else match.treated_share)
        complaints.append(False if match is None else match.area_from_complaints)
    inverse = inverse.reshape(-1)
    return (
        np.asarray(names, dtype=object)[inverse],
        np.asarray(shares, dtype=np.float64)[inverse],
        np.asarray(complaints, dtype=bool)[inverse],
    )


def treated_areas(
    road_area_m2: FloatArray,
    assessment: Assessment,
    complaints: IntArray,
    patch_m2: float,
) -> FloatArray:
    """The area each treatment is priced on: the choice's share of the road, or for a choice
    taking it from complaints (where there are any) complaints x patch area, at most the road."""
    area = road_area_m2 * assessment.share
    by_complaints = assessment.from_complaints & (complaints > 0)
    return np.where(by_complaints, np.minimum(complaints * patch_m2, road_area_m2), area)


def templates_of(assessment: Assessment, rules: RuleSet) -> ObjectArray:
    """The template that prices each segment's treatment (None: no works, or an error)."""
    classes = list(rules.road_classes)
    out = np.full(len(assessment.treatment), None, dtype=object)
    names_of, names = pd.factorize(assessment.treatment)
    valid = (names_of >= 0) & (assessment.road_class >= 0)
    key = np.where(valid, names_of * len(classes) + assessment.road_class, -1)
    for value in np.unique(key[valid]).tolist():
        name, road_class = divmod(value, len(classes))
        out[key == value] = rules.template_of(str(names[name]), classes[road_class])
    return out


@dataclass(frozen=True)
class PricedSegments:
    """Each segment's cost (total with VAT, minor units; -1 not priced), the bill of the
    priced ones (bill feature k is segment `priced[k]`) and each row's pricing problem."""

    cost: IntArray
    bill: BillOfMaterials
    priced: npt.NDArray[np.intp]
    problems: list[TakeoffError | None]


def price_segments(
    slugs: ObjectArray,
    length_m: FloatArray,
    width_m: FloatArray,
    treated_m2: FloatArray,
    templates: Mapping[str, Template],
    catalog: RateCatalog,
) -> PricedSegments:
    """Price the segments that have a template, on their length, width and treated area."""
    count = len(slugs)
    rows = np.flatnonzero(pd.notna(slugs))
    measures = Measures(length_m[rows], width_m[rows], treated_m2[rows])
    result = price_features(measures, slugs[rows], templates=templates, catalog=catalog)
    problems: list[TakeoffError | None] = [None] * count
    for position, found in enumerate(result.problems):
        problems[int(rows[position])] = found
    cost = np.full(count, NOT_PRICED, dtype=np.int64)
    priced = rows[result.priced]
    cost[priced] = result.bill.features.total
    return PricedSegments(cost, result.bill, priced, problems)


def priority_scores(
    condition: IntArray,
    road_class: IntArray,
    complaints: IntArray,
    cost_per_m2: FloatArray,
    rules: RuleSet,
) -> FloatArray:
    """Priority 0-100 (2 decimals) of each assessed segment (NaN: not assessed)."""
    priority = rules.priority
    weights = priority.weights
    condition_scores = np.array([priority.condition_scores[name] for name in CONDITIONS])
    class_scores = np.array(list(rules.road_classes.values()))
    valid = (condition >= 0) & (road_class >= 0)
    parts = (
        weights["condition"] * condition_scores[np.where(valid, condition, 0)]
        + weights["road_class"] * class_scores[np.where(valid, road_class, 0)]
        + weights["complaints"] * np.minimum(complaints / rules.complaints.full_priority_at, 1.0)
        + weights["cost"]
        * (priority.reference_cost_per_m2 / (priority.reference_cost_per_m2 + cost_per_m2))
    )
    score = np.round(100.0 * parts / sum(weights.values()), 2)
    return np.where(valid, score, np.nan)


@dataclass(frozen=True)
class BudgetLine:
    """Which segments are funded, each fundable segment's rank (1 = first; 0 none), and the
    money: needed, funded, the gap (needed - funded), left of the budget (None: no budget)."""

    funded: BoolArray
    rank: IntArray
    needed: int
    funded_total: int
    gap: int
    left: int | None


def budget_line(cost: IntArray, score: FloatArray, budget: int | None) -> BudgetLine:
    """Fund segments with works (cost > 0), highest score first, ties in input order, while
    the running total stays within `budget` (minor units; None: fund all)."""
    fundable = np.flatnonzero(cost > 0)
    order = fundable[np.lexsort((fundable, -score[fundable]))]
    running = np.cumsum(cost[order])
    rank = np.zeros(len(cost), dtype=np.int64)
    rank[order] = np.arange(1, len(order) + 1)
    funded = np.zeros(len(cost), dtype=bool)
    within = running <= budget if budget is not None else np.ones(len(order), dtype=bool)
    funded[order[within]] = True
    needed = int(running[-1]) if len(running) else 0
    funded_total = int(running[within][-1]) if within.any() else 0
    return BudgetLine(
        funded=funded,
        rank=rank,
        needed=needed,
        funded_total=funded_total,
        gap=needed - funded_total,
        left=None if budget is None else budget - funded_total,
    )


def minor_units(amount: Decimal, exponent: int) -> int:
    """A money amount in whole minor units (a budget is cut to the currency's minor unit)."""
    return int(amount.scaleb(exponent).to_integral_value(rounding="ROUND_FLOOR"))


def money(minor: int, exponent: int) -> Decimal:
    """Minor units back to money."""
    return from_minor(minor, exponent)
