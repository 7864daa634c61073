"""Time pricing 1,000,000 measured segments against a plain numpy multiply of the same arrays.

Run from the repository root: `python -m bench.estimate [--segments N] [--repeat R]`.
Each case is timed `repeat` times and the best time is reported (the least disturbed run).
The floor is `length_m * width_m`: one array operation, the least any pricing must cost.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from app.estimate import Measures, Overrides, find_catalog, price_bill
from app.estimate.catalogs import load_builtin_catalogs
from app.estimate.templates import load_builtin_templates

DATA = Path(__file__).resolve().parents[2] / "data"


def best_of(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--segments", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    templates = load_builtin_templates(DATA / "templates")
    catalog = find_catalog(load_builtin_catalogs(DATA / "catalogs"), "tangerang-sample")
    rng = np.random.default_rng(42)
    n = args.segments
    length = rng.uniform(5, 400, n)
    width = rng.uniform(2.5, 12, n)
    mixed = rng.choice(["local-flexible", "collector-flexible", "neighbourhood-rigid"], n)
    few_overridden = [Overrides(width_m=4.0) if i % 1000 == 0 else None for i in range(n)]
    measures = Measures.from_columns(length, width)

    cases: list[tuple[str, Callable[[], object]]] = [
        ("numpy floor: length_m * width_m", lambda: length * width),
        (
            "validate columns (Measures.from_columns)",
            lambda: Measures.from_columns(length, width),
        ),
        (
            "price_bill, collector-flexible (9 items)",
            lambda: price_bill(
                measures, "collector-flexible", templates=templates, catalog=catalog
            ),
        ),
        (
            "price_bill, 3 templates mixed per segment",
            lambda: price_bill(measures, mixed, templates=templates, catalog=catalog),
        ),
        (
            "price_bill, collector-flexible, 0.1 % overridden",
            lambda: price_bill(
                measures,
                "collector-flexible",
                templates=templates,
                catalog=catalog,
                feature_overrides=few_overridden,
            ),
        ),
    ]
    floor = best_of(args.repeat, cases[0][1])
    print(f"{n:,} segments, best of {args.repeat} runs")
    print(f"{'case':<52} {'time (s)':>9} {'x floor':>9}")
    for name, run in cases:
        seconds = best_of(args.repeat, run)
        print(f"{name:<52} {seconds:>9.3f} {seconds / floor:>9.0f}")
    bill = price_bill(measures, "collector-flexible", templates=templates, catalog=catalog)
    print(f"aggregate total {bill.totals.total} {bill.currency} over {len(bill):,} segments")


if __name__ == "__main__":
    main()
