"""Figures kept per object: computed once while the object lives, gone with it."""

from __future__ import annotations

import gc

from app import memo


class _Owner:
    """Anything that can be referred to weakly."""


def test_a_figure_is_worked_out_once_per_owner_and_goes_with_it() -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    first, second = _Owner(), _Owner()
    assert memo.once_per((first,), "figure", compute) == 1
    assert memo.once_per((first,), "figure", compute) == 1
    assert memo.once_per((second,), "figure", compute) == 2
    assert memo.once_per((first, second), "figure", compute) == 3
    assert memo.once_per((first,), "another figure", compute) == 4
    kept = len(memo._kept)
    del first
    gc.collect()
    # the figures of `first`, alone and with `second`, are dropped; `second`'s own stays
    assert len(memo._kept) == kept - 3
    assert memo.once_per((second,), "figure", compute) == 2
