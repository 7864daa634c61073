"""`scripts/testdb` (the database step of `scripts/test`) on a server as a stock Debian or
Ubuntu install sets it up (scram-sha-256 on TCP, peer on the socket), and on trusted loopback.

The stock server is a throw-away cluster made here with `initdb` and the authentication
`pg_createcluster` gives, on a free port, run by the `postgres` OS user when the tests run as
root (PostgreSQL refuses root).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.cluster import Cluster, throwaway_cluster

TESTDB = Path(__file__).resolve().parents[2] / "scripts" / "testdb"


@pytest.fixture(scope="module")
def stock_cluster() -> Iterator[Cluster]:
    """A new cluster with pg_createcluster's authentication, stopped and removed after."""
    with throwaway_cluster("--auth-local=peer", "--auth-host=scram-sha-256") as cluster:
        yield cluster


def _testdb(*args: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "TAKEOFF_TESTDB_"))}
    done = subprocess.run(
        [str(TESTDB), *args], env={**clean, **env}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _databases(url: str) -> list[str]:
    engine = sa.create_engine(sa.make_url(url).set(database="postgres"))
    with engine.connect() as connection:
        names = connection.scalars(sa.text("select datname from pg_database")).all()
    engine.dispose()
    return list(names)


def test_a_stock_server_refuses_a_tcp_login_without_password(stock_cluster: Cluster) -> None:
    refused = subprocess.run(
        [
            "psql",
            "-X",
            "-w",
            "-h",
            "127.0.0.1",
            "-p",
            str(stock_cluster.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-c",
            "select 1",
        ],
        env={k: v for k, v in os.environ.items() if not k.startswith("PG")},
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0
    assert "no password supplied" in refused.stderr


def test_testdb_makes_a_postgis_database_on_a_stock_server(stock_cluster: Cluster) -> None:
    env = {
        "PGPORT": str(stock_cluster.port),
        "TAKEOFF_TESTDB_OS_USER": stock_cluster.os_user,
        "TAKEOFF_TESTDB_SOCKET": str(stock_cluster.socket),
    }
    url = _testdb("create", **env)
    parsed = sa.make_url(url)
    assert parsed.password and parsed.host == "127.0.0.1" and parsed.port == stock_cluster.port
    engine = sa.create_engine(url)
    with engine.connect() as connection:  # over TCP with the role's password (scram)
        assert connection.scalar(sa.text("select postgis_lib_version()"))
        assert connection.scalar(sa.text("select current_user")) == parsed.database
    engine.dispose()
    assert parsed.database in _databases(url)
    _testdb("drop", url, **env)
    with pytest.raises(sa.exc.OperationalError):  # the role went with its database
        _databases(url)


def test_testdb_uses_trusted_loopback_as_it_is(postgis_url: str) -> None:
    server = sa.make_url(postgis_url)
    env = {
        "PGHOST": server.host or "127.0.0.1",
        "PGPORT": str(server.port or 5432),
        "PGUSER": server.username or "postgres",
    }
    if server.password:
        env["PGPASSWORD"] = server.password
    url = _testdb("create", **env)
    assert sa.make_url(url).username == server.username
    name = sa.make_url(url).database
    assert name in _databases(url)
    _testdb("drop", url, **env)
    assert name not in _databases(url)
