"""Units of measurement: one canonical spelling per quantity basis, common spellings accepted.

Catalogs come from spreadsheets and AHSP tables that write the same unit many ways ("m³",
"M3", "ton", "ltr", "m'", "bh"). Normalising them once lets the engine compare a catalog's
unit with the basis an item is measured by, and refuse the classic error of pricing asphalt
per m3 instead of per tonne.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

import numpy as np
import numpy.typing as npt


class Basis(StrEnum):
    """How an item's quantity is measured: the formula and the unit it comes out in."""

    VOLUME = "volume"
    MASS = "mass"
    SPRAY = "spray"
    AREA = "area"
    AREA_MASS = "area_mass"
    TRANSVERSE_JOINT = "transverse_joint"
    LINEAR = "linear"
    LINEAR_MASS = "linear_mass"
    COUNT = "count"

    @property
    def unit(self) -> str:
        """The canonical unit a quantity on this basis is expressed in."""
        return _UNIT_OF_BASIS[self]


_UNIT_OF_BASIS = {
    Basis.VOLUME: "m3",
    Basis.MASS: "t",
    Basis.SPRAY: "L",
    Basis.AREA: "m2",
    Basis.AREA_MASS: "kg",
    Basis.TRANSVERSE_JOINT: "m",
    Basis.LINEAR: "m",
    Basis.LINEAR_MASS: "kg",
    Basis.COUNT: "unit",
}

_SPELLINGS = {
    "m3": ("m3", "m³", "m^3", "cu m", "cum", "cubic metre", "cubic meter"),
    "t": ("t", "ton", "tons", "tonne", "tonnes", "metric ton"),
    "L": ("l", "ltr", "lt", "litre", "litres", "liter", "liters"),
    "m2": ("m2", "m²", "m^2", "sq m", "sqm", "square metre", "square meter"),
    "m": ("m", "m'", "m1", "lm", "mtr", "metre", "meter", "linear metre", "linear meter"),
    "kg": ("kg", "kgs", "kilogram", "kilograms"),
    "unit": ("unit", "units", "each", "ea", "no", "nr", "pc", "pcs", "bh", "buah"),
    "Ls": ("ls", "l.s", "l.s.", "lump sum", "lumpsum", "ls."),
    "hour": ("hour", "hours", "h", "hr", "hrs", "jam", "oj", "orang jam"),
    "OH": ("oh", "o.h", "o.h.", "org/hari", "orang hari", "orang-hari", "man-day", "man day"),
}
_CANONICAL = {spelling: unit for unit, spellings in _SPELLINGS.items() for spelling in spellings}


@lru_cache(maxsize=1024)
def canonical_unit(spelling: str) -> str:
    """The canonical form of a unit ("M³" -> "m3", "ton" -> "t"); unknown units come back trimmed.

    Unknown units are kept rather than rejected: a catalog may also price items no road
    template uses (lump sums, days). Pricing rejects them only where a basis needs a known unit.
    """
    key = " ".join(spelling.strip().lower().split())
    return _CANONICAL.get(key, spelling.strip())


QUANTITY_DECIMALS = {"m": 2, "m2": 2, "m3": 2, "t": 2, "L": 2, "kg": 0, "unit": 0, "Ls": 0}


def quantity_decimals(unit: str) -> int:
    """Decimals a bill states a quantity in: 2 for m, m2, m3, t and L (a centimetre, ten
    kilograms, a centilitre are below what a site can measure), whole kilograms, pieces and
    lump sums; 2 for a unit only the catalog knows."""
    return QUANTITY_DECIMALS.get(canonical_unit(unit), 2)


def whole_units(
    values: npt.NDArray[np.float64], scale: float | npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """`values` x `scale` (10**decimals, one or one per row) rounded half up to whole
    numbers: the stated quantities' last decimals; finite, non-negative values only."""
    return np.floor(values * scale + 0.5).astype(np.int64)


def stated_units(values: npt.NDArray[np.float64], unit: str) -> npt.NDArray[np.int64]:
    """Quantities in `unit` as the bill states them, in whole units of their last decimal
    (46.4 t -> 4640), rounded half up; finite, non-negative values only."""
    return whole_units(values, 10.0 ** quantity_decimals(unit))


def stated_quantities(values: Sequence[float], units: Sequence[str]) -> list[Decimal]:
    """Quantities as the bill states them, each in its own unit, in one pass:
    [138.888..., 1234.5], ["m", "kg"] -> [Decimal("138.89"), Decimal("1235")]."""
    places = [quantity_decimals(unit) for unit in units]
    scale = np.array([10.0**count for count in places])
    whole = whole_units(np.asarray(values, dtype=np.float64), scale).tolist()
    return [Decimal(count).scaleb(-shift) for count, shift in zip(whole, places, strict=True)]
