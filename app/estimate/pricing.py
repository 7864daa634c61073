"""Pricing: measures + templates + rate catalog -> bill of materials.

Features are grouped by template and, within a template, by their merged overrides; each
group's parameters are applied to whole numpy columns, so the cost per feature is a few
array operations whatever the number of features. Money follows DESIGN.md: each line states
its quantity with its unit's decimals and its amount is round(stated quantity x rate), once
(half up, currency minor unit); an aggregated line states round(sum of its features'
unrounded quantities) (`app.estimate.bom`); subtotal = sum of aggregated amounts; O&P =
round(subtotal x O&P%); tax = round((subtotal + O&P) x VAT%); total = subtotal + O&P + tax.
Per feature likewise, from that feature's own rounded lines. Lines stating zero are left out.

A bill has one overhead & profit and one VAT percentage: the request's, or the catalog's
where the request sets none. A feature asking for another one is not priced; its problem
says so. Which features are priced never depends on their order.

`price_features` prices every feature it can in one pass and reports, per feature, the
problem that stopped it (as `app.pipeline.plan_columns` does for options); `price_bill` is
the same for callers that answer as a whole: it raises the first feature's problem.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from app.arrays import factorize, rows_where
from app.errors import InvalidParameter, MissingRates, TakeoffError, UnitMismatch, UnknownTemplate
from app.estimate.bom import (
    BillOfMaterials,
    BomLine,
    FeatureColumns,
    IndexArray,
    MeasuredLine,
    MinorArray,
    TemplateBlock,
    VersionRef,
    bill_totals,
)
from app.estimate.catalogs import RateCatalog
from app.estimate.divisions import division_amounts
from app.estimate.money import (
    max_quantity,
    percent_of_minor,
    times_ratios,
    unit_price_ratio,
)
from app.estimate.overrides import Overrides, apply_overrides, check_overrides
from app.estimate.project import bill_lines
from app.estimate.quantities import FloatArray, Measures, measure
from app.estimate.templates import Template
from app.estimate.units import quantity_decimals, whole_units
from app.memo import once_per

Problems = list[TakeoffError | None]
_NONE: IndexArray = np.empty(0, dtype=np.intp)


@dataclass(frozen=True)
class PricedFeatures:
    """One pass of the engine: the bill of the features it could price, which input features
    those are (`priced[k]` is bill feature k), and each input feature's problem (None: priced)."""

    bill: BillOfMaterials
    priced: IndexArray
    problems: Problems

    def first_problem(self) -> TakeoffError | None:
        """The problem of the first feature that has one."""
        return next((problem for problem in self.problems if problem is not None), None)


def price_bill(
    measures: Measures,
    template: str | Sequence[str] | npt.ArrayLike,
    *,
    templates: Mapping[str, Template],
    catalog: RateCatalog,
    overrides: Overrides | None = None,
    feature_overrides: Sequence[Overrides | None] | None = None,
    project_items: bool = False,
) -> BillOfMaterials:
    """Price every feature of `measures` and aggregate them into one bill, or raise the first
    feature's problem (`UnknownTemplate`, `MissingRates`, `UnitMismatch`, `InvalidParameter`).

    Arguments as for `price_features`.
    """
    result = price_features(
        measures,
        template,
        templates=templates,
        catalog=catalog,
        overrides=overrides,
        feature_overrides=feature_overrides,
        project_items=project_items,
    )
    problem = result.first_problem()
    if problem is not None:
        raise problem
    return result.bill


