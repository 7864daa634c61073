"""Domain errors.

They carry no HTTP knowledge: `app.routes.errors` maps each class to a status code in one
place, and the CLI prints them as one line. `where` says which feature, row, column or
field is at fault, so every message can point at the exact place to fix.
"""

from __future__ import annotations

from typing import Any


class TakeoffError(Exception):
    """Base of every error the user can fix by changing their input or configuration."""

    title = "Invalid request"

    def __init__(self, detail: str, **where: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.where = {key: value for key, value in where.items() if value is not None}

    def __str__(self) -> str:
        if not self.where:
            return self.detail
        place = ", ".join(f"{key} {value}" for key, value in self.where.items())
        return f"{place}: {self.detail}"


class InvalidQuery(TakeoffError):
    """A filter, sort order or filter CRS a collection cannot answer (malformed, or naming a
    property it does not have)."""

    title = "Invalid query"


class InvalidInput(TakeoffError):
    """A request, file or parameter that cannot be read or is out of range."""

    title = "Invalid input"


class InvalidGeometry(InvalidInput):
    """A geometry that cannot be measured (wrong type, empty, self-intersecting, ...)."""

    title = "Invalid geometry"


class InvalidParameter(InvalidInput):
    """A width, thickness, rate or other number that makes no physical sense."""

    title = "Invalid parameter"


class UnknownTemplate(InvalidInput):
    """A cross-section template (or version of one) that does not exist."""

    title = "Unknown template"


class UnknownCatalog(InvalidInput):
    """A rate catalog (or version of one) that does not exist."""

    title = "Unknown catalog"


class UnknownRuleSet(InvalidInput):
    """A treatment rule set (or version of one) that does not exist."""

    title = "Unknown rule set"


class MissingRates(InvalidInput):
    """Template items the catalog has no price for: never priced at zero."""

    title = "Missing rates"


class UnitMismatch(InvalidInput):
    """A catalog unit that does not fit the item's basis (a mass item priced per m3)."""

    title = "Unit mismatch"


class TooLarge(InvalidInput):
    """An input over a configured limit (features, vertices, upload size)."""

    title = "Input too large"


class UnsupportedCrs(InvalidInput):
    """A coordinate reference system a collection does not offer (OGC API Features Part 2
    answers these with 400, not 422)."""

    title = "Unsupported coordinate reference system"


class NotFound(TakeoffError):
    """A stored resource (estimate, collection, feature, version) that does not exist."""

    title = "Not found"


class Conflict(TakeoffError):
    """A write that collides with another one or with what is stored (same version, same id)."""

    title = "Conflict"


class Unauthorized(TakeoffError):
    """A write without a valid API key."""

    title = "Unauthorized"


class StoreUnavailable(TakeoffError):
    """The database cannot be reached or is not usable."""

    title = "Store unavailable"


class ConfigurationError(TakeoffError):
    """A setting that is missing, malformed or points at something unusable."""

    title = "Configuration error"
