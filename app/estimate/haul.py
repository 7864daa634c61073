"""The haul distance L of a request and of single features, turned into unit rates.

An analysed catalog prices its hauled items (hot mix, aggregate, ready-mix concrete) at its
default L. A request's L reprices the catalog (`priced_catalog`), and so, where the request
gives none, does the distance the delivery plan routes from each item's nearest source. A
feature's own L becomes that feature's rate overrides for the hauled items of its template,
so features at different distances are different price groups exactly as features with their
own `rates` are, and the engine needs no notion of distance. A rate the feature states itself
wins over the one from its L.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from app.estimate.catalogs import HaulLength, RateCatalog, haul_rates
from app.estimate.overrides import Overrides
from app.estimate.templates import Template


def feature_haul_overrides(
    overrides: Sequence[Overrides | None],
    references: Sequence[str],
    templates: Mapping[str, Template],
    catalog: RateCatalog,
) -> list[Overrides | None]:
    """Each feature's overrides with the rates its own `haul_km` gives its hauled items."""
    hauled = set(catalog.hauled_items())
    rates: dict[tuple[Decimal, str], dict[str, Decimal]] = {}
    changed: list[Overrides | None] = []
    for own, reference in zip(overrides, references, strict=True):
        if own is None or own.haul_km is None or not hauled or reference not in templates:
            changed.append(own)
            continue
        key = (own.haul_km, reference)
        if key not in rates:
            codes = {item.code for item in templates[reference].items} & hauled
            rates[key] = haul_rates(catalog, own.haul_km, codes)
        changed.append(own.model_copy(update={"rates": {**rates[key], **own.rates}}))
    return changed


def haul_of_lines(
    catalog: RateCatalog, overrides: Sequence[Overrides | None]
) -> dict[tuple[str, Decimal], list[HaulLength]]:
    """Which haul distances L priced each (item code, unit rate) of hauled items, and where
    each came from: the L the catalog prices the item at for the request (`priced_catalog`)
    and every feature's own."""
    if not catalog.hauled_items() or catalog.haul_km is None:
        return {}
    own = {own.haul_km for own in overrides if own is not None and own.haul_km is not None}
    lines: dict[tuple[str, Decimal], list[HaulLength]] = {}
    for code in catalog.hauled_items():
        priced = catalog.haul_length(code)
        lengths = [priced, *(HaulLength(km, "request") for km in own if km != priced.km)]
        for length in sorted(lengths):
            rate = catalog.costing(code, length.km).hsp
            lines.setdefault((code, rate), []).append(length)
    return lines
