"""A city-sized road layer served by Takeoff and by tipg from the same PostGIS table.

Generates a seeded network of 200,000 road segments around Kota Tangerang as a GeoPackage,
loads it into a fresh PostGIS database with `takeoff load-layer` (peak memory and time
printed), puts a view over the very same `layer_features` rows that gives tipg the attributes
as columns, then starts both servers (uvicorn, 2 workers each, both up for the whole run) and
loads them one after the other, row by row, with the same wrk settings and the same request
list: pages of 100 items (first page, a deep page, small bounding boxes, a CQL2 filter) and
vector tiles at zoom 14, 15 and 16. Before loading, each request is checked once against the
other server's answer; a row whose Takeoff feature is missing (or answers differently) prints
"not served". Needs wrk (`apt-get install wrk`), PostgreSQL with PostGIS on
TAKEOFF_BENCH_ADMIN_URL and tipg in bench/.venv-tipg (`bench/ogc/run` makes it).

    bench/ogc/run [--segments 200000] [--seconds 8] [--connections 16] [--only tiles]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import numpy as np
import psutil
import sqlalchemy as sa

from bench.api.__main__ import TAKEOFF, cpu_seconds, postgis_database, wait_for, wrk_figures
from bench.ogc.network import CENTRE, SPAN_DEGREES, write_network
from tests.live import free_port, takeoff_env

TIPG_VENV = Path(__file__).resolve().parent.parent / ".venv-tipg"
SLUG = "network"
TIPG_COLLECTION = f"public.{SLUG}"
VIEW = f"""
CREATE VIEW {SLUG} AS
SELECT f.id, f.feature_id,
       f.properties->>'name' AS name,
       f.properties->>'highway' AS highway,
       (f.properties->>'lanes')::integer AS lanes,
       (f.properties->>'width_m')::double precision AS width_m,
       f.geom
FROM layer_features f
WHERE f.layer_id = (SELECT id FROM layers WHERE slug = '{SLUG}')
"""
"""tipg serves table columns; Takeoff keeps a layer's attributes as one JSON document per
row. The view shows the same rows (same ids, same geometry) to tipg with its columns."""
MVT = "application/vnd.mapbox-vector-tile"
SMALL = 1_000
"""Segments of the small layer loaded first: its peak memory is the command's floor."""


@dataclass(frozen=True)
class Row:
    """One benchmark row: the requests each server gets (cycled by wrk) and how to tell
    that an answer is right."""

    name: str
    takeoff: list[str]
    tipg: list[str]
    kind: str  # "items" or "tiles"


