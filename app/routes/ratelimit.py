"""Per-client rate limits for public deployments (`TAKEOFF_RATE_LIMIT`, off by default).

Counting is the `limits` library's moving window, kept in each worker's memory: with
`--workers N` a client may make up to N times the rate (each worker counts what it answers).
A client is its API key when it sends a configured one (so an office behind one address
keeps its own allowance), else its IP address (the proxy's, unless uvicorn is told to trust its
`X-Forwarded-For`). Health checks and metrics are not limited: probes must not be refused.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app.routes.errors import problem

UNLIMITED_PATHS = frozenset({"/healthz", "/metrics"})


class RateLimit:
    """ASGI middleware: 429 problem+json with `Retry-After` past a client's allowance."""

    def __init__(self, app: ASGIApp, rate: str, key_hashes: list[bytes]) -> None:
        self.app = app
        self.rates: list[RateLimitItem] = parse_many(rate)
        self.key_hashes = frozenset(key_hashes)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the request against its client's allowance; refuse it when none is left."""
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        client = self._client(scope)
        for rate in self.rates:
            if not self.limiter.hit(rate, client):
                reset = self.limiter.get_window_stats(rate, client).reset_time
                wait = max(1, math.ceil(reset - time.time()))
                response = problem(
                    429,
                    "Too many requests",
                    f"this client made more than {rate} requests (the limit "
                    f"TAKEOFF_RATE_LIMIT sets); try again in {wait} s",
                    headers={"Retry-After": str(wait)},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _client(self, scope: Scope) -> str:
        """Who is counted: a configured API key sent (a made-up one would be a fresh
        allowance each time, so it counts as its address), else the client's address."""
        key = Headers(scope=scope).get("x-api-key")
        if key:
            digest = hashlib.sha256(key.encode()).digest()
            if digest in self.key_hashes:
                return "key:" + digest.hex()
        host = scope["client"][0] if scope.get("client") else "unknown"
        return "ip:" + host
