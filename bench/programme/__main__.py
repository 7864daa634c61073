"""Time `takeoff programme` on a 100,000-segment inventory, and its peak memory at two sizes.

Run from the repository root: `python -m bench.programme [--segments N] [--keep DIR]`.
Data (seeded): an inventory CSV as a Dinas PU spreadsheet saves it (`;`, decimal commas,
Indonesian headers: nama_ruas, kelurahan, kecamatan, panjang, lebar, perkerasan, kondisi,
iri, pci, fungsi) with a WKT line per segment around Kota Tangerang (2-4 vertices, 10-80 m
apart), every pavement, condition source and road class mixed, and 1,000 complaint points
(GeoJSON) near random segments. The real CLI runs twice, on N/10 and on N segments:
`takeoff programme inv.csv -o out.csv --budget B --complaints aduan.geojson` (embedded
store); peak memory is the command's proportional set size sampled every 50 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from bench.batch.__main__ import _pss

PAVEMENTS = ("aspal", "beton", "paving", "tanah")
CONDITIONS = ("baik", "sedang", "rusak ringan", "rusak berat")
CLASSES = ("lingkungan", "lokal", "kolektor", "arteri")
KECAMATAN = ("Tangerang", "Cibodas", "Karawaci", "Batuceper", "Cipondoh", "Ciledug")


def _number(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def generate(folder: Path, segments: int, seed: int = 7) -> tuple[Path, Path]:
    """The inventory CSV and the complaint points."""
    rng = np.random.default_rng(seed)
    path = folder / f"inventaris-{segments}.csv"
    lon0 = rng.uniform(106.55, 106.72, segments)
    lat0 = rng.uniform(-6.26, -6.10, segments)
    with path.open("w", encoding="utf-8") as stream:
        stream.write("nama_ruas;kelurahan;kecamatan;lebar;perkerasan;kondisi;iri;pci;fungsi;wkt\n")
        for n in range(segments):
            vertices = int(rng.integers(2, 5))
            steps = rng.uniform(10, 80, vertices - 1) / 111_320.0
            heading = rng.uniform(0, 2 * np.pi)
            lon = lon0[n] + np.concatenate([[0.0], np.cumsum(steps * np.cos(heading))])
            lat = lat0[n] + np.concatenate([[0.0], np.cumsum(steps * np.sin(heading))])
            wkt = (
                "LINESTRING ("
                + ", ".join(f"{x:.7f} {y:.7f}" for x, y in zip(lon, lat, strict=True))
                + ")"
            )
            source = n % 3
            kondisi = CONDITIONS[n % 4] if source == 0 else ""
            iri = _number(rng.uniform(1, 16)) if source == 1 else ""
            pci = _number(rng.uniform(5, 100)) if source == 2 else ""
            stream.write(
                f"Jalan {n};Kel {n % 40};{KECAMATAN[n % len(KECAMATAN)]};"
                f"{_number(rng.uniform(3, 9))};{PAVEMENTS[(n // 4) % 4]};{kondisi};{iri};{pci};"
                f"{CLASSES[(n // 16) % 4]};{wkt}\n"
            )
    near = rng.integers(0, segments, 1_000)
    points = [
        {
            "type": "Feature",
            "geometry": {
                "type": "Point",
                "coordinates": [float(lon0[i]) + 0.0001, float(lat0[i]) + 0.0001],
            },
            "properties": {"aduan": "lubang"},
        }
        for i in near
    ]
    complaints = folder / "aduan.geojson"
    complaints.write_text(json.dumps({"type": "FeatureCollection", "features": points}))
    return path, complaints


def run(source: Path, complaints: Path, output: Path, store: Path) -> tuple[float, float, str]:
    """Wall time and peak PSS (MiB) of `takeoff programme`."""
    env = {**os.environ, "TAKEOFF_DATA_DIR": str(store)}
    env.pop("TAKEOFF_DATABASE_URL", None)
    takeoff = str(Path(sys.executable).with_name("takeoff"))
    subprocess.run([takeoff, "db", "upgrade"], env=env, check=True, capture_output=True)
    command = [
        takeoff,
        "programme",
        str(source),
        "-o",
        str(output),
        "--budget",
        "50000000000",
        "--complaints",
        str(complaints),
    ]
    start = time.perf_counter()
    process = psutil.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            with contextlib.suppress(psutil.Error, OSError):
                peak = max(peak, _pss(process.pid) / 2**20)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"takeoff programme failed:\n{stderr}")
    return seconds, peak, stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="Keep the data and outputs in this folder.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="takeoff-bench-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        print("| segments | seconds | segments/s | peak PSS MiB | output MiB |")
        print("|---|---|---|---|---|")
        for segments in (args.segments // 10, args.segments):
            inventory, complaints = generate(folder, segments)
            output = folder / f"programme-{segments}.csv"
            seconds, peak, stdout = run(inventory, complaints, output, folder / "store")
            size = output.stat().st_size / 2**20
            print(
                f"| {segments:,} | {seconds:.1f} | {segments / seconds:,.0f} | {peak:.0f} | "
                f"{size:.0f} |"
            )
        print(stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
