"""Time `takeoff estimate` on a 1,000,000-row WKT CSV against the floor and the PostGIS route.

Run from the repository root: `python -m bench.batch [--rows N] [--keep DIR]`.
Data (seeded, generated in a few seconds): street lines around Kota Tangerang, 2-6 vertices
and 10-80 m segments, with `id`, `name`, `template` (three templates mixed, some blank) and
`width_m` columns. On the same file, after an untimed first run that loads the shipped data
into the new store, the best of `--repeat` (2) runs of Takeoff and of the floor, taking
turns, then the PostGIS route:
- Takeoff: the real CLI, `takeoff estimate lines.csv -o out.csv` (embedded store), every row
  measured, priced and written with its BoM columns. Peak memory is the largest total
  proportional set size of the command and its worker processes, sampled every 50 ms in an
  untimed run of its own (sampling slows the command down);
- the I/O floor: in this process, `pyarrow.csv.read_csv` of the file, `shapely.from_wkt` of
  its WKT column, and `pyarrow.csv.write_csv` of the same output columns Takeoff wrote (read
  from its output beforehand, untimed): what any WKT-CSV estimate must cost at least;
- the PostGIS route: COPY the file into a table, one SQL statement computing the same
  per-row quantities (`ST_Length(geom::geography)`, layer areas, the templates' factors) and
  amounts into a table, COPY that out to a CSV file. URL from `TAKEOFF_BENCH_DATABASE_URL`.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely

from app.estimate.catalogs import RateCatalog, find_catalog, load_builtin_catalogs
from app.estimate.quantities import quantity_factor
from app.estimate.templates import CountItem, Layer, LinearItem, load_builtin_templates

DATA = Path(__file__).resolve().parents[2] / "data"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/takeoff_dev"
TEMPLATES = ("local-flexible", "neighbourhood-rigid", "collector-flexible")
M_PER_DEG = 111_320.0


def generate(path: Path, rows: int, seed: int = 42) -> None:
    """The benchmark CSV, written a million rows at a time with Arrow string kernels."""
    rng = np.random.default_rng(seed)
    writer: pacsv.CSVWriter | None = None
    for start in range(0, rows, 1_000_000):
        n = min(1_000_000, rows - start)
        vertices = rng.integers(2, 7, n)
        heading = rng.uniform(0, 2 * np.pi, n)
        lon = np.round(rng.uniform(106.55, 106.72, n), 7)
        lat = np.round(rng.uniform(-6.26, -6.10, n), 7)
        text = pc.binary_join_element_wise(
            "LINESTRING (", lon.astype(str), " ", lat.astype(str), ""
        )
        for k in range(1, 6):
            step = rng.uniform(10, 80, n) / M_PER_DEG
            heading += rng.normal(0, 0.3, n)
            lon = np.round(lon + step * np.cos(heading), 7)
            lat = np.round(lat + step * np.sin(heading), 7)
            more = pc.binary_join_element_wise(
                text, ", ", lon.astype(str), " ", lat.astype(str), ""
            )
            text = pc.if_else(pa.array(vertices > k), more, text)
        text = pc.binary_join_element_wise(text, ")", "")
        ids = np.arange(start, start + n)
        template = rng.choice([*TEMPLATES, ""], n, p=[0.4, 0.3, 0.2, 0.1])
        table = pa.table(
            {
                "id": ids,
                "name": pc.binary_join_element_wise("Jalan ", ids.astype(str), ""),
                "template": pa.array(template).cast(pa.string()),
                "width_m": np.round(rng.uniform(3, 8, n), 2),
                "wkt": text,
            }
        )
        if writer is None:
            writer = pacsv.CSVWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def run_takeoff(
    source: Path, output: Path, store: Path, sample_memory: bool = False
) -> tuple[float, float]:
    """Wall time of `takeoff estimate` and, with `sample_memory`, its peak memory (MiB, the
    command plus its workers; 0 without). Sampling reads each process's `smaps_rollup`,
    which walks its page tables (about 10 ms for 400 MiB) and holds up its page faults:
    timed runs are not sampled."""
    env = {**os.environ, "TAKEOFF_DATA_DIR": str(store)}
    env.pop("TAKEOFF_DATABASE_URL", None)
    takeoff = str(Path(sys.executable).with_name("takeoff"))
    subprocess.run([takeoff, "db", "upgrade"], env=env, check=True, capture_output=True)
    start = time.perf_counter()
    process = psutil.Popen(
        [takeoff, "estimate", str(source), "-o", str(output)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                tree = [process, *process.children(recursive=True)]
                peak = max(peak, sum(_pss(p.pid) for p in tree) / 2**20)
            except (psutil.Error, OSError):
                pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    if sample_memory:
        sampler.start()
    _, stderr = process.communicate()
    seconds = time.perf_counter() - start
    done.set()
    if sample_memory:
        sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"takeoff estimate failed:\n{stderr}")
    return seconds, peak


def _pss(pid: int) -> int:
    """Proportional set size in bytes: pages shared by forked workers are counted once.

    Read from `smaps_rollup`, which the kernel sums itself: cheap enough to sample often.
    """
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def floor(source: Path, written: Path, output: Path) -> float:
    """The I/O floor: what one process needs just to read the file (`pyarrow.csv`), parse its
    WKT (`shapely.from_wkt`) and write the same output columns with pyarrow. The result
    columns are Takeoff's own (`written`), read beforehand and not timed."""
    results = pacsv.read_csv(written)
    results = results.drop_columns(pacsv.read_csv(source).column_names)
    start = time.perf_counter()
    table = pacsv.read_csv(source)
    shapely.from_wkt(table.column("wkt").to_numpy(zero_copy_only=False))
    for name in results.column_names:
        table = table.append_column(name, results.column(name))
    pacsv.write_csv(table, output)
    return time.perf_counter() - start


