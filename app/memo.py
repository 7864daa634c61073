"""Figures worked out once per object they depend on, for as long as those objects live.

A stored template or catalog version is validated once and then shared by every request that
names it (`app.resolve`), so what is derived from it alone (its item order, its priced project
items, whether a catalog can price a template) need not be derived again per request. The
figures are kept against the objects' identity, never their content: a copy (`model_copy`,
a catalog priced at a request's haul distance) is a new object and works its own out, and
the figures go when any object they depend on is collected. A kept figure must not refer to
its owners, or they would never be collected.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, TypeVar

Value = TypeVar("Value")

_kept: dict[tuple[Any, ...], tuple[tuple[weakref.ref[Any], ...], Any]] = {}


def once_per(owners: tuple[object, ...], name: str, compute: Callable[[], Value]) -> Value:
    """`compute()`, kept for these very `owners` under `name` until one of them is collected."""
    key = (name, *map(id, owners))
    kept = _kept.get(key)
    if kept is not None and all(ref() is owner for ref, owner in zip(kept[0], owners, strict=True)):
        value: Value = kept[1]
        return value
    value = compute()
    forget = _forgetting(key)
    _kept[key] = (tuple(weakref.ref(owner, forget) for owner in owners), value)
    return value


def _forgetting(key: tuple[Any, ...]) -> Callable[[weakref.ref[Any]], None]:
    """What drops the figure kept under `key` when one of its owners is collected."""

    def forget(_: weakref.ref[Any]) -> None:
        _kept.pop(key, None)

    return forget
