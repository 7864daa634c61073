"""Dependencies shared by the routers, as `Annotated` aliases.

They do no I/O, so they are `async def`: FastAPI runs a plain `def` dependency in its thread
pool, one thread hop each per request, which costs more than the dependency itself. Each
dependency still costs FastAPI about as much work per request as a short endpoint (solving
it, even from its cache, re-reads its parameters), so those made of other dependencies read
the app's settings from the request (`settings_of`) rather than depend on `SettingsDep`.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader

from app.errors import Unauthorized
from app.settings import Settings
from app.store.repository import Repository, Visibility


def repository_of(request: Request) -> Repository:
    """The repository made at start-up."""
    repository: Repository = request.app.state.repository
    return repository


def settings_of(request: Request) -> Settings:
    """The settings the app was made with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_repository(request: Request) -> Repository:
    """The repository made at start-up."""
    return repository_of(request)


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was made with."""
    return settings_of(request)


RepositoryDep = Annotated[Repository, Depends(get_repository)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
NEEDS_KEY = "this operation needs an API key in the X-API-Key header"


def key_owner(settings: Settings, key: str | None) -> str | None:
    """The hex SHA-256 digest of a valid key (what rows record as their owner); None without one.

    Keys are compared as digests in constant time; a key that is not configured is a 401
    rather than a silent anonymous call.
    """
    if not key:
        return None
    digest = hashlib.sha256(key.encode()).digest()
    matches = [hmac.compare_digest(digest, known) for known in settings.api.api_key_hashes]
    if not any(matches):
        raise Unauthorized("the API key in the X-API-Key header is not valid")
    return digest.hex()


async def require_api_key(
    request: Request, key: Annotated[str | None, Depends(_api_key_header)]
) -> str:
    """Changing templates and catalogs and deleting estimates needs a configured key."""
    owner = key_owner(settings_of(request), key)
    if owner is None:
        raise Unauthorized(NEEDS_KEY)
    return owner


WriteAccess = Depends(require_api_key)
KeyOwnerDep = Annotated[str, WriteAccess]


async def get_caller(
    request: Request,
    key: Annotated[
        str | None,
        Header(
            alias="X-API-Key",
            description="Optional: a configured API key; what is made with it is its own.",
        ),
    ] = None,
) -> str | None:
    """Who calls, where a key is optional: its owner digest, or None for an anonymous caller."""
    return key_owner(settings_of(request), key)


CallerDep = Annotated[str | None, Depends(get_caller)]


def creator(settings: Settings, caller: str | None, key_required: bool = False) -> str | None:
    """The owner recorded on data a write creates (None for an anonymous caller).

    A key is needed when `TAKEOFF_REQUIRE_KEY_FOR_WRITES` is set, or when `key_required`
    says the data would otherwise belong to nobody who may read it back.
    """
    if caller is None and (key_required or settings.api.require_key_for_writes):
        raise Unauthorized(NEEDS_KEY)
    return caller


async def get_creator(request: Request, caller: CallerDep) -> str | None:
    """The owner of what this request creates; 401 when writes need a key and none came."""
    return creator(settings_of(request), caller)


CreatorDep = Annotated[str | None, Depends(get_creator)]


def estimates_visible(settings: Settings, caller: str | None) -> Visibility:
    """Saved estimates the caller sees: all of them, or (`owner` mode) their own."""
    return Visibility(owner_only=settings.api.estimates_visibility == "owner", owner=caller)


async def get_estimates_visible(request: Request, caller: CallerDep) -> Visibility:
    """The saved estimates this request's caller sees."""
    return estimates_visible(settings_of(request), caller)


EstimatesVisibleDep = Annotated[Visibility, Depends(get_estimates_visible)]