def _quantity_sql(catalog: RateCatalog) -> str:
    """Per-row quantities and amounts of the templates' items, as SQL columns."""
    catalog_rates = {code: str(item.rate) for code, item in catalog.items.items()}
    templates = load_builtin_templates(DATA / "templates")
    codes: dict[str, list[tuple[str, str]]] = {}
    for slug in TEMPLATES:
        template = templates[slug]
        for item in template.items:
            factor = quantity_factor(item, catalog, template)
            if isinstance(item, Layer):
                expr = f"(len * w + len * {item.extra_width_m}) * {factor}"
            elif isinstance(item, LinearItem):
                expr = f"len * {factor}"
            else:
                assert isinstance(item, CountItem)
                expr = f"ceil(len / {item.spacing_m}) * {factor}"
            codes.setdefault(item.code, []).append((slug, expr))
    columns = []
    for code, cases in codes.items():
        whens = " ".join(f"when '{slug}' then {expr}" for slug, expr in cases)
        name = code.lower().replace("-", "_")
        columns.append(f"case tpl {whens} end as {name}_q")
        columns.append(
            f"round((case tpl {whens} end)::numeric * {catalog_rates[code]}) as {name}_amount"
        )
    return ", ".join(columns)


def postgis_route(source: Path, output: Path) -> tuple[float, float, float] | str:
    """(COPY in, SQL, COPY out) seconds, or why PostGIS was skipped."""
    try:
        import psycopg
    except ImportError:
        return "psycopg not installed"
    url = os.environ.get("TAKEOFF_BENCH_DATABASE_URL", DEFAULT_URL).replace("+psycopg", "")
    try:
        connection = psycopg.connect(url, connect_timeout=5, autocommit=True)
    except psycopg.OperationalError as error:
        return f"cannot connect: {str(error).splitlines()[0]}"
    catalog = find_catalog(load_builtin_catalogs(DATA / "catalogs"), "tangerang-sample")
    with connection, connection.cursor() as cursor:
        cursor.execute("drop table if exists bench_batch_in, bench_batch_out")
        cursor.execute(
            "create unlogged table bench_batch_in (id bigint, name text, template text, "
            "width_m double precision, wkt text)"
        )
        start = time.perf_counter()
        with (
            cursor.copy("COPY bench_batch_in FROM STDIN (FORMAT csv, HEADER true)") as copy,
            source.open("rb") as stream,
        ):
            while block := stream.read(1 << 20):
                copy.write(block)
        copied_in = time.perf_counter() - start
        start = time.perf_counter()
        cursor.execute(
            "create unlogged table bench_batch_out as select id, name, template, width_m, "
            f"len as length_m, len * w as area_m2, {_quantity_sql(catalog)} from ("
            "select *, coalesce(nullif(template, ''), 'local-flexible') as tpl, width_m as w, "
            "ST_Length(ST_GeomFromText(wkt, 4326)::geography) as len from bench_batch_in) s"
        )
        computed = time.perf_counter() - start
        start = time.perf_counter()
        with (
            output.open("wb") as stream,
            cursor.copy("COPY bench_batch_out TO STDOUT (FORMAT csv, HEADER true)") as copy,
        ):
            for block in copy:
                stream.write(block)
        copied_out = time.perf_counter() - start
        cursor.execute("drop table bench_batch_in, bench_batch_out")
    return copied_in, computed, copied_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="Folder to keep the files in.")
    parser.add_argument("--skip-postgis", action="store_true")
    parser.add_argument("--repeat", type=int, default=2, help="Runs of Takeoff and the floor.")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-batch-"))
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "lines.csv"
    start = time.perf_counter()
    generate(source, args.rows)
    size = source.stat().st_size / 2**20
    out = io.StringIO()
    out.write(f"{args.rows:,} rows, {size:,.0f} MiB CSV (generated in ")
    out.write(f"{time.perf_counter() - start:.1f} s), {os.cpu_count()} cores\n")
    one_row = folder / "one.csv"
    generate(one_row, 1)
    # a first run loads the shipped templates and catalogs into the new store, and one on
    # the whole file measures memory: neither is timed
    run_takeoff(one_row, folder / "one-out.csv", folder / "store")
    _, peak = run_takeoff(source, folder / "out.csv", folder / "store", sample_memory=True)
    # best of `repeat`, the command and the floor taking turns: this machine's speed drifts
    # by a third from one minute to the next
    seconds = startup = floor_seconds = math.inf
    for _ in range(args.repeat):
        seconds = min(seconds, run_takeoff(source, folder / "out.csv", folder / "store")[0])
        startup = min(startup, run_takeoff(one_row, folder / "one-out.csv", folder / "store")[0])
        floor_seconds = min(floor_seconds, floor(source, folder / "out.csv", folder / "floor.csv"))
    rows: list[tuple[str, float, str]] = [
        ("takeoff estimate (CSV in, CSV out)", seconds, f"peak {peak:,.0f} MiB"),
        ("  of which start-up (same command, 1 row)", startup, "imports, store check"),
        ("floor: read, parse WKT, write (pyarrow)", floor_seconds, "one process"),
    ]
    postgis = "skipped" if args.skip_postgis else postgis_route(source, folder / "postgis.csv")
    if isinstance(postgis, tuple):
        copy_in, sql, copy_out = postgis
        rows.append(
            (
                "PostGIS: COPY in + one SQL + COPY out",
                copy_in + sql + copy_out,
                f"{copy_in:.1f} + {sql:.1f} + {copy_out:.1f} s",
            )
        )
    else:
        out.write(f"PostGIS route skipped: {postgis}\n")
    out.write(f"{'route':<44} {'time (s)':>9} {'rows/s':>11} {'x floor':>8}  note\n")
    for name, took, note in rows:
        if name.startswith(" "):  # a part of the row above, not a route of its own
            out.write(f"{name:<44} {took:>9.2f} {'':>11} {'':>8}  {note}\n")
            continue
        out.write(
            f"{name:<44} {took:>9.2f} {args.rows / took:>11,.0f} "
            f"{took / floor_seconds:>8.2f}  {note}\n"
        )
    if isinstance(postgis, tuple):
        out.write(f"PostGIS route / takeoff: {sum(postgis) / seconds:.2f}x\n")
    print(out.getvalue(), end="")


if __name__ == "__main__":
    main()
