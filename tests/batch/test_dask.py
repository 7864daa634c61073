"""`--engine dask` gives what the local engine gives, on the same input, across chunks, on a
real scheduler with two worker processes; without Dask installed it says how to get it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.batch.__main__ import generate
from tests.batch.conftest import EXCEL_CSV, SAMPLE_LAYER
from tests.live import run_takeoff, takeoff_env


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a Dask scheduler on this machine with two single-threaded workers."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def test_dask_and_local_engines_agree(tmp_path: Path, scheduler: str) -> None:
    source = tmp_path / "lines.csv"
    generate(source, 40_000, seed=3)  # about 6 MiB: two chunks at least
    with source.open("a", encoding="utf-8") as stream:
        stream.write('40000,"bad",,"",LINESTRING (1 2\n')
    store = str(tmp_path / "store")
    outputs = {}
    for engine in ("local", "dask"):
        out = tmp_path / f"{engine}.csv"
        on = ["--scheduler", scheduler] if engine == "dask" else []
        run = run_takeoff(
            "estimate", str(source), "-o", str(out), "--engine", engine, *on, data_dir=store
        )
        assert run.returncode == 0, run.stderr
        outputs[engine] = (pd.read_csv(out, low_memory=False), run.stdout.split(" -> ")[0])
    local, dask = outputs["local"][0], outputs["dask"][0]
    assert len(local) == len(dask) == 40_001
    assert list(local.columns) == list(dask.columns)
    numeric = local.select_dtypes("number").columns
    assert len(numeric) > 20
    np.testing.assert_allclose(
        dask[numeric].to_numpy(), local[numeric].to_numpy(), rtol=1e-9, atol=0, equal_nan=True
    )
    text = local.columns.difference(numeric)
    assert dask[text].fillna("").equals(local[text].fillna(""))
    assert local["status"].iloc[-1] == "error"
    assert outputs["dask"][1] == outputs["local"][1]  # the same bill, to the rupiah


def test_dask_geopandas_partitions_give_the_local_result(tmp_path: Path, scheduler: str) -> None:
    layer = __import__("geopandas").read_file(SAMPLE_LAYER)
    layer.loc[3, "highway"] = "footway"  # a row the map cannot price
    source = tmp_path / "roads.parquet"
    layer.to_parquet(source)
    store = str(tmp_path / "store")
    frames = {}
    for engine in ("local", "dask"):
        out = tmp_path / f"{engine}.csv"
        on = ["--scheduler", scheduler] if engine == "dask" else []
        run = run_takeoff(
            "estimate",
            str(source),
            "-o",
            str(out),
            "--engine",
            engine,
            *on,
            "--template-map",
            "osm-highway",
            data_dir=store,
        )
        assert run.returncode == 0, run.stderr
        frames[engine] = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert frames["dask"].equals(frames["local"])
    assert frames["local"]["error"].iloc[3].startswith("row 4, column highway: no template")


def test_without_dask_the_engine_names_the_extra_to_install(tmp_path: Path) -> None:
    source = tmp_path / "jalan.csv"
    source.write_text(EXCEL_CSV, encoding="utf-8")
    out = tmp_path / "out.csv"
    hide_dask = "import sys; sys.modules['distributed'] = None; "  # as if not installed
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            hide_dask + "from app.cli.main import main; main()",
            "estimate",
            str(source),
            "-o",
            str(out),
            "--engine",
            "dask",
        ],
        env=takeoff_env(data_dir=str(tmp_path / "store")),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 2
    assert run.stderr == (
        "takeoff: error: --engine dask needs Dask (distributed is not installed): "
        "pip install takeoff[dask]\n"
    )
    assert not out.exists()
