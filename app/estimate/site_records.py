"""Records sent about a saved estimate (delivery tickets, field tests): one reader for the
list each request carries, so both name a bad record by its index in the same words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.errors import InvalidInput

MAX_RECORDS = 10_000
"""Records one request may carry."""

Record = TypeVar("Record", bound=BaseModel)


def read_records(
    body: Any,
    *,
    key: str,
    model: type[Record],
    names: tuple[str, str, str],
    features: int,
    check: Callable[[Record, int], None],
) -> list[Record]:
    """The records under `key` of `body` (or `body` itself, a bare list), each validated by
    `model`, with its `feature` index within the estimate's `features`, then by `check`
    (record, index). `names` are the record's name, plural and long plural ("ticket",
    "tickets", "delivery tickets"). A problem names the record's index."""
    one, many, described = names
    rows = body.get(key) if isinstance(body, dict) else body
    if not isinstance(rows, list) or not rows:
        raise InvalidInput(f"send a list of {described} under '{key}'", field=key)
    if len(rows) > MAX_RECORDS:
        raise InvalidInput(f"{len(rows):,} {many}; at most {MAX_RECORDS:,} a request")
    records = []
    for index, row in enumerate(rows):
        try:
            record = model.model_validate(row)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"]) or one
            raise InvalidInput(error["msg"], row=index, field=where) from None
        check(record, index)
        feature = getattr(record, "feature", None)
        if feature is not None and feature >= features:
            raise InvalidInput(
                f"the estimate has {features} features (0 to {features - 1})",
                row=index,
                field="feature",
            )
        records.append(record)
    return records
