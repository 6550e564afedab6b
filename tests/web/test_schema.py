"""Schemathesis against the API's OpenAPI schema: generated requests never make the server fail (no 500)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from camsift.store import Store
from camsift.store.users import UserStore
from helpers.web import PASSWORD, web_settings

pytestmark = pytest.mark.slow


@pytest.fixture
def api_schema(data_dir: Path) -> Any:
    """The app over a copy of the real events, its schema, and an API token in every generated request."""
    from camsift.web import create_app

    config = web_settings(data_dir)
    with Store(config.data_dir) as store:
        UserStore(store).add("ann", PASSWORD)
        token = UserStore(store).new_token("ann")
    app = create_app(config)
    auth = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, headers=auth)  # the schema needs a login too
    schema.config.headers = auth
    return schema


def test_no_server_errors(api_schema: Any) -> None:
    failures, statuses = [], set()
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 15

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case: Any) -> None:
            response = case.call()
            statuses.add(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        call()

    assert failures == []
    assert 200 in statuses  # the token worked: not everything was refused
