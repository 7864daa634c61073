"""Benchmark of app.geo measuring: `python -m bench.measure`."""
