"""Estimate results as one flat row per feature: what GIS attribute tables and CSV need.

QGIS cannot open nested JSON in an attribute table, so every output that carries features
(GeoJSON, CSV, GeoPackage, the `estimates` collection) uses these columns: the input's own
scalar properties, then the measures, one `<code>_<unit>` quantity and one `<code>_amount`
per item, the money totals and the warnings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from app.io.rfc7946 import rfc7946_geometries

if TYPE_CHECKING:
    from app.pipeline import EstimateResult

RESULT_COLUMNS = ("index", "name", "template", "template_version", "length_method", "warnings")


def _scalar_properties(properties: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [
        {
            key: value
            for key, value in row.items()
            if isinstance(value, str | int | float | bool) or value is None
        }
        for row in properties
    ]
    return pd.DataFrame.from_records(rows, index=range(len(rows)))


def flat_frame(result: EstimateResult) -> gpd.GeoDataFrame:
    """One row per input feature, in input order, with geometry in EPSG:4326."""
    bill = result.bill.features_frame()
    refs = result.bill.templates
    which = result.bill.features.template
    results = pd.DataFrame(
        {
            "index": np.arange(len(bill)),
            "name": result.plan.names,
            "template": bill["template"],
            "template_version": [refs[t].version for t in which],
            "length_m": bill["length_m"],
            "area_m2": bill["area_m2"],
            "mean_width_m": bill["width_m"],
            "length_method": result.measurements.length_method,
        }
    )
    measures = bill.drop(columns=["template", "length_m", "width_m", "area_m2"])
    warnings = ["; ".join(result.feature_warnings(i)) or None for i in range(len(bill))]
    own = _scalar_properties(result.features.properties)
    own = own.drop(columns=[c for c in own.columns if c in results or c in measures])
    frame = pd.concat([own, results, measures.set_index(results.index)], axis=1)
    frame["warnings"] = warnings
    return gpd.GeoDataFrame(
        frame, geometry=rfc7946_geometries(result.features.geometries), crs="EPSG:4326"
    )


def money_as_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Decimal columns as numbers GIS tools can sort and sum (integers when whole)."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object and values.map(lambda v: isinstance(v, Decimal)).any():
            out[column] = values.map(money_number)
    return out


def money_number(value: Any) -> Any:
    """A Decimal as an int when whole (exact), else a float; anything else unchanged."""
    if not isinstance(value, Decimal):
        return value
    return int(value) if value == value.to_integral_value() else float(value)
