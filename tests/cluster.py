"""Throw-away PostgreSQL clusters made with `initdb` on a free port, for tests that need a
server of their own: one with a stock install's authentication, one to stop, start and freeze.

The cluster is run by the `postgres` OS user when the tests run as root (PostgreSQL refuses
root).
"""

from __future__ import annotations

import getpass
import glob
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live import free_port


def server_program(name: str) -> str:
    """A PostgreSQL server program (`initdb`, `pg_ctl`); the test is skipped without one."""
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None
    )
    if found is None:
        pytest.skip(f"no {name}: PostgreSQL server programs are not installed")
    return found


def _as(os_user: str) -> list[str]:
    return ["runuser", "-u", os_user, "--"] if os.geteuid() == 0 else []


@dataclass(frozen=True)
class Cluster:
    """A running throw-away cluster: TCP on 127.0.0.1:`port`, its socket in `socket`."""

    port: int
    socket: Path
    os_user: str
    data: Path

    def _pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.socket} -c listen_addresses=127.0.0.1"
        command = [*_as(self.os_user), server_program("pg_ctl"), "-D", str(self.data)]
        subprocess.run(
            [*command, "-o", options, "-l", str(self.socket / "log"), *args],
            check=True,
            capture_output=True,
            cwd="/",
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._pg_ctl("-w", "start")

    def stop(self) -> None:
        """Stop the server, ending its connections (`-m fast`), and wait until it is down."""
        self._pg_ctl("-m", "fast", "-w", "stop")

    def _processes(self) -> list[int]:
        """The postmaster first, then its children (the backends and helpers)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(postmaster)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        return [postmaster, *(int(pid) for pid in children)]

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Every process of the server stopped (SIGSTOP): the kernel still accepts and
        acknowledges connections, but nothing ever answers. Resumed after the block."""
        stopped = self._processes()
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in stopped:
                os.kill(pid, signal.SIGCONT)


@contextmanager
def throwaway_cluster(*initdb_options: str) -> Iterator[Cluster]:
    """A new, running cluster made with `initdb_options`, stopped and removed after."""
    os_user = "postgres" if os.geteuid() == 0 else getpass.getuser()
    folder = Path(tempfile.mkdtemp(prefix="takeoff-cluster-"))
    folder.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, user=os_user)
    cluster = Cluster(free_port(), folder, os_user, folder / "data")
    subprocess.run(
        [*_as(os_user), server_program("initdb"), "-D", str(cluster.data), *initdb_options],
        check=True,
        capture_output=True,
        cwd="/",
    )
    cluster.start()
    try:
        yield cluster
    finally:
        subprocess.run(
            [
                *_as(os_user),
                server_program("pg_ctl"),
                "-D",
                str(cluster.data),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            cwd="/",
        )
        shutil.rmtree(folder, ignore_errors=True)
