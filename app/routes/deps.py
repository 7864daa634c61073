"""Dependencies shared by the routers, as `Annotated` aliases.

They do no I/O, so they are `async def`: FastAPI runs a plain `def` dependency in its thread
pool, one thread hop each per request, which costs more than the dependency itself.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from app.errors import Unauthorized
from app.settings import Settings
from app.store.repository import Repository


async def get_repository(request: Request) -> Repository:
    """The repository made at start-up."""
    repository: Repository = request.app.state.repository
    return repository


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was made with."""
    settings: Settings = request.app.state.settings
    return settings


RepositoryDep = Annotated[Repository, Depends(get_repository)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


async def require_api_key(
    settings: SettingsDep, key: Annotated[str | None, Depends(_api_key_header)]
) -> None:
    """Writes need a configured key; compared as SHA-256 digests in constant time."""
    if not key:
        raise Unauthorized("this operation needs an API key in the X-API-Key header")
    digest = hashlib.sha256(key.encode()).digest()
    matches = [hmac.compare_digest(digest, known) for known in settings.api.api_key_hashes]
    if not any(matches):
        raise Unauthorized("the API key is not valid")


WriteAccess = Depends(require_api_key)
