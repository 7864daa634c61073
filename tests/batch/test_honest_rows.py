"""Every row honest: a row fails alone with its reason, the rest are priced once, and neither
row order nor chunk boundaries change a row's result or the bill."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from app.batch.runner import BatchOptions, BatchRunner, BatchSummary
from app.batch.work import OutputChunk
from app.io.sources import open_source
from app.pipeline import EstimateOptions
from tests.live import run_takeoff

ROAD = "LINESTRING (106.6300 -6.1700, 106.6309 -6.1700)"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_rows_asking_for_another_vat_fail_alone_and_the_rest_are_priced(tmp_path: Path) -> None:
    """The first row gives no VAT, the next 1,100 ask for 12 % against the catalog's 11 %."""
    source = tmp_path / "vat.csv"
    lines = ["id,vat_pct,wkt", f'1,,"{ROAD}"']
    lines += [f'{i},12,"{ROAD}"' for i in range(2, 1102)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    run = run_takeoff(
        "estimate",
        str(source),
        "-o",
        str(out),
        "--catalog",
        "tangerang-sample",
        "--template",
        "local-flexible",
        data_dir=str(tmp_path / "store"),
    )
    assert run.returncode == 0, run.stderr
    rows = _rows(out)
    assert len(rows) == 1101
    first, rest = rows[0], rows[1:]
    assert first["status"] == "ok" and first["error"] == ""
    assert Decimal(first["total"]) > 0
    assert Decimal(first["tax"]) == (
        (Decimal(first["subtotal"]) + Decimal(first["overhead_profit"])) * Decimal("0.11")
    ).quantize(Decimal(1))
    assert {row["status"] for row in rest} == {"error"}
    assert [row["error"].split(":")[0] for row in rest] == [
        f"row {i}, column vat_pct" for i in range(2, 1102)
    ]
    assert rest[0]["error"].startswith(
        "row 2, column vat_pct: vat_pct 12 differs from 11 (catalog tangerang-sample's)"
    )
    assert {row["total"] for row in rest} == {""}
    summary = " ".join(run.stdout.split())
    assert "1,101 rows: 1 estimated, 1,100 with errors" in summary
    # the bill is that one row's and the project items' (24,000,000 + 11 % PPN: 26,640,000),
    # printed with thousands separators
    total_line = next(line for line in run.stdout.splitlines() if " Total " in line)
    assert f" {int(Decimal(first['total'])) + 26_640_000:,} " in total_line


class _Collect:
    csv_format = None

    def __init__(self) -> None:
        self.chunks: list[OutputChunk] = []

    def write(self, chunk: OutputChunk | None, encoded: object) -> None:
        assert chunk is not None
        self.chunks.append(chunk)

    def close(self, summary: object) -> None:
        pass


def _mixed_csv(path: Path, order: np.ndarray) -> Path:
    """Rows of every kind: templates, widths, own VAT equal to or unlike the catalog's, own
    O&P, bad widths, broken WKT and a thickness for an item the template lacks."""
    rng = np.random.default_rng(11)
    count = order.size
    lon = rng.uniform(106.55, 106.72, count)
    lat = rng.uniform(-6.26, -6.10, count)
    templates = rng.choice(["local-flexible", "neighbourhood-rigid", ""], count)
    widths = rng.choice(["3.5", "6", "", "-1", "wide"], count, p=[0.4, 0.3, 0.2, 0.05, 0.05])
    vat = rng.choice(["", "11", "12"], count, p=[0.6, 0.2, 0.2])
    op = rng.choice(["", "0", "5"], count, p=[0.8, 0.15, 0.05])
    rows = []
    for i in range(count):
        wkt = (
            f"LINESTRING ({lon[i]:.6f} {lat[i]:.6f}, {lon[i] + 0.001:.6f} {lat[i]:.6f})"
            if i % 97
            else "LINESTRING (106.6 -6.1"
        )
        thickness = '"{""AC-WC"": 0.06}"' if i % 89 == 0 else ""
        rows.append(f'{i},{templates[i]},{widths[i]},{vat[i]},{op[i]},{thickness},"{wkt}"')
    header = "id,template,width_m,vat_pct,overhead_profit_pct,thickness,wkt"
    path.write_text("\n".join([header, *(rows[i] for i in order)]) + "\n", encoding="utf-8")
    return path


def _run(path: Path, chunk_bytes: int, templates, catalog) -> tuple[BatchSummary, dict]:
    source = open_source(path)
    source.chunk_bytes = chunk_bytes
    codes = [
        item.code for t in ("local-flexible", "neighbourhood-rigid") for item in templates[t].items
    ]
    runner = BatchRunner(
        source,
        BatchOptions(
            EstimateOptions(template="local-flexible", catalog="tangerang-sample"), workers=1
        ),
        catalog,
        lambda reference: templates[reference],
        codes,
    )
    sink = _Collect()
    summary = runner.run([sink])
    per_row = {}
    for chunk in sink.chunks:
        ids = chunk.attributes.column("id").to_pylist()
        results = chunk.results.to_pylist()
        for row_id, result in zip(ids, results, strict=True):
            error = result.pop("error")
            # the row number is where the row sits in this file; the reason is the row's own
            result["reason"] = None if error is None else error.split(": ", 1)[1]
            per_row[row_id] = result
    return summary, per_row


def test_shuffled_rows_in_other_chunks_give_the_same_rows_and_bill(
    tmp_path: Path, templates, catalog
) -> None:
    count = 1200
    ordered = _mixed_csv(tmp_path / "ordered.csv", np.arange(count))
    shuffled = _mixed_csv(tmp_path / "shuffled.csv", np.random.default_rng(3).permutation(count))
    summary, rows = _run(ordered, 1 << 20, templates, catalog)
    again, rows_again = _run(shuffled, 9_000, templates, catalog)
    assert summary.rows == again.rows == count
    assert 0 < summary.failed == again.failed < count // 2
    assert rows == rows_again
    statuses = {row["status"] for row in rows.values()}
    assert statuses == {"ok", "error"}
    for row in rows.values():  # an ok row always has its money, a failed one none
        assert (row["status"] == "ok") == (row["total"] is not None) == (row["reason"] is None)
    reasons = {row["reason"].split(" ")[0] for row in rows.values() if row["reason"]}
    assert {"vat_pct", "overhead_profit_pct", "thickness"} <= reasons
    bill, bill_again = summary.bill, again.bill
    assert bill is not None and bill_again is not None
    assert bill.totals.total == bill_again.totals.total > 0
    assert [(line.code, line.unit_rate, line.amount) for line in bill.items] == [
        (line.code, line.unit_rate, line.amount) for line in bill_again.items
    ]
    assert [line.quantity for line in bill.items] == pytest.approx(
        [line.quantity for line in bill_again.items], rel=1e-12
    )
    assert bill.templates == bill_again.templates


def test_dissolve_takes_off_what_an_earlier_row_in_another_chunk_paves(
    tmp_path: Path, templates, catalog
) -> None:
    """Row 1 paves 106.6300-106.6320; row 2 asks for another VAT, so it fails and paves
    nothing; row 3 (106.6310-106.6330) is charged only for the half row 1 does not pave."""
    path = tmp_path / "overlap.csv"
    first = "LINESTRING (106.6300 -6.1700, 106.6320 -6.1700)"
    later = "LINESTRING (106.6310 -6.1700, 106.6330 -6.1700)"
    path.write_text(
        f'id,width_m,vat_pct,wkt\n1,6,,"{first}"\n2,6,12,"{later}"\n3,6,,"{later}"\n',
        encoding="utf-8",
    )

    def areas(dissolve: bool, chunk_bytes: int) -> tuple[list[float | None], int]:
        source = open_source(path)
        source.chunk_bytes = chunk_bytes
        options = EstimateOptions(
            template="local-flexible", catalog="tangerang-sample", dissolve=dissolve
        )
        runner = BatchRunner(
            source,
            BatchOptions(options, workers=2),
            catalog,
            lambda reference: templates[reference],
            [item.code for item in templates["local-flexible"].items],
        )
        sink = _Collect()
        runner.run([sink])
        column = [a for chunk in sink.chunks for a in chunk.results.column("area_m2").to_pylist()]
        found = [None if a is None else float(a) for a in column]  # written as 2-decimal m2
        notes = [w for chunk in sink.chunks for w in chunk.results.column("warnings").to_pylist()]
        assert notes[:2] == [None, None]
        if dissolve:
            assert notes[2] == (
                f"{found[2]:.2f} m2 of it is paved by earlier features and not charged again "
                "(dissolve)"
            )
        return found, len(sink.chunks)

    plain, _ = areas(False, 1 << 20)
    dissolved, chunks = areas(True, 60)
    assert chunks == 3
    assert plain[1] is None and dissolved[1] is None
    assert dissolved[0] == pytest.approx(plain[0], rel=1e-12)
    assert dissolved[2] == pytest.approx(plain[2] / 2, rel=1e-3)
    whole, _ = areas(True, 1 << 20)
    assert whole == pytest.approx(dissolved, rel=1e-9)
