"""Throughput and latency of `POST /estimates` against a bare FastAPI endpoint, and the time
of one estimate in-process.

First `app.service.run_estimate` is timed in this process, call by call, on a PostGIS
database and on an embedded SQLite store. Then both servers run under uvicorn with 2 workers
and are loaded by the same tool (wrk) with the same connections and duration, in one run. Besides
requests per second and latency, each server's CPU time per request is printed (user + system
time of its processes during the load, over the requests served; the in-process loop likewise
gives the thread's CPU time per call): on a machine shared with other work, wall-clock figures
follow the other work, CPU per request much less. Needs wrk
(`apt-get install wrk`) and PostgreSQL with PostGIS on TAKEOFF_BENCH_ADMIN_URL (default:
postgres@127.0.0.1:5432).

    python -m bench.api [--seconds 8] [--connections 16] [--calls 500]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import sqlalchemy as sa

from app.service import EstimateQuery, run_estimate
from app.settings import Settings, StoreSettings
from app.store.database import create_store_engine
from app.store.repository import Repository
from app.store.startup import prepare_store
from tests.live import free_port, takeoff_env

ADMIN_URL = os.environ.get(
    "TAKEOFF_BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TAKEOFF = str(Path(sys.executable).with_name("takeoff"))
UVICORN = str(Path(sys.executable).with_name("uvicorn"))


def road_polygon(vertices: int = 20) -> dict:
    """A curved road 7 m wide and about 150 m long, `vertices` vertices on its outline."""
    half = vertices // 2
    lat0, lon0 = -6.17, 106.63
    metre = 1 / 111_320
    outer: list[list[float]] = []
    inner: list[list[float]] = []
    for k in range(half):
        angle = math.pi / 3 * k / (half - 1)
        for radius, side in ((150, outer), (143, inner)):
            side.append(
                [
                    lon0 + radius * math.cos(angle) * metre / math.cos(math.radians(lat0)),
                    lat0 + radius * math.sin(angle) * metre,
                ]
            )
    ring = outer + inner[::-1] + [outer[0]]
    return {"type": "Polygon", "coordinates": [ring]}


def road_line(vertices: int = 20) -> dict:
    """The outer edge of the same road as a `vertices`-vertex line (template width)."""
    ring = road_polygon(vertices * 2)["coordinates"][0]
    return {"type": "LineString", "coordinates": ring[:vertices]}


def road_bend() -> dict:
    """An L-shaped road polygon, 7 m wide with 80 m arms: not a strip, so a medial axis."""
    lat0, lon0 = -6.17, 106.63
    metre = 1 / 111_320
    corners = [(0, 0), (80, 0), (80, 80), (73, 80), (73, 7), (0, 7), (0, 0)]
    ring = [[lon0 + x * metre / math.cos(math.radians(lat0)), lat0 + y * metre] for x, y in corners]
    return {"type": "Polygon", "coordinates": [ring]}


def wait_for(url: str) -> None:
    deadline = time.monotonic() + 180  # start-up on a busy machine
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def wrk(url: str, body: Path, seconds: int, connections: int) -> dict[str, float]:
    script = body.with_suffix(".lua")
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = [==[{body.read_text()}]==]\n"
    )
    return wrk_figures(url, script, seconds, connections)


def wrk_figures(
    url: str, script: Path, seconds: int, connections: int, timeout: int = 2
) -> dict[str, float]:
    """Requests, req/s, p50 and p99 (ms) and failed requests (non-2xx answers and those
    without an answer within `timeout` seconds) of wrk with a Lua `script`."""
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            f"--timeout={timeout}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(_wrk_figure(r"Requests/sec:\s+([\d.]+)", output))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    timeouts = re.search(r"Socket errors:.*timeout (\d+)", output)
    return {
        "requests": float(_wrk_figure(r"(\d+) requests in", output)),
        "rps": rate,
        "p50": _ms(_wrk_figure(r"50%\s+([\d.]+\w+)", output)),
        "p99": _ms(_wrk_figure(r"99%\s+([\d.]+\w+)", output)),
        "errors": sum(float(found.group(1)) for found in (errors, timeouts) if found),
    }


def _wrk_figure(pattern: str, output: str) -> str:
    """The first group of `pattern` in wrk's `output`, which wrk always prints: without it the
    run went wrong, and a made-up figure would hide that."""
    found = re.search(pattern, output)
    if found is None:
        raise ValueError(f"wrk printed nothing matching {pattern!r}: {output!r}")
    return found.group(1)


def _ms(text: str) -> float:
    duration = re.match(r"([\d.]+)(\w+)", text)
    if duration is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    value, unit = duration.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


@contextmanager
def postgis_database() -> Iterator[str]:
    """A fresh, migrated PostGIS database, dropped afterwards."""
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    database = f"takeoff_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"create database {database}")
    url = sa.make_url(ADMIN_URL).set(database=database).render_as_string(hide_password=False)
    try:
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql("create extension postgis")
        engine.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"drop database if exists {database} with (force)")
        admin.dispose()


def cpu_seconds(server: psutil.Process) -> float:
    """CPU time (user + system) of a server and its worker processes so far."""
    total = 0.0
    for process in [server, *server.children(recursive=True)]:
        times = process.cpu_times()
        total += times.user + times.system
    return total


def load(
    command: list[str], path: str, body: Path, env: dict[str, str], args: argparse.Namespace
) -> dict[str, float]:
    """Start a server, check one request succeeds, then load it with wrk."""
    port = free_port()
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/docs")
        headers = {"Content-Type": "application/json"}
        httpx.post(base + path, content=body.read_bytes(), headers=headers).raise_for_status()
        server = psutil.Process(process.pid)
        before = cpu_seconds(server)
        figures = wrk(base + path, body, args.seconds, args.connections)
        figures["cpu_ms"] = (cpu_seconds(server) - before) * 1000.0 / figures["requests"]
        return figures
    finally:
        process.terminate()
        process.wait(timeout=30)


def in_process(store: StoreSettings, bodies: dict[str, dict], calls: int) -> dict[str, dict]:
    """p50 and p99 (ms) of `run_estimate` on each body, timed call by call after a warm-up."""
    settings = Settings()
    settings.store = store
    engine = create_store_engine(store)
    prepare_store(engine, settings)
    repository = Repository(engine)
    query = EstimateQuery.with_defaults(settings, None, None)
    figures = {}
    try:
        for name, body in bodies.items():
            times, cpu = [], []
            for call in range(calls + calls // 10):
                start, start_cpu = time.perf_counter(), time.thread_time()
                run_estimate(repository, settings, body, query)
                if call >= calls // 10:
                    times.append((time.perf_counter() - start) * 1000.0)
                    cpu.append((time.thread_time() - start_cpu) * 1000.0)
            cuts = statistics.quantiles(times, n=100)
            figures[name] = {
                "p50": statistics.median(times),
                "p99": cuts[98],
                "cpu": statistics.median(cpu),
            }
    finally:
        engine.dispose()
    return figures


HTTP_GOALS = {"POST /estimates, polygon": 0.10, "POST /estimates, line": 0.20}
IN_PROCESS_GOALS = {"polygon (strip)": 2.0, "line": 1.0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--calls", type=int, default=500, help="in-process calls per case")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")

    folder = Path(tempfile.mkdtemp(prefix="takeoff-bench-"))
    polygon, line = folder / "polygon.json", folder / "line.json"
    polygon.write_text(json.dumps(road_polygon()))
    line.write_text(json.dumps(road_line()))
    bare = [UVICORN, "bench.api.bare:app", "--workers", "2"]  # logging as `takeoff serve`
    takeoff = [TAKEOFF, "serve", "--workers", "2"]
    cases = {
        "bare FastAPI (constant JSON)": (bare, "/estimates", polygon),
        "POST /estimates, polygon": (takeoff, "/estimates", polygon),
        "POST /estimates?save=true, polygon": (takeoff, "/estimates?save=true", polygon),
        "POST /estimates, line": (takeoff, "/estimates", line),
    }
    bodies = {
        "polygon (strip)": road_polygon(),
        "polygon (L-bend)": road_bend(),
        "line": road_line(),
    }
    try:
        with postgis_database() as url:
            env = takeoff_env(database_url=url, data_dir=str(folder))
            subprocess.run([TAKEOFF, "db", "upgrade"], env=env, check=True, capture_output=True)
            stores = {
                "PostGIS": StoreSettings(database_url=url, data_dir=folder),
                "SQLite": StoreSettings(database_url=None, data_dir=folder / "embedded"),
            }
            # in-process first: after the HTTP loads the machine runs slower for a while
            timed = {name: in_process(store, bodies, args.calls) for name, store in stores.items()}
            results = {name: load(*case, env, args) for name, case in cases.items()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    baseline = results["bare FastAPI (constant JSON)"]
    print(
        f"20-vertex road, PostGIS store, 2 uvicorn workers, wrk -t2 -c{args.connections} "
        f"-d{args.seconds}s, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'endpoint':36} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'vs bare':>8} "
        f"{'CPU ms/req':>10} {'vs bare':>8} {'goal':>5} {'non-2xx':>7}"
    )
    for name, figures in results.items():
        goal = f"{HTTP_GOALS[name]:.0%}" if name in HTTP_GOALS else ""
        print(
            f"{name:36} {figures['rps']:7.0f} {figures['p50']:7.1f} {figures['p99']:7.1f} "
            f"{figures['rps'] / baseline['rps']:8.1%} {figures['cpu_ms']:10.2f} "
            f"{baseline['cpu_ms'] / figures['cpu_ms']:8.1%} {goal:>5} {figures['errors']:7.0f}"
        )
    print()
    print(f"in-process run_estimate, {args.calls} calls each after {args.calls // 10} to warm up")
    print(f"{'estimate':18} {'store':8} {'p50 ms':>7} {'p99 ms':>7} {'CPU p50 ms':>10} {'goal':>5}")
    for store, estimates in timed.items():
        for name, times in estimates.items():
            goal = f"{IN_PROCESS_GOALS[name]:.1f}" if name in IN_PROCESS_GOALS else ""
            print(
                f"{name:18} {store:8} {times['p50']:7.2f} {times['p99']:7.2f} "
                f"{times['cpu']:10.2f} {goal:>5}"
            )


if __name__ == "__main__":
    main()
