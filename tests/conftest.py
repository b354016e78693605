"""Shared fixtures. Functional tests run the app in-process (Chalice's test client) against moto in server mode,
provisioned from `infra.resources` like the local stack; every test gets its own account, which is also how tenant
isolation is exercised."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from chalicelib.core.crypto import new_key_material
from chalicelib.core.settings import reset_settings_cache

TEST_ENVIRONMENT = {
    "SWITCHBOARD_STAGE": "local",
    "SWITCHBOARD_TABLE_PREFIX": "test-",
    "SWITCHBOARD_ALLOW_LOOPBACK_URLS": "true",
    "SWITCHBOARD_DATA_KEY": new_key_material(),
    "SWITCHBOARD_TOKEN_KEY": new_key_material(),
    "SWITCHBOARD_CONTROL_KEY": new_key_material(),
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "CRITICAL",
}


@dataclass(frozen=True)
class TestAccount:
    account_id: str
    api_key: str
    username: str
    password: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"App {self.api_key}"}

    @property
    def basic_headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


@pytest.fixture(scope="session")
def embedded_aws() -> Iterator[str]:
    saved = dict(os.environ)
    os.environ.update(TEST_ENVIRONMENT)
    from infra.local.aws import provision, start_moto

    aws = start_moto()
    os.environ.update(provision(os.environ["SWITCHBOARD_TABLE_PREFIX"]))
    os.environ.pop("SWITCHBOARD_KEYS_SECRET_ID")  # the data key above is used directly
    reset_settings_cache()
    yield aws.endpoint
    aws.stop()
    os.environ.clear()
    os.environ.update(saved)
    reset_settings_cache()


def make_account(name: str = "Test") -> TestAccount:
    from chalicelib.accounts import service

    username = f"user-{secrets.token_hex(6)}"
    password = secrets.token_urlsafe(12)
    created = service.create_account(name, username, password)
    return TestAccount(created.account.accountId, created.api_key.key, username, password)


@pytest.fixture
def account(embedded_aws: str) -> TestAccount:
    return make_account()


@pytest.fixture
def other_account(embedded_aws: str) -> TestAccount:
    return make_account("Other")


@pytest.fixture(scope="session")
def chalice_app(embedded_aws: str):
    from app import app

    return app


@pytest.fixture
def client(chalice_app):
    from chalice.test import Client

    # a stage with no variables of its own: the test environment above stays in force
    with Client(chalice_app, stage_name="test") as test_client:
        yield test_client.http
