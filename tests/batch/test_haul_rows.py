"""`takeoff estimate` with an analysed catalog: `--haul-km` for the file, `haul_km` per row."""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from app.estimate.catalogs import load_builtin_catalogs
from tests.live import run_takeoff


def test_rows_are_priced_at_their_own_haul_distance(tmp_path: Path, data_dir: Path) -> None:
    source = tmp_path / "roads.csv"
    line = "LINESTRING (106.63 -6.17, 106.631 -6.17)"
    source.write_text(
        "name,wkt,template,haul_km\n"
        f'near,"{line}",asphalt-overlay,5\n'
        f'default,"{line}",asphalt-overlay,\n'
        f'bad,"{line}",asphalt-overlay,-2\n',
        encoding="utf-8",
    )
    output = tmp_path / "out.csv"
    done = run_takeoff(
        "estimate",
        str(source),
        "-o",
        str(output),
        "--catalog",
        "tangerang-ahsp-sample",
        "--haul-km",
        "25",
        data_dir=str(tmp_path / "store"),
    )
    assert done.returncode == 0, done.stderr
    with output.open(encoding="utf-8", newline="") as stream:
        rows = {row["name"]: row for row in csv.DictReader(stream)}
    sample = load_builtin_catalogs(data_dir / "catalogs")["tangerang-ahsp-sample"]
    for name, km in (("near", 5), ("default", 25)):
        tonnes = Decimal(rows[name]["ac_wc_t"])
        hsp = sample.costing("AC-WC", Decimal(km)).hsp
        expected = (tonnes * hsp).quantize(Decimal(1), ROUND_HALF_UP)
        assert abs(Decimal(rows[name]["ac_wc_amount"]) - expected) <= hsp / 100  # t to 2 dp
    assert Decimal(rows["default"]["ac_wc_amount"]) > Decimal(rows["near"]["ac_wc_amount"])
    assert rows["bad"]["status"] == "error"
    assert "haul_km" in rows["bad"]["error"]
    haul = {name: (row["ac_wc_haul_km"], row["ac_wc_haul_from"]) for name, row in rows.items()}
    assert haul == {"near": ("5", "request"), "default": ("25", "request"), "bad": ("", "")}
