"""Settings, one small class per concern, all read from `TAKEOFF_*` environment variables."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_data_dir
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from app.errors import ConfigurationError

ENV = SettingsConfigDict(env_prefix="TAKEOFF_", env_file=".env", extra="ignore")
SECRET_SETTINGS = frozenset({"database_url", "api_keys"})
"""Settings whose values are never repeated in a message: they hold passwords and keys."""


class StoreSettings(BaseSettings):
    """Where estimates, templates, catalogs and layers live."""

    model_config = ENV

    database_url: str | None = Field(
        default=None,
        description="postgresql+psycopg://... for PostGIS; unset for the embedded SQLite store.",
    )
    data_dir: Path = Field(
        default_factory=lambda: Path(user_data_dir("takeoff", appauthor=False)),
        description="Folder of the embedded store (SQLite file).",
    )
    job_results: Literal["files", "store"] = Field(
        default="files",
        description="Where finished jobs keep their results: 'files' under data_dir/jobs "
        "(hosts share it as a volume), 'store' in the database, so every host that shares "
        "it serves them.",
    )
    db_connect_timeout_seconds: int = Field(
        default=5,
        ge=2,
        description="Seconds to wait for a PostgreSQL connection (or a free one in the pool) "
        "before a request gets 503.",
    )
    db_statement_timeout_seconds: float = Field(
        default=10,
        gt=0,
        description="Seconds a statement of a request may run before the server cancels it; "
        "a server silent 2 s longer is taken for frozen. Either way the request gets 503.",
    )

    db_pool_size: int = Field(
        default=10,
        ge=1,
        description="PostgreSQL connections a process keeps open for requests; up to as many "
        "again are opened when busier, and closed as soon as they are given back.",
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValueError(
                "must be a postgresql+psycopg:// URL (or unset for the embedded store)"
            )
        if value.startswith(("postgresql://", "postgres://")):
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @property
    def url(self) -> str:
        """The SQLAlchemy URL actually used."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'takeoff.sqlite3'}"

    @property
    def backend(self) -> str:
        """`postgis` or `sqlite`."""
        return "postgis" if self.database_url else "sqlite"


class APISettings(BaseSettings):
    """HTTP service behaviour."""

    model_config = ENV

    api_keys: list[str] = Field(
        default_factory=list,
        description="Keys allowed to write templates, catalogs and delete estimates "
        "(plain, or 'sha256:<hex>' to keep the plain key out of the environment).",
    )
    require_key_for_writes: bool = Field(
        default=False,
        description="Require a key for writes that create data: saving an estimate, POST /batch.",
    )
    estimates_visibility: Literal["public", "owner"] = Field(
        default="public",
        description="'public': saved estimates are a register everyone reads; 'owner': each "
        "key sees only the estimates saved with it, and saving needs a key.",
    )
    root_path: str = ""
    cors_origins: list[str] = Field(default_factory=list)
    tile_url: str | None = Field(
        default=None, description="Optional basemap tile URL template for the web page."
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="'json': access and error logs as one JSON object a line (request id, "
        "method, path, route, status, duration_ms).",
    )
    metrics_public: bool = Field(
        default=False,
        description="Serve /metrics to anyone; otherwise it needs an API key (X-API-Key or "
        "'Authorization: Bearer <key>').",
    )
    rate_limit: str | None = Field(
        default=None,
        description="Requests a client may make, e.g. '60/minute' or '10/second;500/hour' "
        "(per API key, else per IP address); more get 429. Unset: no limit.",
    )

    @field_validator("rate_limit")
    @classmethod
    def _readable_rate(cls, value: str | None) -> str | None:
        if not value:
            return None
        from limits import parse_many  # the rate limiter's own reader, loaded when a limit is set

        try:
            parse_many(value)
        except ValueError:
            raise ValueError("must be a rate like '60/minute' or '10/second;500/hour'") from None
        return value

    page_tiles_above: int = Field(
        default=3_000,
        ge=0,
        description="The web page draws a road layer with more features than this from its "
        "vector tiles, a smaller one as GeoJSON.",
    )
    tile_max_age: int = Field(
        default=60,
        ge=0,
        description="Seconds a client may reuse a vector tile before asking again (with its "
        "ETag, answered 304 while the collection is unchanged).",
    )
    tile_cache_bytes: int = Field(
        default=64 * 2**20,
        ge=0,
        description="Vector tiles each server process keeps in memory, in bytes (0: none).",
    )

    @property
    def api_key_hashes(self) -> list[bytes]:
        """Keys as SHA-256 digests: the plain keys are not kept after start."""
        hashes = []
        for key in self.api_keys:
            if key.startswith("sha256:"):
                hashes.append(bytes.fromhex(key.removeprefix("sha256:")))
            else:
                hashes.append(hashlib.sha256(key.encode()).digest())
        return hashes

    @field_validator("api_keys")
    @classmethod
    def _valid_hashes(cls, keys: list[str]) -> list[str]:
        for key in keys:
            if key.startswith("sha256:"):
                digest = key.removeprefix("sha256:")
                if len(digest) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digest):
                    raise ValueError("a 'sha256:' key must be followed by 64 hex digits")
            elif len(key) < 16:
                raise ValueError("API keys must be at least 16 characters long")
        return keys