def price_features(
    measures: Measures,
    template: str | Sequence[str] | npt.ArrayLike,
    *,
    templates: Mapping[str, Template],
    catalog: RateCatalog,
    overrides: Overrides | None = None,
    feature_overrides: Sequence[Overrides | None] | None = None,
    project_items: bool = False,
) -> PricedFeatures:
    """Price every feature that can be priced, in one pass, and say why the others cannot.

    `template` is one slug for all features or one slug per feature; `templates` maps slugs
    to (versions of) templates. `overrides` apply to the whole request, `feature_overrides[i]`
    (None: none) to feature i on top of them. A problem of the request itself (one template
    slug that is unknown, a bad request override, columns of different lengths) is raised;
    a template the catalog cannot price fails every feature using it. `project_items` puts
    the catalog's project items in the bill (`app.estimate.project`); a segment of a larger
    package leaves them to the package's bill.
    """
    n = len(measures)
    problems: Problems = [None] * n
    template_of, used = _templates_per_feature(template, n, templates, problems)
    request = overrides or Overrides()
    check_overrides(request, used, feature=None)
    override_of, own_overrides = _overrides_per_feature(feature_overrides, n)
    markup = _Markup(catalog, request)

    priceable: list[_Priced] = []
    for t, chosen in enumerate(used):
        features = np.arange(n) if template_of is None else np.flatnonzero(template_of == t)
        unpriceable = catalog_problem(chosen, catalog)
        if unpriceable is not None:
            for feature in features.tolist():
                problems[feature] = unpriceable
            continue
        variants = _Variants.of(
            chosen, features, override_of, own_overrides, request, markup, catalog, problems
        )
        if variants is not None:
            part = _price_template(chosen, variants, measures, catalog, problems)
            if part is not None:
                priceable.append(part)
    return _bill(priceable, measures, catalog, markup, problems, project_items)


def bill_percentages(catalog: RateCatalog, overrides: Overrides | None) -> tuple[Decimal, Decimal]:
    """The overhead & profit and VAT percentages of a bill: the request's, else the catalog's."""
    request = overrides or Overrides()
    return (
        _or(request.overhead_profit_pct, catalog.overhead_profit_pct),
        _or(request.vat_pct, catalog.vat_pct),
    )


def _templates_per_feature(
    template: str | Sequence[str] | npt.ArrayLike,
    n: int,
    templates: Mapping[str, Template],
    problems: Problems,
) -> tuple[IndexArray | None, list[Template]]:
    """Which known template each feature uses (-1: none; None: all the same) and the known
    templates, in order of first use. A feature naming no known template gets its problem."""
    if isinstance(template, str):
        return None, [_known(template, templates, feature=None)] if n else []
    slugs = np.asarray(template, dtype=object)
    if slugs.shape != (n,):
        raise InvalidParameter(
            f"template has {slugs.size} values for {n} features", field="template"
        )
    codes, uniques = factorize(slugs)
    used: list[Template] = []
    renumber = np.full(len(uniques) + 1, -1, dtype=np.intp)  # the last entry: no template
    for u, slug in enumerate(uniques):
        if isinstance(slug, str) and slug in templates:
            renumber[u] = len(used)
            used.append(templates[slug])
            continue
        members = np.flatnonzero(codes == u)
        problem = _unknown(slug, templates, feature=int(members[0]))
        for feature in members.tolist():
            problems[feature] = problem
    for feature in rows_where(codes < 0):
        problems[feature] = UnknownTemplate("no template given", feature=feature)
    template_of = renumber[codes]
    if len(used) == 1 and (template_of == 0).all():
        return None, used
    return template_of, used


def _known(slug: str, templates: Mapping[str, Template], feature: int | None) -> Template:
    if slug in templates:
        return templates[slug]
    raise _unknown(slug, templates, feature)


def _unknown(slug: object, templates: Mapping[str, Template], feature: int | None) -> TakeoffError:
    return UnknownTemplate(
        f"unknown template {slug!r}; known templates: {', '.join(sorted(templates))}",
        feature=feature,
    )


def catalog_problem(template: Template, catalog: RateCatalog) -> TakeoffError | None:
    """Why `catalog` cannot price `template` (None: it can). Every item must have a rate, in
    the unit its basis measures: an item is never priced at zero. That it can is kept per
    template and catalog object; a problem is made anew, since it is raised."""
    if once_per((template, catalog), "prices", lambda: _problem(template, catalog) is None):
        return None
    return _problem(template, catalog)


def _problem(template: Template, catalog: RateCatalog) -> TakeoffError | None:
    name = catalog.slug if catalog.version is None else f"{catalog.slug} v{catalog.version}"
    missing = [item.code for item in template.items if item.code not in catalog.items]
    if missing:
        return MissingRates(
            f"catalog {name} has no rate for {len(missing)} item(s) of template "
            f"{template.slug}: {', '.join(missing)} (items are never priced at zero)",
            catalog=catalog.slug,
        )
    mismatched = [
        f"{item.code} is measured by {item.basis.value} in {item.basis.unit} but priced per "
        f"{catalog.items[item.code].unit}"
        for item in template.items
        if catalog.items[item.code].unit != item.basis.unit
    ]
    if mismatched:
        return UnitMismatch(f"catalog {name}: {'; '.join(mismatched)}", catalog=catalog.slug)
    return None


