"""Every operation of `/api` fuzzed by schemathesis with all its checks, on both stores.

Inputs are generated from the OpenAPI document itself, valid and invalid, so this finds any
5xx and any status code, content type or header the document does not declare. The budget
is small (a few examples per operation and phase) to keep the run to a few minutes. The app
runs in process (thousands of requests would fill a child server's piped log).
"""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import BaseSchema

from app.main import create_app
from app.settings import APISettings, Settings, StoreSettings
from tests.conftest import API_KEY

load_all_checks()
ALL_CHECKS = CHECKS.get_all()

CONFIG = SchemathesisConfig.from_dict(
    {
        # Data valid for the schema can still name nothing stored (404) or be no road (the
        # body schema is any GeoJSON object: 422), exceed a limit (413), or be a filter or
        # sort order that is no CQL2 or names a property the collection lacks (400): all
        # documented.
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2XX", "400", "404", "409", "413", "422"]
            }
        },
        "generation": {"max-examples": 10},
    }
)


@pytest.fixture
def api_schema(store_settings: StoreSettings) -> BaseSchema:
    """The document the app publishes, as schemathesis reads it, on a fresh store."""
    settings = Settings()
    settings.store = store_settings
    settings.api = APISettings(api_keys=[API_KEY])
    return schemathesis.openapi.from_asgi("/api", create_app(settings), config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_operation_answers_as_documented(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=ALL_CHECKS, headers={"X-API-Key": API_KEY})
