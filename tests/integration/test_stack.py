"""The local stack as an operator and an integrator meet it: start-up, health, credentials, the HTTP front door."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from tests.support.envelope import assert_envelope
from tests.support.stack import ROOT, Stack, start_stack

DEV_KEY = "sbk_dev_integration_key_0123456789"


@pytest.fixture(scope="module")
def stack():
    running = start_stack(SWITCHBOARD_DEV_API_KEY=DEV_KEY, SWITCHBOARD_DEV_PASSWORD="dev-password-1")
    yield running
    running.stop()


def test_health_answers_when_ready(stack: Stack):
    response = httpx.get(f"{stack.url}/health")
    assert response.status_code == 200 and response.json() == {"status": "UP"}


def test_the_dev_key_from_the_environment_is_installed(stack: Stack):
    assert stack.ready["apiKey"] == DEV_KEY
    response = httpx.get(f"{stack.url}/accounts/1/account", headers={"Authorization": f"App {DEV_KEY}"})
    assert response.json()["username"] == "dev"
    assert DEV_KEY in stack.log()  # printed at start-up for the developer


def test_basic_auth_with_the_dev_user(stack: Stack):
    response = httpx.get(f"{stack.url}/accounts/1/account", auth=("dev", "dev-password-1"))
    assert response.status_code == 200
    assert_envelope(httpx.get(f"{stack.url}/accounts/1/account", auth=("dev", "wrong")), 401, "UNAUTHORIZED")


def test_unknown_paths_are_404_in_the_envelope(stack: Stack):
    assert_envelope(httpx.get(f"{stack.url}/no/such/path", headers=stack.headers), 404, "NOT_FOUND")


def test_keep_alive_clients_get_every_response(stack: Stack):
    with httpx.Client(base_url=stack.url, headers=stack.headers) as client:
        for _ in range(20):
            assert client.get("/accounts/1/account").status_code == 200


def test_operator_command_creates_accounts_whose_keys_work(stack: Stack):
    result = subprocess.run(
        [sys.executable, "-m", "chalicelib.accounts", "create", "--name", "Acme Corp"],
        cwd=ROOT,
        env=stack.aws_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    key = created["apiKey"]["key"]
    response = httpx.get(f"{stack.url}/accounts/1/account", headers={"Authorization": f"App {key}"})
    assert response.json() == created["account"]
    assert response.json()["username"] == "acmecorp"


def test_the_media_node_registers_and_beats(stack: Stack):
    code = "from chalicelib.media_nodes.service import live_nodes; print([n.public_url for n in live_nodes()])"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=stack.aws_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert stack.ready["mediaUrl"] in result.stdout
    health = httpx.get(f"{stack.ready['mediaUrl']}/healthz").json()
    assert health["status"] == "UP"