def _overrides_per_feature(
    feature_overrides: Sequence[Overrides | None] | None, n: int
) -> tuple[IndexArray | None, list[Overrides | None]]:
    """Distinct feature overrides and which one each feature has (None: no feature has any)."""
    if feature_overrides is None:
        return None, [None]
    if len(feature_overrides) != n:
        raise InvalidParameter(
            f"{len(feature_overrides)} feature overrides for {n} features",
            field="feature_overrides",
        )
    given = [(i, own) for i, own in enumerate(feature_overrides) if own is not None]
    if not given:
        return None, [None]
    seen: dict[Hashable, int] = {}
    distinct: list[Overrides | None] = [None]
    codes = []
    for _, own in given:
        code = seen.setdefault(own.key(), len(distinct))
        if code == len(distinct):
            distinct.append(own)
        codes.append(code)
    which = np.zeros(n, dtype=np.intp)
    which[[i for i, _ in given]] = codes
    return which, distinct


@dataclass(frozen=True)
class _Variants:
    """One template's features grouped by their overrides: each feature's group (None: one
    group), the template as each group sees it, and `rates[j][g]`, item j's rate in group g."""

    features: IndexArray
    group: IndexArray | None
    templates: list[Template]
    rates: list[list[Decimal]]

    @classmethod
    def of(
        cls,
        chosen: Template,
        features: IndexArray,
        override_of: IndexArray | None,
        own_overrides: Sequence[Overrides | None],
        request: Overrides,
        markup: _Markup,
        catalog: RateCatalog,
        problems: Problems,
    ) -> _Variants | None:
        """The groups of `features` (all using `chosen`); a group whose own overrides are
        wrong for the template, or ask for another markup, fails all its features."""
        if override_of is None or override_of.size == 0:
            codes, members, firsts = None, [0], [0]
        else:
            codes, uniques = factorize(override_of[features])
            # factorize numbers groups in order of first appearance, so a group's first
            # feature is where the running maximum of the codes steps up
            steps = np.diff(np.maximum.accumulate(codes), prepend=-1)
            members, firsts = uniques.tolist(), np.flatnonzero(steps).tolist()
        kept: list[int] = []
        variants: list[Template] = []
        rates: list[list[Decimal]] = [[] for _ in chosen.items]
        for g, (member, first) in enumerate(zip(members, firsts, strict=True)):
            own = own_overrides[member]
            problem = _group_problem(own, chosen, request, markup, int(features[first]))
            if problem is not None:
                failing = features if codes is None else features[codes == g]
                for feature in failing.tolist():
                    problems[feature] = problem
                continue
            kept.append(g)
            merged = request.merged_with(own)
            variants.append(apply_overrides(chosen, merged))
            for j, item in enumerate(chosen.items):
                rates[j].append(merged.rates.get(item.code, catalog.items[item.code].rate))
        if not kept:
            return None
        if codes is None:
            return cls(features, None, variants, rates)
        renumber = np.full(len(members), -1, dtype=np.intp)
        renumber[kept] = np.arange(len(kept))
        group = renumber[codes]
        keep = group >= 0
        return cls(features[keep], group[keep] if len(kept) > 1 else None, variants, rates)


def _group_problem(
    own: Overrides | None, chosen: Template, request: Overrides, markup: _Markup, feature: int
) -> TakeoffError | None:
    if own is None:
        return None
    try:
        check_overrides(own, [chosen], feature=feature)
    except TakeoffError as exc:
        return exc
    return markup.conflict(request.merged_with(own), feature)


@dataclass(frozen=True)
class _Priced:
    """One template's priced features: per-feature quantities (unrounded and as stated) and
    amounts (minor units)."""

    template: Template
    features: IndexArray
    group: IndexArray | None
    rates: list[list[Decimal]]
    quantities: FloatArray
    stated: FloatArray
    amounts: MinorArray
    width_m: FloatArray
    surface_m2: FloatArray


