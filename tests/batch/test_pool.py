"""The local engine's worker processes: forked by a fork server, never by the process that
already runs Arrow's and the database driver's threads; writing their own rows."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

from app.batch.pool import process_pool
from app.batch.runner import BatchOptions, BatchRunner, BatchSummary
from app.io.csvout import CsvSink
from app.io.sources import open_source
from app.pipeline import EstimateOptions


def test_workers_are_children_of_the_fork_server_not_of_this_process() -> None:
    with process_pool(2) as pool:
        parents = {pool.submit(os.getppid).result() for _ in range(4)}
    assert os.getpid() not in parents
    assert len(parents) == 1  # one fork server for every worker


def test_workers_write_their_rows_to_pieces_appended_in_input_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, templates, catalog
) -> None:
    """Local workers write each chunk's CSV rows to a file of their own; the output is the
    same bytes as when the calling process encodes every chunk, and no piece is left."""
    rng = np.random.default_rng(3)
    lines = tmp_path / "lines.csv"
    with lines.open("w", encoding="utf-8") as stream:
        stream.write("id,template,wkt\n")
        for row in range(2_000):
            lon, lat = rng.uniform(106.55, 106.72), rng.uniform(-6.26, -6.10)
            template = ("local-flexible", "neighbourhood-rigid", "")[row % 3]
            stream.write(f'{row},{template},"LINESTRING ({lon} {lat}, {lon + 0.001} {lat})"\n')
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    codes = [
        item.code
        for slug in ("local-flexible", "neighbourhood-rigid")
        for item in templates[slug].items
    ]

    def write(workers: int, output: Path) -> BatchSummary:
        source = open_source(lines)
        source.chunk_bytes = 10_000  # about 150 rows a chunk
        runner = BatchRunner(
            source,
            BatchOptions(
                EstimateOptions(template="local-flexible", catalog="tangerang-sample"),
                workers=workers,
            ),
            catalog,
            lambda reference: templates[reference],
            codes,
        )
        summary = runner.run([CsvSink(output, "wkt")])
        return summary

    inline = write(1, tmp_path / "inline.csv")
    pooled = write(2, tmp_path / "pooled.csv")
    assert (tmp_path / "pooled.csv").read_bytes() == (tmp_path / "inline.csv").read_bytes()
    assert pooled.rows == inline.rows == 2_000
    assert [t.slug for t in pooled.templates] == ["local-flexible", "neighbourhood-rigid"]
    assert list(scratch.iterdir()) == []
