"""A seeded road network around Kota Tangerang, written to a GeoPackage.

Segments are 2-8 vertex lines of 15-90 m steps that mostly keep to a street grid; the
attributes follow a city's mix: mostly residential and service streets with few arterials,
lanes and width by class, and street names drawn from a list with some left unnamed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import shapely

CENTRE = (106.64, -6.19)  # Kota Tangerang
SPAN_DEGREES = (0.22, 0.16)  # about 24 km east-west, 18 km north-south
METRE = 1 / 111_320
CLASSES = {
    # highway: (share, lanes choices, lane width m)
    "residential": (0.55, (1, 2), 2.75),
    "service": (0.14, (1,), 3.0),
    "unclassified": (0.09, (1, 2), 3.0),
    "tertiary": (0.09, (2,), 3.25),
    "secondary": (0.07, (2, 4), 3.5),
    "primary": (0.045, (2, 4, 6), 3.5),
    "trunk": (0.015, (4, 6), 3.6),
}
NAMES = (
    "Jalan Sudirman", "Jalan Thamrin", "Jalan Merdeka", "Jalan Daan Mogot", "Jalan Imam Bonjol",
    "Jalan Kisamaun", "Jalan Perintis Kemerdekaan", "Jalan Gatot Subroto", "Jalan Ahmad Yani",
    "Jalan Diponegoro", "Jalan Teuku Umar", "Jalan Hasyim Ashari", "Jalan Veteran",
    "Jalan Mawar", "Jalan Melati", "Jalan Kenanga", "Jalan Anggrek", "Jalan Flamboyan",
    "Jalan Cempaka", "Jalan Dahlia", "Jalan Kutilang", "Jalan Nuri", "Jalan Rajawali",
    "Jalan Pelita", "Jalan Pembangunan", "Jalan Raya Serpong", "Jalan Otista",
)  # fmt: skip


def road_network(segments: int, seed: int = 18) -> pa.Table:
    """`segments` road lines in EPSG:4326 with id, name, highway, lanes and width_m."""
    rng = np.random.default_rng(seed)
    classes = list(CLASSES)
    shares = np.array([CLASSES[name][0] for name in classes])
    highway = rng.choice(len(classes), size=segments, p=shares / shares.sum())
    lanes = np.array([rng.choice(CLASSES[classes[h]][1]) for h in highway], dtype=np.int32)
    lane_width = np.array([CLASSES[classes[h]][2] for h in highway])
    width = np.round(lanes * lane_width + rng.uniform(0.0, 1.0, segments), 2)
    named = rng.random(segments) < np.where(highway == 0, 0.7, 0.95)
    names = np.array(NAMES, dtype=object)[rng.integers(0, len(NAMES), segments)]
    names[~named] = None

    vertices = rng.integers(2, 9, segments)
    line_of = np.repeat(np.arange(segments), vertices)
    first = np.concatenate(([0], np.cumsum(vertices)[:-1]))
    start_x = CENTRE[0] + rng.uniform(-0.5, 0.5, segments) * SPAN_DEGREES[0]
    start_y = CENTRE[1] + rng.uniform(-0.5, 0.5, segments) * SPAN_DEGREES[1]
    heading = rng.integers(0, 4, segments) * (np.pi / 2) + rng.normal(0, 0.05, segments)
    turn = rng.normal(0, 0.15, len(line_of))  # streets bend a little at each vertex
    step = rng.uniform(15, 90, len(line_of)) * METRE
    step[first] = 0.0
    angle = heading[line_of] + np.cumsum(turn) - np.repeat(np.cumsum(turn)[first], vertices)
    dx = np.cos(angle) * step / np.cos(np.radians(CENTRE[1]))
    dy = np.sin(angle) * step
    x = start_x[line_of] + _cumsum_by_line(dx, first, vertices)
    y = start_y[line_of] + _cumsum_by_line(dy, first, vertices)
    lines = shapely.linestrings(np.round(x, 7), np.round(y, 7), indices=line_of)
    return pa.table(
        {
            "id": pa.array([f"seg-{n:06d}" for n in range(1, segments + 1)]),
            "name": pa.array(names, pa.string()),
            "highway": pa.array(np.array(classes, dtype=object)[highway], pa.string()),
            "lanes": pa.array(lanes),
            "width_m": pa.array(width),
            "geometry": pa.array(shapely.to_wkb(lines), pa.binary()),
        }
    )


def _cumsum_by_line(values: np.ndarray, first: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    total = np.cumsum(values)
    return total - np.repeat(total[first] - values[first], vertices)


def write_network(path: Path, segments: int, seed: int = 18) -> Path:
    """The network as a GeoPackage layer `roads` (EPSG:4326)."""
    path.unlink(missing_ok=True)
    pyogrio.write_arrow(
        road_network(segments, seed),
        path,
        layer="roads",
        driver="GPKG",
        geometry_name="geometry",
        geometry_type="LineString",
        crs="EPSG:4326",
    )
    return path
