"""The container set-up: docker-compose.yml and the Dockerfile's start command.

`docker compose config` validates the file where Compose is installed; the structure an
operator relies on (TCP health check, restarts, the data volume, signals) is checked always.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def test_compose_validates_where_compose_is_installed() -> None:
    docker = shutil.which("docker")
    if (
        docker is None
        or subprocess.run([docker, "compose", "version"], capture_output=True).returncode
    ):
        pytest.skip("no docker compose here; the structure is checked by the other tests")
    checked = subprocess.run(
        [docker, "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_the_database_is_healthy_only_once_it_answers_over_tcp(compose: dict[str, Any]) -> None:
    check = compose["services"]["db"]["healthcheck"]["test"]
    assert check[0] == "CMD" and check[1] == "pg_isready"
    assert check[check.index("-h") + 1] == "127.0.0.1"
    app = compose["services"]["app"]
    assert app["depends_on"]["db"]["condition"] == "service_healthy"


def test_every_service_restarts_unless_stopped(compose: dict[str, Any]) -> None:
    assert {name: s.get("restart") for name, s in compose["services"].items()} == {
        "db": "unless-stopped",
        "app": "unless-stopped",
    }


def test_job_results_live_in_a_named_volume(compose: dict[str, Any]) -> None:
    app = compose["services"]["app"]
    data_dir = app["environment"]["TAKEOFF_DATA_DIR"]
    mounts = dict(volume.split(":", 1) for volume in app["volumes"])
    named = {target: source for source, target in mounts.items()}
    assert named[data_dir] in compose["volumes"]
    assert compose["services"]["db"]["volumes"] == ["pgdata:/var/lib/postgresql/data"]


def test_the_app_is_healthy_when_healthz_answers(compose: dict[str, Any]) -> None:
    check = compose["services"]["app"]["healthcheck"]["test"]
    assert check[0] == "CMD"
    assert "http://127.0.0.1:8000/healthz" in check[-1]


def test_the_server_process_receives_the_stop_signal() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    command = json.loads(next(line for line in lines if line.startswith("CMD")).removeprefix("CMD"))
    if command[:2] == ["sh", "-c"]:  # a shell line must hand its process over to the server
        last = command[2].split("&&")[-1].strip()
        assert last.startswith("exec takeoff serve")
    else:
        assert command[0] == "takeoff"
