"""Spreadsheet formula injection: text cells that a spreadsheet would run as a formula."""

from __future__ import annotations

from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")


def neutralise(value: Any) -> Any:
    """A leading `'` on text that starts like a formula (OWASP, CWE-1236); numbers untouched."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
