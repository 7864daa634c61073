"""Footprint polygons of roads given as lines with a width, for display and overlap checks.

Quantities never come from these polygons (pavement area is geodesic length x width); they
exist so a map can show the road and overlaps can be found. Each line is buffered in its own
local metric frame (`app.geo.local`), with flat caps and mitre joins like a paved strip.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from app.geo.arrays import LINE_TYPE_IDS, GeometryArray, as_geometry_array, is_type
from app.geo.local import origins, to_local, to_lonlat

MITRE_LIMIT = 5.0


def footprints(geoms: Any, width_m: Any) -> GeometryArray:
    """Each line (EPSG:4326) as a `width_m`-wide polygon in EPSG:4326; polygons as they are."""
    geoms = as_geometry_array(geoms)
    widths = np.broadcast_to(np.asarray(width_m, dtype=np.float64), geoms.shape)
    out = geoms.copy()
    rows = np.flatnonzero(is_type(shapely.get_type_id(geoms), LINE_TYPE_IDS))
    if len(rows) == 0:
        return out
    centres = origins(geoms[rows], shared=True)
    strips = shapely.buffer(
        to_local(geoms[rows], centres),
        widths[rows] / 2.0,
        cap_style="flat",
        join_style="mitre",
        mitre_limit=MITRE_LIMIT,
    )
    out[rows] = to_lonlat(np.asarray(strips, dtype=object), centres)
    return out
