"""Pricing: measures + templates + rate catalog -> bill of materials.

Features are grouped by template and, within a template, by their merged overrides; each
group's parameters are applied to whole numpy columns, so the cost per feature is a few
array operations whatever the number of features. Money follows DESIGN.md: each line is
rounded once (half up, currency minor unit); an aggregated line is round(sum of quantities x
rate); subtotal = sum of aggregated amounts; O&P = round(subtotal x O&P%); tax =
round((subtotal + O&P) x VAT%); total = subtotal + O&P + tax. Per feature likewise, from that
feature's own rounded lines.

A bill has one overhead & profit and one VAT percentage: they may come from the catalog, the
request or every feature, but features of one bill must agree on them.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pandas as pd

from app.errors import InvalidParameter, MissingRates, UnitMismatch, UnknownTemplate
from app.estimate.bom import (
    BillOfMaterials,
    BomLine,
    FeatureColumns,
    IndexArray,
    MinorArray,
    TemplateBlock,
    Totals,
    VersionRef,
)
from app.estimate.catalogs import RateCatalog
from app.estimate.money import line_amount, max_quantity, minor_units, percent_of, percent_of_minor
from app.estimate.overrides import Overrides, apply_overrides, check_overrides
from app.estimate.quantities import FloatArray, Measures, measure
from app.estimate.templates import Template


def price_bill(
    measures: Measures,
    template: str | Sequence[str] | npt.ArrayLike,
    *,
    templates: Mapping[str, Template],
    catalog: RateCatalog,
    overrides: Overrides | None = None,
    feature_overrides: Sequence[Overrides | None] | None = None,
) -> BillOfMaterials:
    """Price every feature of `measures` and aggregate them into one bill.

    `template` is one slug for all features or one slug per feature; `templates` maps slugs
    to (versions of) templates. `overrides` apply to the whole request, `feature_overrides[i]`
    (None: none) to feature i on top of them. Raises `UnknownTemplate`, `MissingRates`,
    `UnitMismatch` or `InvalidParameter` (with `feature=` the first feature at fault).
    """
    n = len(measures)
    template_of, used = _templates_per_feature(template, n, templates)
    _check_catalog(used, catalog)
    request = overrides or Overrides()
    check_overrides(request, used, feature=None)
    override_of, own_overrides = _overrides_per_feature(feature_overrides, n)

    book = _LineBook(catalog)
    markup = _Markup(catalog, request)
    blocks: list[TemplateBlock] = []
    width = np.empty(n)
    area = np.empty(n)
    subtotal = np.zeros(n, dtype=np.int64)
    for t, chosen in enumerate(used):
        index = None if template_of is None else np.flatnonzero(template_of == t)
        features = np.arange(n) if index is None else index
        group, variants, rates = _variants(
            chosen,
            features,
            None if override_of is None else override_of[features],
            own_overrides,
            request,
            markup,
            catalog,
        )
        block = measure(variants, group, measures.take(index), catalog)
        lines = np.array(
            [
                [book.line(item.code, rate) for rate in rates[j]]
                for j, item in enumerate(chosen.items)
            ],
            dtype=np.intp,
        )
        amounts = np.empty(block.quantities.shape, dtype=np.int64)
        for j, item in enumerate(chosen.items):
            amounts[j] = _price_item(
                block.quantities[j], rates[j], group, features, catalog, item.code
            )
            book.add(lines[j], block.quantities[j], group)
        width[features] = block.width_m
        area[features] = block.surface_m2
        subtotal[features] = amounts.sum(axis=0)
        blocks.append(TemplateBlock(features, group, lines, block.quantities, amounts))

    overhead_profit = percent_of_minor(subtotal, markup.overhead_profit_pct)
    tax = percent_of_minor(subtotal + overhead_profit, markup.vat_pct)
    columns = FeatureColumns(
        template=np.zeros(n, dtype=np.intp) if template_of is None else template_of,
        length_m=measures.length_m,
        width_m=width,
        area_m2=area,
        subtotal=subtotal,
        overhead_profit=overhead_profit,
        tax=tax,
        total=subtotal + overhead_profit + tax,
    )
    items = book.priced_lines()
    return BillOfMaterials(
        currency=catalog.currency,
        currency_exponent=catalog.currency_exponent,
        catalog=VersionRef(catalog.slug, catalog.version),
        templates=tuple(VersionRef(t.slug, t.version) for t in used),
        overhead_profit_pct=markup.overhead_profit_pct,
        vat_pct=markup.vat_pct,
        items=items,
        totals=_totals(items, markup, catalog.currency_exponent, measures, area),
        blocks=tuple(blocks),
        features=columns,
    )


def _templates_per_feature(
    template: str | Sequence[str] | npt.ArrayLike, n: int, templates: Mapping[str, Template]
) -> tuple[IndexArray | None, list[Template]]:
    """Which template each feature uses (None: all the same) and the templates used, in order
    of first use."""
    if isinstance(template, str):
        return None, [_known(template, templates, feature=None)] if n else []
    slugs = np.asarray(template, dtype=object)
    if slugs.shape != (n,):
        raise InvalidParameter(
            f"template has {slugs.size} values for {n} features", field="template"
        )
    codes, uniques = pd.factorize(slugs)
    if (codes < 0).any():
        raise UnknownTemplate("no template given", feature=int(np.argmax(codes < 0)))
    used = [
        _known(slug, templates, feature=int(np.argmax(codes == u)))
        for u, slug in enumerate(uniques)
    ]
    return (codes.astype(np.intp) if len(used) > 1 else None), used


def _known(slug: object, templates: Mapping[str, Template], feature: int | None) -> Template:
    if isinstance(slug, str) and slug in templates:
        return templates[slug]
    raise UnknownTemplate(
        f"unknown template {slug!r}; known templates: {', '.join(sorted(templates))}",
        feature=feature,
    )


def _check_catalog(used: Sequence[Template], catalog: RateCatalog) -> None:
    """Every item must have a rate, in the unit its basis measures: never priced at zero."""
    name = catalog.slug if catalog.version is None else f"{catalog.slug} v{catalog.version}"
    items = {item.code: item for template in used for item in template.items}
    missing = [code for code in items if code not in catalog.items]
    if missing:
        raise MissingRates(
            f"catalog {name} has no rate for {len(missing)} template item(s): "
            f"{', '.join(missing)} (items are never priced at zero)",
            catalog=catalog.slug,
        )
    mismatched = [
        f"{code} is measured by {item.basis.value} in {item.basis.unit} but priced per "
        f"{catalog.items[code].unit}"
        for code, item in items.items()
        if catalog.items[code].unit != item.basis.unit
    ]
    if mismatched:
        raise UnitMismatch(f"catalog {name}: {'; '.join(mismatched)}", catalog=catalog.slug)


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


def _variants(
    chosen: Template,
    features: IndexArray,
    override_of: IndexArray | None,
    own_overrides: Sequence[Overrides | None],
    request: Overrides,
    markup: _Markup,
    catalog: RateCatalog,
) -> tuple[IndexArray | None, list[Template], list[list[Decimal]]]:
    """Group one template's features by their overrides.

    Returns each feature's group (None: one group), the template as each group sees it, and
    `rates[j][g]`, the unit rate of item j in group g.
    """
    if override_of is None or override_of.size == 0:
        group, members, firsts = None, [0], [0]
    else:
        codes, uniques = pd.factorize(override_of)
        group = codes.astype(np.intp) if len(uniques) > 1 else None
        # factorize numbers groups in order of first appearance, so a group's first feature
        # is where the running maximum of the codes steps up
        steps = np.diff(np.maximum.accumulate(codes), prepend=-1)
        members, firsts = uniques.tolist(), np.flatnonzero(steps).tolist()
    variants: list[Template] = []
    rates: list[list[Decimal]] = [[] for _ in chosen.items]
    for member, first in zip(members, firsts, strict=True):
        own, feature = own_overrides[member], int(features[first])
        if own is not None:
            check_overrides(own, [chosen], feature=feature)
        merged = request.merged_with(own)
        markup.require_same(merged, feature)
        variants.append(apply_overrides(chosen, merged))
        for j, item in enumerate(chosen.items):
            rates[j].append(merged.rates.get(item.code, catalog.items[item.code].rate))
    return group, variants, rates


def _price_item(
    quantities: FloatArray,
    rates: list[Decimal],
    group: IndexArray | None,
    features: IndexArray,
    catalog: RateCatalog,
    code: str,
) -> MinorArray:
    """Each feature's amount for one item, in minor units, at its group's rate."""
    exponent = catalog.currency_exponent
    distinct = list(dict.fromkeys(rates))
    if group is None or len(distinct) == 1:
        selections: list[tuple[Decimal, IndexArray | slice]] = [(distinct[0], slice(None))]
    else:
        rate_of = np.array([distinct.index(rate) for rate in rates], dtype=np.intp)[group]
        selections = [(rate, np.flatnonzero(rate_of == k)) for k, rate in enumerate(distinct)]
    amounts = np.empty(quantities.size, dtype=np.int64)
    for rate, members in selections:
        selected = quantities[members]
        too_large = ~(selected <= max_quantity(rate, exponent))
        if too_large.any():
            where = np.arange(quantities.size)[members][np.argmax(too_large)]
            raise InvalidParameter(
                f"{code}: quantity {selected[np.argmax(too_large)]} at {rate} {catalog.currency} "
                "is too large to price",
                feature=int(features[where]),
                field=code,
            )
        amounts[members] = minor_units(selected, rate, exponent)
    return amounts


class _LineBook:
    """Aggregated lines keyed by (item code, unit rate), in order of first use."""

    def __init__(self, catalog: RateCatalog) -> None:
        self._catalog = catalog
        self._index: dict[tuple[str, Decimal], int] = {}
        self._quantities: list[float] = []

    def line(self, code: str, rate: Decimal) -> int:
        key = (code, rate)
        if key not in self._index:
            self._index[key] = len(self._quantities)
            self._quantities.append(0.0)
        return self._index[key]

    def add(self, lines: IndexArray, quantities: FloatArray, group: IndexArray | None) -> None:
        if group is None:
            sums = [float(quantities.sum())]
        else:
            sums = np.bincount(group, weights=quantities, minlength=lines.size).tolist()
        for line, total in zip(lines.tolist(), sums, strict=True):
            self._quantities[line] += total

    def priced_lines(self) -> tuple[BomLine, ...]:
        exponent = self._catalog.currency_exponent
        return tuple(
            BomLine(
                code=code,
                description=self._catalog.items[code].description,
                unit=self._catalog.items[code].unit,
                quantity=quantity,
                unit_rate=rate,
                amount=line_amount(quantity, rate, exponent),
                division=self._catalog.items[code].division,
                pay_item=self._catalog.items[code].pay_item,
            )
            for ((code, rate), quantity) in zip(self._index, self._quantities, strict=True)
        )


class _Markup:
    """The bill's overhead & profit and VAT percentages, the same for every feature."""

    def __init__(self, catalog: RateCatalog, request: Overrides) -> None:
        self.overhead_profit_pct = _or(request.overhead_profit_pct, catalog.overhead_profit_pct)
        self.vat_pct = _or(request.vat_pct, catalog.vat_pct)
        self._fixed_by: int | None = None

    def require_same(self, merged: Overrides, feature: int) -> None:
        pcts = {
            "overhead_profit_pct": _or(merged.overhead_profit_pct, self.overhead_profit_pct),
            "vat_pct": _or(merged.vat_pct, self.vat_pct),
        }
        for name, pct in pcts.items():
            if self._fixed_by is not None and pct != getattr(self, name):
                raise InvalidParameter(
                    f"{name} {pct} differs from {getattr(self, name)} of feature "
                    f"{self._fixed_by}: a bill has one percentage, set it on the request",
                    feature=feature,
                    field=name,
                )
            setattr(self, name, pct)
        if self._fixed_by is None:
            self._fixed_by = feature


def _or(value: Decimal | None, fallback: Decimal) -> Decimal:
    return fallback if value is None else value


def _totals(
    items: Sequence[BomLine],
    markup: _Markup,
    exponent: int,
    measures: Measures,
    area: FloatArray,
) -> Totals:
    subtotal = sum((line.amount for line in items), start=Decimal(0))
    overhead_profit = percent_of(subtotal, markup.overhead_profit_pct, exponent)
    tax = percent_of(subtotal + overhead_profit, markup.vat_pct, exponent)
    return Totals(
        length_m=float(measures.length_m.sum()),
        area_m2=float(area.sum()),
        subtotal=subtotal,
        overhead_profit=overhead_profit,
        tax=tax,
        total=subtotal + overhead_profit + tax,
    )
