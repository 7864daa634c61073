"""Estimate engine: cross-section templates and rate catalogs turn measured roads into a BoM.

Pure: no HTTP, no database, no settings. Callers pass measured columns and loaded models::

    templates = load_builtin_templates(data / "templates")
    catalog = find_catalog(load_builtin_catalogs(data / "catalogs"), "tangerang-sample")
    bill = price_bill(Measures.from_columns(length_m, width_m, area_m2), "local-flexible",
                      templates=templates, catalog=catalog, overrides=Overrides(width_m=4))
    bill.to_json()
"""

from app.estimate.bom import BillOfMaterials, BomLine, Totals, VersionRef
from app.estimate.catalogs import RateCatalog, RateItem, find_catalog, load_builtin_catalogs
from app.estimate.localized import LocalizedText
from app.estimate.overrides import Overrides
from app.estimate.pricing import price_bill
from app.estimate.quantities import Measures
from app.estimate.templates import (
    CountItem,
    Layer,
    LinearItem,
    Template,
    load_builtin_templates,
)
from app.estimate.units import Basis, canonical_unit

__all__ = [
    "Basis",
    "BillOfMaterials",
    "BomLine",
    "CountItem",
    "Layer",
    "LinearItem",
    "LocalizedText",
    "Measures",
    "Overrides",
    "RateCatalog",
    "RateItem",
    "Template",
    "Totals",
    "VersionRef",
    "canonical_unit",
    "find_catalog",
    "load_builtin_catalogs",
    "load_builtin_templates",
    "price_bill",
]
