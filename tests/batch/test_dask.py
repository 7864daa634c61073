"""`--engine dask` gives what the local engine gives, on the same input, across chunks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench.batch.__main__ import generate
from tests.batch.conftest import SAMPLE_LAYER
from tests.live import run_takeoff


def test_dask_and_local_engines_agree(tmp_path: Path) -> None:
    source = tmp_path / "lines.csv"
    generate(source, 40_000, seed=3)  # about 6 MiB: two chunks at least
    with source.open("a", encoding="utf-8") as stream:
        stream.write('40000,"bad",,"",LINESTRING (1 2\n')
    store = str(tmp_path / "store")
    outputs = {}
    for engine in ("local", "dask"):
        out = tmp_path / f"{engine}.csv"
        run = run_takeoff(
            "estimate", str(source), "-o", str(out), "--engine", engine, data_dir=store
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


def test_dask_geopandas_partitions_give_the_local_result(tmp_path: Path) -> None:
    layer = __import__("geopandas").read_file(SAMPLE_LAYER)
    layer.loc[3, "highway"] = "footway"  # a row the map cannot price
    source = tmp_path / "roads.parquet"
    layer.to_parquet(source)
    store = str(tmp_path / "store")
    frames = {}
    for engine in ("local", "dask"):
        out = tmp_path / f"{engine}.csv"
        run = run_takeoff(
            "estimate",
            str(source),
            "-o",
            str(out),
            "--engine",
            engine,
            "--template-map",
            "osm-highway",
            data_dir=store,
        )
        assert run.returncode == 0, run.stderr
        frames[engine] = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert frames["dask"].equals(frames["local"])
    assert frames["local"]["error"].iloc[3].startswith("row 4, column highway: no template")
