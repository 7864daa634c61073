"""Where the shipped data and migrations are, in a checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"none of {', '.join(map(str, candidates))} exists")


def data_dir() -> Path:
    """The shipped `data/` folder (templates, catalogs, sample layers)."""
    return _first_existing(_PACKAGE / "builtin_data", _CHECKOUT / "data")


def migrations_dir() -> Path:
    """The Alembic `migrations/` folder."""
    return _first_existing(_PACKAGE / "migrations", _CHECKOUT / "migrations")
