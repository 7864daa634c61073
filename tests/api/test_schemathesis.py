"""Every operation of `/api` fuzzed by schemathesis with all its checks, on both stores.

Inputs are generated from the OpenAPI document itself, valid and invalid, so this finds any
5xx and any status code, content type or header the document does not declare. The budget
is small (a few examples per operation and phase) to keep the run to a few minutes.
"""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import BaseSchema

from tests.conftest import API_KEY
from tests.live import LiveServer

load_all_checks()
ALL_CHECKS = CHECKS.get_all()

CONFIG = SchemathesisConfig.from_dict(
    {
        # Data valid for the schema can still name nothing stored (404) or be no road (the
        # body schema is any GeoJSON object: 422), or exceed a limit (413): all documented.
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2XX", "404", "409", "413", "422"]}
        },
        "generation": {"max-examples": 6},
    }
)


@pytest.fixture(scope="module")
def api_schema(server: LiveServer) -> BaseSchema:
    """The document the server publishes, as schemathesis reads it."""
    return schemathesis.openapi.from_url(server.url + "/api", config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_operation_answers_as_documented(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=ALL_CHECKS, headers={"X-API-Key": API_KEY})
