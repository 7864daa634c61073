"""Benchmark of the estimate engine: `python -m bench.estimate`."""
