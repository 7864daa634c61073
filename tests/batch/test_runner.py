"""The streaming runner without the CLI: chunking changes nothing, rules are safe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from app.batch.mapping import WidthRule, load_template_map
from app.batch.runner import BatchOptions, BatchRunner
from app.batch.work import OutputChunk
from app.errors import InvalidInput
from app.estimate import Measures, price_bill
from app.geo.measure import measure
from app.geo.parse import parse_wkt
from app.io.csvin import sniff_csv
from app.io.sources import open_source
from app.pipeline import EstimateOptions

TEXT = pacsv.ConvertOptions(column_types={"width_m": pa.string(), "wkt": pa.string()})


class _Collect:
    csv_format = None

    def __init__(self) -> None:
        self.chunks: list[OutputChunk] = []

    def write(self, chunk: OutputChunk | None, encoded: object) -> None:
        assert chunk is not None
        self.chunks.append(chunk)

    def close(self, summary: object) -> None:
        pass


def _lines_csv(path: Path, count: int) -> Path:
    rng = np.random.default_rng(7)
    lon = rng.uniform(106.55, 106.72, count)
    lat = rng.uniform(-6.26, -6.10, count)
    dx = rng.uniform(-0.003, 0.003, count)
    widths = rng.uniform(3, 8, count)
    templates = rng.choice(["local-flexible", "neighbourhood-rigid", ""], count)
    with path.open("w", encoding="utf-8") as stream:
        stream.write("template,width_m,wkt\n")
        for i in range(count):
            stream.write(
                f'{templates[i]},{widths[i]:.3f},"LINESTRING ({lon[i]:.7f} {lat[i]:.7f}, '
                f'{lon[i] + dx[i]:.7f} {lat[i] + 0.001:.7f})"\n'
            )
    return path


def test_the_batch_bill_is_priced_on_quantities_summed_over_chunks(
    tmp_path: Path, templates, catalog
) -> None:
    source = open_source(_lines_csv(tmp_path / "lines.csv", 3000))
    source.chunk_bytes = 20_000  # ~250 rows a chunk
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
    assert len(sink.chunks) > 5
    assert summary.rows == 3000 and summary.failed == 0
    results = [chunk.results for chunk in sink.chunks]
    # the measures at full precision (the written columns carry the bill's 2 decimals)
    rows = pacsv.read_csv(tmp_path / "lines.csv", convert_options=TEXT)
    widths = np.asarray(rows.column("width_m").to_pylist(), dtype=float)
    measured = measure(parse_wkt(rows.column("wkt")).geometries, widths, True)
    length = measured.length_m
    width = measured.area_m2 / measured.length_m
    used = np.concatenate(
        [r.column("template_result").to_numpy(zero_copy_only=False) for r in results]
    )
    # the whole file as one estimate, with its project items once
    whole = price_bill(
        Measures.from_columns(length, width),
        list(used),
        templates=templates,
        catalog=catalog,
        project_items=True,
    )
    assert summary.bill is not None
    assert summary.bill.totals.total == whole.totals.total
    assert [(line.code, line.amount) for line in summary.bill.items] == [
        (line.code, line.amount) for line in whole.items
    ]
    per_chunk_total = sum(
        r.column("total").to_pylist()[i] for r in results for i in range(r.num_rows)
    )
    assert per_chunk_total != whole.totals.total  # rounding per row differs; the bill does not


def test_width_rules_are_arithmetic_on_columns_only() -> None:
    rule = WidthRule.parse("lanes * 3.5 + (shoulder - 0.5) / 2")
    assert rule.columns == ["lanes", "shoulder"]
    widths = rule.evaluate({"lanes": np.array([2.0, np.nan]), "shoulder": np.array([1.5, 1.0])})
    assert widths[0] == 7.5 and np.isnan(widths[1])
    for text in ("__import__('os').system('x')", "lanes ** 2", "open('f')", "lanes.real", "'a'"):
        with pytest.raises(InvalidInput, match="width rule"):
            WidthRule.parse(text)


def test_the_shipped_osm_map_covers_the_sample_classes() -> None:
    mapping = load_template_map("osm-highway")
    assert mapping.column == "highway"
    found, problems = mapping.lookup(
        np.array(["residential", "secondary", "footway", None], dtype=object)
    )
    assert found[:2] == ["local-flexible", "collector-flexible"]
    assert found[2] is None and "footway" in str(problems[2])
    assert mapping.width_from is not None and mapping.width_from.columns == ["lanes"]


@pytest.mark.parametrize(
    ("text", "separator", "decimal"),
    [
        ('id,width_m,wkt\n1,3.5,"LINESTRING (1 2, 3 4)"\n', ",", "."),
        ("id;width_m;wkt\n1;3,5;LINESTRING (1 2, 3 4)\n", ";", ","),
        ("\ufeffid;width_m;wkt\n1;3.5;LINESTRING (1 2, 3 4)\n", ";", "."),
        ("id\twidth_m\twkt\n1\t3,5\tLINESTRING (1 2, 3 4)\n", "\t", ","),
    ],
)
def test_csv_dialects_are_detected(tmp_path: Path, text: str, separator: str, decimal: str) -> None:
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8")
    dialect = sniff_csv(path)
    assert (dialect.separator, dialect.decimal) == (separator, decimal)
