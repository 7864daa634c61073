"""CSV output: UTF-8, `,`, a header, the input's columns then the results, WKT geometry.

Rows are encoded where they are estimated (a batch worker, or the request for a single
estimate) and the writer only appends bytes. Money stays exact decimal text; every text cell,
the input's WKT included, goes through the formula guard (`app.io.safety`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely

from app.io.rows import OutputChunk
from app.io.safety import neutralise_table

if TYPE_CHECKING:
    from app.io.writers import Outcome

WKT_DECIMALS = 7  # about 1 cm, as in GeoJSON


@dataclass(frozen=True)
class CsvFormat:
    """How a CSV output encodes rows; picklable, so workers format and the writer appends.

    `wkt_column` is the input's WKT column (copied, not written again); `errors_only` makes
    an error file: the failed rows' input columns alone, to fix and send again.
    """

    wkt_column: str | None
    errors_only: bool = False


def csv_table(fmt: CsvFormat, chunk: OutputChunk) -> pa.Table:
    """The rows of a CSV output, text neutralised: input columns (WKT as sent), then results;
    for an error file, the failed rows' input columns alone."""
    if fmt.errors_only:
        table = chunk.attributes.filter(pa.array(chunk.failed))
        wkb = None if chunk.wkb is None else chunk.wkb[chunk.failed]
    else:
        table = chunk.attributes
        for name in chunk.results.column_names:
            table = table.append_column(name, chunk.results.column(name))
        wkb = chunk.wkb
    if fmt.wkt_column is None:
        geometries = shapely.from_wkb(wkb) if wkb is not None else np.full(table.num_rows, None)
        text = shapely.to_wkt(geometries, rounding_precision=WKT_DECIMALS, trim=True)
        table = table.append_column("wkt", pa.array(text, pa.string()))
    return neutralise_table(table)


def encode_csv(fmt: CsvFormat, chunk: OutputChunk) -> tuple[bytes, bytes]:
    """(header line, rows) of the chunk as CSV: workers encode, the writer only appends."""
    table = csv_table(fmt, chunk)
    rows = io.BytesIO()
    pacsv.write_csv(table, rows, pacsv.WriteOptions(include_header=False, batch_size=8192))
    header = io.BytesIO()
    pacsv.write_csv(table.slice(0, 0), header)
    return header.getvalue(), rows.getvalue()


class CsvSink:
    """A CSV file appended chunk by chunk with rows encoded elsewhere (`encode_csv`)."""

    def __init__(self, path: Path, wkt_column: str | None, errors_only: bool = False) -> None:
        self.path = path
        self.csv_format: CsvFormat | None = CsvFormat(wkt_column, errors_only)
        self._stream = path.open("wb")
        self._header = False

    def write(self, chunk: OutputChunk | None, encoded: tuple[bytes, bytes] | None) -> None:
        """Append the chunk's rows, already encoded."""
        assert encoded is not None
        header, rows = encoded
        if not self._header:
            self._stream.write(header)
            self._header = True
        self._stream.write(rows)

    def close(self, outcome: Outcome) -> None:
        """Close the file (empty when the input had no row)."""
        self._stream.close()