def _price_template(
    chosen: Template,
    variants: _Variants,
    measures: Measures,
    catalog: RateCatalog,
    problems: Problems,
) -> _Priced | None:
    """Quantities and amounts of one template's features; a feature with a quantity too
    large to price fails alone."""
    features, group, rates = variants.features, variants.group, variants.rates
    block = measure(variants.templates, group, measures.take(features), catalog)
    stated, amounts, bad = _price_items(
        block.quantities, [item.basis.unit for item in chosen.items], rates, group, catalog
    )
    too_large = bad.any(axis=0)
    if too_large.any():
        first_bad = bad & (bad.cumsum(axis=0) == 1)  # a feature's problem names its first item
        for j, k in zip(*np.nonzero(first_bad), strict=True):
            item, rate = chosen.items[j], rates[j][0 if group is None else group[k]]
            problems[int(features[k])] = InvalidParameter(
                f"{item.code}: quantity {block.quantities[j, k]} at {rate} {catalog.currency} "
                "is too large to price",
                feature=int(features[k]),
                field=item.code,
            )
    keep = ~too_large
    if not keep.any():
        return None
    quantities, width, surface = block.quantities, block.width_m, block.surface_m2
    if too_large.any():
        features, quantities, amounts = features[keep], quantities[:, keep], amounts[:, keep]
        stated = stated[:, keep]
        width, surface = width[keep], surface[keep]
        if group is not None:
            codes, uniques = factorize(group[keep])
            rates = [[row[u] for u in uniques.tolist()] for row in rates]
            group = codes.astype(np.intp) if len(uniques) > 1 else None
    return _Priced(chosen, features, group, rates, quantities, stated, amounts, width, surface)


def _price_items(
    quantities: FloatArray,
    units: list[str],
    rates: list[list[Decimal]],
    group: IndexArray | None,
    catalog: RateCatalog,
) -> tuple[FloatArray, MinorArray, npt.NDArray[np.bool_]]:
    """Each feature's stated quantity of each item (a row per item) and its amount, in minor
    units, at its group's rate, and which quantities are too large to price (their quantity
    and amount are meaningless); every item in one pass."""
    exponent = catalog.currency_exponent
    decimals = [quantity_decimals(unit) for unit in units]
    limits = np.array([[max_quantity(rate, exponent) for rate in row] for row in rates])
    too_large = ~(quantities <= (limits[:, :1] if group is None else limits[:, group]))
    scale = np.array([10.0**places for places in decimals])[:, None]
    stated = whole_units(np.where(too_large, 0.0, quantities), scale)
    ratios = [
        [unit_price_ratio(rate, places, exponent) for rate in row]
        for row, places in zip(rates, decimals, strict=True)
    ]
    return stated / scale, times_ratios(stated, ratios, group), too_large


def _bill(
    priced: list[_Priced],
    measures: Measures,
    catalog: RateCatalog,
    markup: _Markup,
    problems: Problems,
    project_items: bool,
) -> PricedFeatures:
    """The bill of the priced features, renumbered in input order."""
    which: IndexArray = np.sort(np.concatenate([p.features for p in priced] or [_NONE]))
    m = which.size
    book = _LineBook(catalog)
    book.open_lines(
        (item.code, rate)
        for part in priced
        for j, item in enumerate(part.template.items)
        for rate in part.rates[j]
    )
    blocks: list[TemplateBlock] = []
    template = np.zeros(m, dtype=np.intp)
    width = np.empty(m)
    area = np.empty(m)
    subtotal = np.zeros(m, dtype=np.int64)
    for t, part in enumerate(priced):
        positions = np.searchsorted(which, part.features)
        codes = tuple(item.code for item in part.template.items)
        lines = np.array(
            [[book.line(code, rate) for rate in part.rates[j]] for j, code in enumerate(codes)],
            dtype=np.intp,
        )
        book.add(lines, part.quantities, part.group)
        template[positions] = t
        width[positions] = part.width_m
        area[positions] = part.surface_m2
        subtotal[positions] = part.amounts.sum(axis=0)
        blocks.append(
            TemplateBlock(
                positions, part.group, codes, lines, part.quantities, part.stated, part.amounts
            )
        )
    measured = book.measured()
    items = bill_lines(measured, catalog, project_items=project_items)
    renumber = book.renumbering(items)

    length = measures.length_m[which]
    overhead_profit = percent_of_minor(subtotal, markup.overhead_profit_pct)
    tax = percent_of_minor(subtotal + overhead_profit, markup.vat_pct)
    columns = FeatureColumns(
        template=template,
        length_m=length,
        width_m=width,
        area_m2=area,
        subtotal=subtotal,
        overhead_profit=overhead_profit,
        tax=tax,
        total=subtotal + overhead_profit + tax,
    )
    bill = BillOfMaterials(
        currency=catalog.currency,
        currency_exponent=catalog.currency_exponent,
        catalog=VersionRef(catalog.slug, catalog.version),
        templates=tuple(VersionRef(p.template.slug, p.template.version) for p in priced),
        overhead_profit_pct=markup.overhead_profit_pct,
        vat_pct=markup.vat_pct,
        items=items,
        totals=bill_totals(
            items,
            markup.overhead_profit_pct,
            markup.vat_pct,
            catalog.currency_exponent,
            float(length.sum()),
            float(area.sum()),
        ),
        blocks=tuple(replace(block, lines=renumber[block.lines]) for block in blocks),
        features=columns,
        measured=measured,
        divisions=division_amounts(((line.code, line.amount) for line in items), catalog),
        vat_label=catalog.vat_label,
        rounding_unit=catalog.rounding_unit,
    )
    return PricedFeatures(bill, which, problems)


