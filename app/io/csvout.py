"""CSV output: UTF-8, `,`, a header, the input's columns then the results, WKT geometry.

Rows are encoded where they are estimated (a batch worker, or the request for a single
estimate) and the writer only appends bytes. Money stays exact decimal text; every text cell,
the input's WKT included, goes through the formula guard (`app.io.safety`).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, replace
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
    an error file: the failed rows' input columns alone, to fix and send again. With
    `pieces`, a folder, the rows are written there as a file of their own (a worker process
    writes its chunk's rows itself instead of sending the bytes back to be written).
    """

    wkt_column: str | None
    errors_only: bool = False
    pieces: str | None = None

    def in_pieces(self, folder: str) -> CsvFormat:
        """The same format, its rows written as files in `folder`."""
        return replace(self, pieces=folder)


@dataclass(frozen=True)
class EncodedRows:
    """A chunk's rows as CSV: the header line, and the rows as bytes or as a piece file
    (`CsvFormat.pieces`) that the sink appends and removes."""

    header: bytes
    rows: bytes = b""
    piece: str | None = None


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


def encode_csv(fmt: CsvFormat, chunk: OutputChunk, piece: str = "rows") -> EncodedRows:
    """The chunk's rows as CSV: workers encode, the writer only appends. With `fmt.pieces`
    the rows go to the file `piece` in that folder (a name unique to the chunk)."""
    table = csv_table(fmt, chunk)
    header = io.BytesIO()
    pacsv.write_csv(table.slice(0, 0), header)
    options = pacsv.WriteOptions(include_header=False, batch_size=8192)
    if fmt.pieces is not None:
        path = os.path.join(fmt.pieces, f"{piece}.csv")
        pacsv.write_csv(table, path, options)
        return EncodedRows(header.getvalue(), piece=path)
    rows = io.BytesIO()
    pacsv.write_csv(table, rows, options)
    return EncodedRows(header.getvalue(), rows.getvalue())


class CsvSink:
    """A CSV file appended chunk by chunk with rows encoded elsewhere (`encode_csv`)."""

    def __init__(self, path: Path, wkt_column: str | None, errors_only: bool = False) -> None:
        self.path = path
        self.csv_format: CsvFormat | None = CsvFormat(wkt_column, errors_only)
        self._stream = path.open("wb", buffering=0)  # pieces are appended to its descriptor
        self._header = False

    def write(self, chunk: OutputChunk | None, encoded: EncodedRows | None) -> None:
        """Append the chunk's rows, already encoded; a piece file is copied by the kernel
        and removed."""
        assert encoded is not None
        if not self._header:
            self._stream.write(encoded.header)
            self._header = True
        if encoded.piece is None:
            self._stream.write(encoded.rows)
            return
        with open(encoded.piece, "rb") as piece:
            size = os.fstat(piece.fileno()).st_size
            copied = 0
            while copied < size:
                copied += os.sendfile(self._stream.fileno(), piece.fileno(), copied, size - copied)
        os.unlink(encoded.piece)

    def close(self, outcome: Outcome) -> None:
        """Close the file (empty when the input had no row)."""
        self._stream.close()
