"""Options several commands share, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

CsvSeparator = Annotated[str | None, typer.Option(help="CSV separator (default: detected).")]
CsvDecimal = Annotated[
    str | None, typer.Option(help="CSV decimal mark, . or , (default: detected).")
]
CsvEncoding = Annotated[str, typer.Option(help="CSV text encoding.")]