class _LineBook:
    """Aggregated lines keyed by (item code, unit rate), in order of first use."""

    def __init__(self, catalog: RateCatalog) -> None:
        self._catalog = catalog
        self._index: dict[tuple[str, Decimal], int] = {}
        self._quantities: list[float] = []

    def open_lines(self, keys: Iterable[tuple[str, Decimal]]) -> None:
        """Number the lines in catalog order, then by rate: the order a batch bill has too,
        whatever order the features came in."""
        for code, rate in sorted(set(keys), key=self._catalog.line_order()):
            self.line(code, rate)

    def line(self, code: str, rate: Decimal) -> int:
        key = (code, rate)
        if key not in self._index:
            self._index[key] = len(self._quantities)
            self._quantities.append(0.0)
        return self._index[key]

    def add(self, lines: IndexArray, quantities: FloatArray, group: IndexArray | None) -> None:
        """Add each item's quantities (a row per item) to its lines (`lines[j][g]`: item j's
        line in group g)."""
        if group is None:
            sums = quantities.sum(axis=1)
        else:
            groups = lines.shape[1]
            sums = np.concatenate(
                [np.bincount(group, weights=row, minlength=groups) for row in quantities]
            )
        for line, total in zip(lines.ravel().tolist(), sums.tolist(), strict=True):
            self._quantities[line] += total

    def measured(self) -> tuple[MeasuredLine, ...]:
        """Every line's unrounded quantity, zero ones included."""
        return tuple(
            MeasuredLine(code, rate, quantity)
            for (code, rate), quantity in zip(self._index, self._quantities, strict=True)
        )

    def renumbering(self, lines: tuple[BomLine, ...]) -> IndexArray:
        """Each opened line's number among the priced `lines` (-1: it states zero and was
        left out)."""
        kept = {(line.code, line.unit_rate): number for number, line in enumerate(lines)}
        return np.array([kept.get(key, -1) for key in self._index], dtype=np.intp)


class _Markup:
    """The bill's overhead & profit and VAT percentages: the request's, else the catalog's."""

    def __init__(self, catalog: RateCatalog, request: Overrides) -> None:
        self.overhead_profit_pct, self.vat_pct = bill_percentages(catalog, request)
        self._request = request
        self._catalog = catalog.slug

    def conflict(self, merged: Overrides, feature: int) -> InvalidParameter | None:
        """Why a feature's merged overrides cannot join the bill (None: they can)."""
        for name in ("overhead_profit_pct", "vat_pct"):
            pct, bill = getattr(merged, name), getattr(self, name)
            if pct is not None and pct != bill:
                source = (
                    "set on the request"
                    if getattr(self._request, name) is not None
                    else f"catalog {self._catalog}'s"
                )
                return InvalidParameter(
                    f"{name} {pct.normalize():f} differs from {bill.normalize():f} ({source}): "
                    "a bill has one "
                    "percentage; to change it, set it on the request for every feature",
                    feature=feature,
                    field=name,
                )
        return None


def _or(value: Decimal | None, fallback: Decimal) -> Decimal:
    return fallback if value is None else value
