"""`takeoff serve --workers N`: every worker starts and answers, given the time it needs.

uvicorn's supervisor restarts a worker that does not answer its health check in time (5 s by
default), which a worker busy importing or with a large request on a loaded machine can miss;
`--worker-timeout` (default 60 s) gives them that time.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from typer.testing import CliRunner

from app.cli.main import cli
from tests.live import LiveServer


def test_two_workers_start_and_answer(tmp_path: Path) -> None:
    with LiveServer(
        "--workers", "2", "--worker-timeout", "30", data_dir=str(tmp_path / "store")
    ) as server:
        answers = [httpx.get(server.url + "/healthz", timeout=10) for _ in range(6)]
    assert [answer.status_code for answer in answers] == [200] * 6


def test_the_worker_timeout_is_a_serve_option() -> None:
    shown = CliRunner().invoke(cli, ["serve", "--help"], terminal_width=200)
    assert shown.exit_code == 0
    assert "--worker-timeout" in shown.output and "[default: 60]" in shown.output