def tile_xy(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """WebMercatorQuad column and row of the tile holding lon/lat."""
    n = 2**zoom
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def rows(rng: np.random.Generator, segments: int, takeoff_tiles: str) -> list[Row]:
    """The requests of each row, the same for both servers."""
    ours, theirs = f"/collections/{SLUG}/items", f"/collections/{TIPG_COLLECTION}/items"
    deep = (segments * 3 // 4) // 100 * 100
    boxes = []
    for _ in range(64):  # about 550 x 550 m, anywhere in the network
        lon = CENTRE[0] + rng.uniform(-0.45, 0.45) * SPAN_DEGREES[0]
        lat = CENTRE[1] + rng.uniform(-0.45, 0.45) * SPAN_DEGREES[1]
        boxes.append(f"{lon:.5f},{lat:.5f},{lon + 0.005:.5f},{lat + 0.005:.5f}")
    cql = quote("highway='residential'")
    result = [
        Row("items, first page", [f"{ours}?limit=100"], [f"{theirs}?limit=100"], "items"),
        Row(
            f"items, page at offset {deep:,}",
            [f"{ours}?limit=100&offset={deep}"],
            [f"{theirs}?limit=100&offset={deep}"],
            "items",
        ),
        Row(
            "items, bbox (64 boxes ~550 m)",
            [f"{ours}?limit=100&bbox={box}" for box in boxes],
            [f"{theirs}?limit=100&bbox={box}" for box in boxes],
            "items",
        ),
        Row(
            "items, filter highway='residential'",
            [f"{ours}?limit=100&filter-lang=cql2-text&filter={cql}"],
            [f"{theirs}?limit=100&filter-lang=cql2-text&filter={cql}"],
            "items",
        ),
    ]
    for zoom in (14, 15, 16):
        tiles = []
        for _ in range(64):
            lon = CENTRE[0] + rng.uniform(-0.45, 0.45) * SPAN_DEGREES[0]
            lat = CENTRE[1] + rng.uniform(-0.45, 0.45) * SPAN_DEGREES[1]
            tiles.append((zoom, *tile_xy(lon, lat, zoom)))
        tipg = f"/collections/{TIPG_COLLECTION}/tiles/WebMercatorQuad"
        result.append(
            Row(
                f"tiles, zoom {zoom} (64 tiles)",
                [takeoff_tiles.format(tileMatrix=z, tileRow=y, tileCol=x) for z, x, y in tiles],
                [f"{tipg}/{z}/{x}/{y}" for z, x, y in tiles],
                "tiles",
            )
        )
    return result


def takeoff_tile_template(base: str) -> str:
    """Takeoff's tile URL template for the layer, from its tileset metadata when it has one."""
    default = f"/collections/{SLUG}/tiles/WebMercatorQuad/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"
    answer = httpx.get(f"{base}/collections/{SLUG}/tiles/WebMercatorQuad", timeout=30)
    if answer.status_code != 200:
        return default
    for item in answer.json().get("links", []):
        if item.get("rel") == "item" and "{tileMatrix}" in item.get("href", ""):
            return urlsplit(item["href"]).path  # the template's braces as they are, not encoded
    return default


def items_answer(base: str, path: str) -> tuple[list[int], int | None] | str:
    """The feature ids of a page and its numberMatched, or why there are none."""
    answer = httpx.get(base + path, timeout=120)
    if answer.status_code != 200:
        return f"HTTP {answer.status_code}"
    body = answer.json()
    return [int(f["id"]) for f in body["features"]], body.get("numberMatched")


def tile_answer(base: str, path: str) -> str:
    """`tile` for a vector tile or an empty one (204), else what came instead."""
    answer = httpx.get(base + path, timeout=120)
    if answer.status_code == 204 or (
        answer.status_code == 200 and answer.headers.get("content-type", "").startswith(MVT)
    ):
        return "tile"
    return f"HTTP {answer.status_code} {answer.headers.get('content-type', '')}"


def served(row: Row, takeoff: str, tipg: str) -> str | None:
    """None when Takeoff answers each request of the row as tipg does, else why not."""
    for ours, theirs in zip(row.takeoff, row.tipg, strict=True):
        if row.kind == "tiles":
            for base, path in ((takeoff, ours), (tipg, theirs)):
                if (outcome := tile_answer(base, path)) != "tile":
                    return f"{path}: {outcome}"
            continue
        expected = items_answer(tipg, theirs)
        if isinstance(expected, str):
            raise RuntimeError(f"tipg failed {theirs}: {expected}")
        got = items_answer(takeoff, ours)
        if isinstance(got, str):
            return f"{ours}: {got}"
        if got[0] != expected[0]:
            return f"{ours}: other features than tipg's"
    return None


def load(base: str, paths: list[str], seconds: int, connections: int, folder: Path) -> dict:
    """wrk on `paths`, each connection cycling through them."""
    script = folder / "paths.lua"
    listed = ",\n".join(f'  "{path}"' for path in paths)
    script.write_text(
        f"paths = {{\n{listed}\n}}\n"
        "counter = 0\n"
        "request = function()\n"
        "  counter = counter + 1\n"
        "  return wrk.format('GET', paths[(counter % #paths) + 1])\n"
        "end\n"
    )
    return wrk_figures(base + paths[0], script, seconds, connections, timeout=30)


@contextmanager
def server(command: list[str], env: dict[str, str], probe: str) -> Iterator[tuple[str, int]]:
    """A live server on a free port until the block ends."""
    port = free_port()
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + probe)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def load_layer(path: Path, slug: str, env: dict[str, str]) -> tuple[float, float]:
    """Seconds and peak RSS (MiB, sampled every 20 ms) of `takeoff load-layer` on `path`."""
    start = time.perf_counter()
    command = [TAKEOFF, "load-layer", str(path), "--slug", slug, "--title", "Tangerang network"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    watched, peak = psutil.Process(process.pid), 0
    while process.poll() is None:
        with suppress(psutil.NoSuchProcess):
            peak = max(peak, watched.memory_info().rss)
        time.sleep(0.02)
    if process.returncode != 0:
        raise RuntimeError(f"takeoff load-layer {path.name} failed")
    return time.perf_counter() - start, peak / 2**20


def measured(
    row: Row, base: str, pid: int, paths: list[str], args: argparse.Namespace, folder: Path
) -> dict[str, float]:
    process = psutil.Process(pid)
    before = cpu_seconds(process)
    figures = load(base, paths, args.seconds, args.connections, folder)
    figures["cpu_ms"] = (cpu_seconds(process) - before) * 1000.0 / max(figures["requests"], 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segments", type=int, default=200_000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--tile-cache-bytes",
        default="67108864",
        help="Takeoff's tile cache per worker (TAKEOFF_TILE_CACHE_BYTES); 0 builds every tile",
    )
    parser.add_argument(
        "--only", choices=["items", "tiles"], help="run only the item rows or only the tile rows"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    tipg_uvicorn = TIPG_VENV / "bin" / "uvicorn"
    if not tipg_uvicorn.exists():
        sys.exit(f"tipg is needed in {TIPG_VENV}: run bench/ogc/run")

    folder = Path(tempfile.mkdtemp(prefix="takeoff-bench-ogc-"))
    try:
        start = time.perf_counter()
        network = write_network(folder / "network.gpkg", args.segments)
        generated = time.perf_counter() - start
        with postgis_database() as url:
            env = takeoff_env(
                database_url=url, data_dir=str(folder), tile_cache_bytes=args.tile_cache_bytes
            )
            subprocess.run([TAKEOFF, "db", "upgrade"], env=env, check=True, capture_output=True)
            small_seconds, small_mib = load_layer(
                write_network(folder / "small.gpkg", SMALL), f"{SLUG}-small", env
            )
            load_seconds, peak_mib = load_layer(network, SLUG, env)
            engine = sa.create_engine(url)
            with engine.begin() as connection:
                connection.exec_driver_sql(VIEW)
            engine.dispose()
            print(
                f"{args.segments:,} segments: generated in {generated:.1f} s "
                f"({network.stat().st_size / 2**20:.0f} MiB GeoPackage); takeoff load-layer "
                f"{load_seconds:.1f} s, peak RSS {peak_mib:.0f} MiB "
                f"({SMALL:,} segments: {small_seconds:.1f} s, {small_mib:.0f} MiB)",
                flush=True,
            )
            tipg_env = {
                **os.environ,
                "DATABASE_URL": sa.make_url(url)
                .set(drivername="postgresql")
                .render_as_string(hide_password=False),
                "TIPG_DB_TABLES": f'["{TIPG_COLLECTION}"]',
                "TIPG_DB_EXCLUDE_FUNCTION_SCHEMAS": '["public"]',
                "TIPG_DB_SPATIAL_EXTENT": "false",
                "TIPG_DB_DATETIME_EXTENT": "false",
            }
            takeoff = [TAKEOFF, "serve", "--workers", "2"]
            tipg = [str(tipg_uvicorn), "tipg.main:app", "--workers", "2", "--no-access-log"]
            with (
                server(takeoff, env, "/healthz") as (ours, our_pid),
                server(tipg, tipg_env, "/healthz") as (theirs, their_pid),
            ):
                table = rows(np.random.default_rng(18), args.segments, takeoff_tile_template(ours))
                print(
                    f"\n{'row':38} {'Takeoff req/s':>13} {'p50':>6} {'p99':>6} {'CPU ms':>6}"
                    f" | {'tipg req/s':>10} {'p50':>6} {'p99':>6} {'CPU ms':>6} | {'ratio':>6}"
                    f" {'non-2xx':>7}"
                )
                for row in table:
                    if args.only not in (None, row.kind):
                        continue
                    missing = served(row, ours, theirs)
                    mine = None
                    if missing is None:
                        mine = measured(row, ours, our_pid, row.takeoff, args, folder)
                    other = measured(row, theirs, their_pid, row.tipg, args, folder)
                    report_row(row, missing, mine, other)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(
        f"\n{os.cpu_count()} cores, wrk -t2 -c{args.connections} -d{args.seconds}s, "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )


def report_row(row: Row, missing: str | None, mine: dict | None, other: dict) -> None:
    """One line per row: Takeoff's and tipg's req/s, p50, p99 (ms) and CPU ms per request."""
    theirs = f"{other['rps']:10.0f} {other['p50']:6.1f} {other['p99']:6.1f} {other['cpu_ms']:6.2f}"
    if mine is None:
        print(f"{row.name:38} {'not served':>35} | {theirs} |")
        print(f"{'':38} ({missing})")
        return
    ratio = mine["rps"] / other["rps"] if other["rps"] else math.inf  # none of tipg's ended
    print(
        f"{row.name:38} {mine['rps']:13.0f} {mine['p50']:6.1f} {mine['p99']:6.1f} "
        f"{mine['cpu_ms']:6.2f} | {theirs} | {ratio:6.2f} "
        f"{mine['errors'] + other['errors']:7.0f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
