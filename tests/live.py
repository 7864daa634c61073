"""Run the real `takeoff` command: a server on a free port, or a one-shot CLI call.

For the tests of real clients (GDAL, a browser, the command line itself); routes are tested
in-process (`client` in tests/conftest.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TAKEOFF = str(Path(sys.executable).with_name("takeoff"))


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def takeoff_env(**settings: str | None) -> dict[str, str]:
    """The environment with `TAKEOFF_*` settings replaced by `settings` (None removes one)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TAKEOFF_")}
    env.update({f"TAKEOFF_{key.upper()}": value for key, value in settings.items() if value})
    return env


def run_takeoff(*args: str, **settings: str | None) -> subprocess.CompletedProcess[str]:
    """Run `takeoff ARGS` to completion and capture its output."""
    return subprocess.run(
        [TAKEOFF, *args],
        env=takeoff_env(**settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class LiveServer:
    """`takeoff serve` in a child process, stopped on exit. Its output goes to a file, not a
    pipe nobody reads, so a chatty server never blocks on a full pipe; `output()` reads it."""

    def __init__(self, *args: str, **settings: str | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._command = [TAKEOFF, "serve", "--port", str(self.port), *args]
        self._env = takeoff_env(**settings)
        self._process: subprocess.Popen[str] | None = None
        self._log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115 (closed on exit)

    def __enter__(self) -> LiveServer:
        self._process = subprocess.Popen(
            self._command,
            env=self._env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"takeoff serve exited early:\n{self.output()}")
            try:
                httpx.get(self.url + "/healthz", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        output = self.output()
        self.__exit__()
        raise RuntimeError(f"takeoff serve did not answer within 60 s:\n{output}")

    def __exit__(self, *_exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._log.close()

    def output(self) -> str:
        """What the server has printed so far."""
        self._log.flush()
        self._log.seek(0)
        return self._log.read()
