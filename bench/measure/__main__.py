"""Time geodesic lengths and areas against GeographicLib and PostGIS on generated streets.

Run from the repository root: `python -m bench.measure [--lines N] [--polygons N]`.
Data (seeded): street lines around Kota Tangerang with 2-10 vertices and 5-200 m segments, and
road-sized polygons with 5-20 vertices. References in the same run:
- the GeographicLib floor: `Geod.inv` vectorised over the very same vertex pairs (coordinates
  already extracted), plus the `bincount` that sums them per line;
- PostGIS `ST_Length(geom::geography)` on the same lines, loaded with COPY into a temporary
  table first (not timed); URL from `TAKEOFF_BENCH_DATABASE_URL`;
- `Geod.polygon_area_perimeter` in a loop over the polygons (coordinates prepared, not timed).
Times are the best of `--repeat` runs; PostGIS queries run twice.
"""

from __future__ import annotations

import argparse
import io
import os
import time
from collections.abc import Callable

import numpy as np
import shapely
from pyproj import Geod

from app.geo.measure import geodesic_areas, geodesic_lengths

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/takeoff_dev"
TANGERANG = (106.55, -6.30, 106.75, -6.10)
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0
GEOD = Geod(ellps="WGS84")
# GeographicLib sums per-edge areas measured from the equator, so its own roundoff is about
# 1e-4 m² on any polygon: a relative comparison at 1e-7 is only meaningful above ~10,000 m².
LARGE_AREA_M2 = 10_000.0


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def _walk(rng: np.random.Generator, counts: np.ndarray, step_min: float, step_max: float):
    """Vertices of random walks in lon/lat starting inside Tangerang, one walk per count."""
    owner = np.repeat(np.arange(len(counts)), counts)
    first = np.r_[0, np.cumsum(counts)[:-1]]
    lon0 = rng.uniform(TANGERANG[0], TANGERANG[2], len(counts))
    lat0 = rng.uniform(TANGERANG[1], TANGERANG[3], len(counts))
    step = rng.uniform(step_min, step_max, len(owner))
    heading = rng.uniform(0, 2 * np.pi, len(owner))
    dx, dy = step * np.cos(heading), step * np.sin(heading)
    dx[first] = dy[first] = 0.0
    east = np.cumsum(dx) - np.repeat(np.cumsum(dx)[first], counts)
    north = np.cumsum(dy) - np.repeat(np.cumsum(dy)[first], counts)
    lat = lat0[owner] + north / M_PER_DEG_LAT
    lon = lon0[owner] + east / (M_PER_DEG_LON * np.cos(np.radians(lat)))
    return np.column_stack([lon, lat]), owner


def street_lines(rng: np.random.Generator, n: int) -> np.ndarray:
    counts = rng.integers(2, 11, n)
    coords, owner = _walk(rng, counts, 5.0, 200.0)
    return shapely.linestrings(coords, indices=owner)


def road_polygons(rng: np.random.Generator, n: int) -> np.ndarray:
    """Star-shaped polygons (sorted angles, so simple) 5-400 m across, 5-20 vertices."""
    counts = rng.integers(5, 21, n)
    owner = np.repeat(np.arange(n), counts)
    angle = np.sort(rng.uniform(0, 2 * np.pi, len(owner)) + owner * 2 * np.pi) - owner * 2 * np.pi
    radius = rng.uniform(5, 200, n)[owner] * rng.uniform(0.3, 1.0, len(owner))
    lon0 = rng.uniform(TANGERANG[0], TANGERANG[2], n)[owner]
    lat0 = rng.uniform(TANGERANG[1], TANGERANG[3], n)[owner]
    lat = lat0 + radius * np.sin(angle) / M_PER_DEG_LAT
    lon = lon0 + radius * np.cos(angle) / (M_PER_DEG_LON * np.cos(np.radians(lat)))
    rings = shapely.linearrings(np.column_stack([lon, lat]), indices=owner)
    return np.asarray(shapely.polygons(rings))


def geod_floor(lines: np.ndarray) -> Callable[[], np.ndarray]:
    coords, index = shapely.get_coordinates(lines, return_index=True)
    start = np.flatnonzero(index[1:] == index[:-1])
    lon1, lat1 = coords[start, 0].copy(), coords[start, 1].copy()
    lon2, lat2 = coords[start + 1, 0].copy(), coords[start + 1, 1].copy()
    owner = index[start]

    def run() -> np.ndarray:
        distance = GEOD.inv(lon1, lat1, lon2, lat2)[2]
        return np.bincount(owner, weights=distance, minlength=len(lines))

    return run


