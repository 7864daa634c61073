"""How `takeoff serve` writes its logs: to stderr, as text or as JSON lines
(`TAKEOFF_LOG_FORMAT=json`), each record with the id of the request it was written in.

The service's own records (`app.*`, the access records `app.access` among them) and the
server's (`uvicorn.*`) share one handler; uvicorn's own access log is off, as `app.access`
says more (route template, request id, duration).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["text", "json"]
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def formatter(log_format: LogFormat) -> logging.Formatter:
    """Text lines, or one JSON object a line with the record's extra fields (`request_id`,
    `method`, `path`, `route`, `status`, `duration_ms`) and any traceback (`exc_info`)."""
    if log_format == "json":
        return JsonFormatter(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],  # uvicorn's, for terminals
            timestamp=True,
        )
    return logging.Formatter(TEXT)


def log_config(log_format: LogFormat) -> dict[str, Any]:
    """A `logging.config.dictConfig` for uvicorn's `log_config`."""
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "takeoff",
        "filters": ["request_id"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "app.routes.requestlog.RequestIdFilter"}},
        "formatters": {"takeoff": {"()": "app.logs.formatter", "log_format": log_format}},
        "handlers": {"stderr": handler},
        "loggers": {
            name: {"handlers": ["stderr"], "level": "INFO", "propagate": False}
            for name in ("app", "uvicorn")
        },
    }