class LimitSettings(BaseSettings):
    """Bounds that protect the service from inputs too large to answer in one request."""

    model_config = ENV

    max_vertices: int = Field(default=100_000, gt=0, description="Per geometry.")
    max_features: int = Field(default=10_000, gt=0, description="Per synchronous request.")
    max_request_vertices: int = Field(
        default=1_000_000,
        gt=0,
        description="Vertices of all geometries in one synchronous request; more go to /batch.",
    )
    max_overlap_checks: int = Field(
        default=100_000,
        gt=0,
        description="Pairs of distinct surfaces one request tests for overlap; past them "
        "the overlap warning gives a range counted by bounding box.",
    )
    max_dissolve_pairs: int = Field(
        default=20_000,
        gt=0,
        description="Pairs of distinct features whose surfaces meet (by bounding box) that one "
        "request with dissolve=true takes apart; more go to /batch.",
    )
    items_default_limit: int = Field(default=100, gt=0)
    items_max_limit: int = Field(default=1_000, gt=0)
    ogc_exact_count_limit: int = Field(
        default=100_000,
        gt=0,
        description="In a collection the PostGIS planner expects to hold more features than "
        "this, an items page (but the last) is not counted: it gives the planner's estimate "
        "as `numberMatchedEstimate`.",
    )
    async_batch_rows: int = Field(default=5_000, gt=0)
    max_body_bytes: int = Field(
        default=32 * 1024**2, gt=0, description="Bytes of a JSON request body; more get 413."
    )
    max_upload_bytes: int = Field(
        default=1024**3, gt=0, description="Bytes of an uploaded file (POST /batch); more get 413."
    )
    max_json_depth: int = Field(
        default=64, gt=0, description="Nesting of arrays and objects in a JSON request body."
    )
    max_running_jobs: int = Field(
        default=2, gt=0, description="Jobs one web worker runs at once; the rest wait, queued."
    )
    job_retention_hours: float = Field(
        default=168,
        gt=0,
        description="Hours a finished job and its result are kept before they are removed.",
    )
    job_heartbeat_timeout_seconds: float = Field(
        default=60,
        gt=0,
        description="A queued or running job not heard from for this long has lost its worker "
        "and is marked failed.",
    )

    @model_validator(mode="after")
    def _default_within_max(self) -> LimitSettings:
        if self.items_default_limit > self.items_max_limit:
            raise ValueError("items_default_limit must not exceed items_max_limit")
        return self


class EstimateSettings(BaseSettings):
    """Defaults used when a request names no template or catalog."""

    model_config = ENV

    default_template: str = "local-flexible"
    default_catalog: str = "tangerang-sample"
    default_rules: str = "kota-kabupaten"
    """Treatment rule set of a maintenance programme that names none."""


GROUPS: dict[str, type[BaseSettings]] = {
    "store": StoreSettings,
    "api": APISettings,
    "limits": LimitSettings,
    "estimate": EstimateSettings,
}


class Settings:
    """All settings groups.

    `Settings()` reads every group from the environment. A group can be given whole
    (`Settings(store=StoreSettings(...))`), or single fields by name
    (`Settings(data_dir=path, api_keys=[...])`): those win over the environment, the
    group's other fields are still read from it.
    """

    store: StoreSettings
    api: APISettings
    limits: LimitSettings
    estimate: EstimateSettings

    def __init__(
        self,
        *,
        store: StoreSettings | None = None,
        api: APISettings | None = None,
        limits: LimitSettings | None = None,
        estimate: EstimateSettings | None = None,
        **fields: Any,
    ) -> None:
        given: dict[str, BaseSettings | None] = {
            "store": store,
            "api": api,
            "limits": limits,
            "estimate": estimate,
        }
        for group, model in GROUPS.items():
            values = {name: fields.pop(name) for name in list(fields) if name in model.model_fields}
            instance = given[group]
            if instance is None:
                instance = model(**values)
            elif values:
                raise TypeError(f"{', '.join(values)} given both alone and in {group}")
            setattr(self, group, instance)
        if fields:
            raise TypeError(f"unknown setting(s): {', '.join(sorted(fields))}")


def setting_problem(exc: ValidationError) -> str:
    """One line naming each bad `TAKEOFF_*` variable and what is wrong with it; the value is
    shown only for settings that are not secret."""
    problems = []
    for error in exc.errors():
        field, *inner = (str(part) for part in error["loc"])
        name = "TAKEOFF_" + field.upper()
        where = f" (item {'.'.join(inner)})" if inner else ""
        shown = "" if field in SECRET_SETTINGS else f" (got {error.get('input')!r})"
        problems.append(f"{name}{where}: {error['msg']}{shown}")
    return "invalid setting " + "; ".join(problems)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached: environment is read once).

    A bad setting is a `ConfigurationError` whose message keeps secrets out, and whose
    traceback does not carry pydantic's error (which holds every value it was given).
    """
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(setting_problem(exc)) from None
    except SettingsError as exc:
        raise ConfigurationError(f"invalid setting: {exc} (is it valid JSON?)") from None
