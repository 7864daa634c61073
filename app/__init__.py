"""Takeoff: road geometries in, priced bill of materials out."""

__version__ = "0.1.0"