def geod_area_loop(polygons: np.ndarray) -> Callable[[], np.ndarray]:
    rings = [shapely.get_coordinates(p.exterior) for p in polygons]

    def run() -> np.ndarray:
        return np.array([abs(GEOD.polygon_area_perimeter(r[:, 0], r[:, 1])[0]) for r in rings])

    return run


def postgis_lengths(lines: np.ndarray) -> tuple[float, float, np.ndarray] | str:
    """(time of sum, time of per-line fetch, per-line lengths), or why PostGIS was skipped."""
    try:
        import psycopg
    except ImportError:
        return "psycopg not installed"
    url = os.environ.get("TAKEOFF_BENCH_DATABASE_URL", DEFAULT_URL).replace("+psycopg", "")
    try:
        connection = psycopg.connect(url, connect_timeout=5)
    except psycopg.OperationalError as error:
        return f"no database ({error})".splitlines()[0]
    with connection, connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_lines (id int, geom geometry(LineString, 4326))")
        wkb = shapely.to_wkb(shapely.set_srid(lines, 4326), hex=True, include_srid=True)
        buffer = io.StringIO("".join(f"{i}\t{w}\n" for i, w in enumerate(wkb)))
        with cursor.copy("COPY bench_lines (id, geom) FROM STDIN") as copy:
            while chunk := buffer.read(1 << 20):
                copy.write(chunk)
        cursor.execute("ANALYZE bench_lines")

        def total() -> object:
            cursor.execute("SELECT sum(ST_Length(geom::geography)) FROM bench_lines")
            return cursor.fetchone()

        def per_line() -> np.ndarray:
            cursor.execute("SELECT ST_Length(geom::geography) FROM bench_lines ORDER BY id")
            return np.array([row[0] for row in cursor.fetchall()])

        sum_time, _ = best_of(2, total)
        fetch_time, values = best_of(2, per_line)
    return sum_time, fetch_time, np.asarray(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--polygons", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(20260910)
    lines = street_lines(rng, args.lines)
    polygons = road_polygons(rng, args.polygons)
    segments = int(shapely.get_num_coordinates(lines).sum()) - len(lines)

    ours_time, ours = best_of(args.repeat, lambda: geodesic_lengths(lines))
    floor_time, floor = best_of(args.repeat, geod_floor(lines))
    rows = [
        (
            f"lengths: geodesic_lengths ({len(lines):,} lines, {segments:,} segments)",
            ours_time,
            1.0,
            0.0,
        ),
        (
            "lengths: Geod.inv floor (vectorised, same pairs) + bincount",
            floor_time,
            floor_time / ours_time,
            float(np.max(np.abs(np.asarray(ours) / np.asarray(floor) - 1))),
        ),
    ]
    postgis = postgis_lengths(lines)
    if isinstance(postgis, str):
        rows.append(
            (f"lengths: PostGIS skipped: {postgis}", float("nan"), float("nan"), float("nan"))
        )
    else:
        sum_time, fetch_time, values = postgis
        error = float(np.max(np.abs(np.asarray(ours) / values - 1)))
        rows.append(
            (
                "lengths: PostGIS sum(ST_Length(geom::geography))",
                sum_time,
                sum_time / ours_time,
                error,
            )
        )
        rows.append(
            (
                "lengths: PostGIS ST_Length(geom::geography) per line, fetched",
                fetch_time,
                fetch_time / ours_time,
                error,
            )
        )

    area_time, areas = best_of(args.repeat, lambda: geodesic_areas(polygons))
    loop_time, loop = best_of(1, geod_area_loop(polygons))
    rows.append((f"areas: geodesic_areas ({len(polygons):,} polygons)", area_time, 1.0, 0.0))
    areas, loop = np.asarray(areas), np.asarray(loop)
    large = loop >= LARGE_AREA_M2
    rows.append(
        (
            f"areas: Geod.polygon_area_perimeter loop, {large.sum():,} polygons >= 10,000 m²",
            loop_time,
            loop_time / area_time,
            float(np.max(np.abs(areas[large] / loop[large] - 1))),
        )
    )
    rows.append(
        (
            f"areas: same loop, all polygons (largest gap {np.max(np.abs(areas - loop)):.0e} m²)",
            loop_time,
            loop_time / area_time,
            float(np.max(np.abs(areas / loop - 1))),
        )
    )

    print("| case | time (s) | x ours | max relative difference |")
    print("|---|---|---|---|")
    for name, seconds, ratio, error in rows:
        print(f"| {name} | {seconds:.3f} | {ratio:.1f} | {error:.1e} |")


if __name__ == "__main__":
    main()
