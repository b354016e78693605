"""Fixtures the functional tests of the Calls API share."""

from __future__ import annotations

import pytest

from chalicelib.calls_configurations import service as configurations
from chalicelib.calls_configurations.schemas import CallsConfigurationCreateRequest


@pytest.fixture
def configuration(account) -> str:
    """The application (calls configuration) `conf-app` of `account`."""
    configurations.create_configuration(account.account_id, CallsConfigurationCreateRequest(id="conf-app", name="C"))
    return "conf-app"
