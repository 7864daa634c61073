"""Rate catalogs: unit prices per item code, with currency, markups and provenance.

Catalogs are versioned data (the store assigns `version`; files on disk have none) because
AHSP unit prices are updated every year and a saved estimate must be reproducible with the
rates it was priced at. Amounts are `Decimal`, written as strings in JSON so no binary float
ever touches money.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from app.errors import UnknownCatalog
from app.estimate.datafiles import load_directory
from app.estimate.localized import LocalizedText
from app.estimate.provenance import Sourced, SourceText
from app.estimate.templates import ItemCode, Slug
from app.estimate.units import canonical_unit

Rate = Annotated[Decimal, Field(gt=0, max_digits=20, allow_inf_nan=False)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=9, allow_inf_nan=False)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class RateItem(BaseModel):
    """The price of one item per unit, with where the figure comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: NonEmpty
    rate: Rate
    description: LocalizedText
    source: SourceText
    valid_from: date
    region: NonEmpty

    @field_validator("unit")
    @classmethod
    def _canonical(cls, unit: str) -> str:
        return canonical_unit(unit)


class RateCatalog(Sourced):
    """A price list in one currency; `sources` cites the markup percentages and minor unit.

    `vat_pct` is the *effective* rate applied to (subtotal + overhead & profit); where a tax
    is levied at a nominal rate on a reduced base (Indonesian PPN: 12 % on 11/12 of the price),
    the effective rate is the product and the source says so. `overhead_profit_pct` is 0 when
    the unit rates already include it (AHSP unit prices do).
    """

    slug: Slug
    version: int | None = Field(default=None, ge=1)
    name: LocalizedText
    label: NonEmpty
    region: NonEmpty
    currency: CurrencyCode
    currency_exponent: int = Field(ge=0, le=4)
    overhead_profit_pct: Percent
    vat_pct: Percent
    provenance: NonEmpty
    valid_from: date
    items: dict[ItemCode, RateItem]

    def sourced_parameters(self) -> set[str]:
        """Markups and the currency's minor unit are the catalog-level figures to cite."""
        return {"overhead_profit_pct", "vat_pct", "currency_exponent"}


def find_catalog(
    catalogs: Mapping[str, RateCatalog], slug: str, version: int | None = None
) -> RateCatalog:
    """The catalog `slug` (at `version` when given), or `UnknownCatalog` naming the known ones."""
    catalog = catalogs.get(slug)
    if catalog is None:
        known = ", ".join(sorted(catalogs)) or "none"
        raise UnknownCatalog(f"unknown catalog {slug!r}; known catalogs: {known}", catalog=slug)
    if version is not None and catalog.version != version:
        raise UnknownCatalog(
            f"catalog {slug!r} has no version {version} (this one is {catalog.version})",
            catalog=slug,
        )
    return catalog


def load_builtin_catalogs(directory: Path) -> dict[str, RateCatalog]:
    """Read every `*.json` catalog in `directory`, keyed by slug (the file stem)."""
    return load_directory(directory, RateCatalog)
