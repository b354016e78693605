"""Infobip's official Python client (`infobip-api-python-client` 6.0.0), unmodified and pointed at the local stack,
drives calls configurations and media-stream configurations; its strict response models accept every answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from infobip_api_client import ApiClient, CallsApi, Configuration
from infobip_api_client.exceptions import BadRequestException, NotFoundException, UnauthorizedException
from infobip_api_client.models import (
    BasicSecurityConfig,
    CallsConfigurationCreateRequest,
    CallsConfigurationUpdateRequest,
    CallsMediaStreamingConfigRequest,
    CallsMediaStreamingConfigResponse,
    CallsRequestMediaStreamConfigType,
    SecurityConfigType,
)

from tests.support.stack import Stack, start_stack

STREAM_URL = "ws://127.0.0.1:9/stream"  # never dialled here; loopback is allowed in local mode
STREAMING = CallsRequestMediaStreamConfigType.MEDIA_STREAMING  # the models' str defaults make pydantic warn


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = start_stack()
    yield running
    running.stop()


def client_for(stack: Stack, api_key: str) -> CallsApi:
    # The client refuses http:// unless the host names localhost or 127.0.0.1, which the local stack does.
    return CallsApi(ApiClient(Configuration(host=stack.url, api_key=api_key)))


@pytest.fixture(scope="module")
def calls(stack: Stack) -> CallsApi:
    return client_for(stack, str(stack.ready["apiKey"]))


def test_calls_configurations_through_infobips_client(calls: CallsApi):
    created = calls.create_calls_configuration(CallsConfigurationCreateRequest(id="client-app", name="Client app"))
    assert (created.id, created.name) == ("client-app", "Client app")

    generated = calls.create_calls_configuration(CallsConfigurationCreateRequest(name="Generated"))
    assert generated.id and generated.id != "client-app"

    got = calls.get_calls_configuration("client-app")
    assert got.name == "Client app"

    page = calls.get_calls_configurations(page=0, size=1)
    assert page.paging is not None and page.paging.size == 1 and page.paging.total_results >= 2
    assert page.results is not None and len(page.results) == 1

    updated = calls.update_calls_configuration("client-app", CallsConfigurationUpdateRequest(name="Renamed"))
    assert updated.name == "Renamed"

    with pytest.raises(BadRequestException) as duplicate:
        calls.create_calls_configuration(CallsConfigurationCreateRequest(id="client-app", name="Again"))
    assert duplicate.value.data is not None

    deleted = calls.delete_calls_configuration("client-app")
    assert (deleted.id, deleted.name) == ("client-app", "Renamed")
    with pytest.raises(NotFoundException):
        calls.get_calls_configuration("client-app")
    calls.delete_calls_configuration(str(generated.id))


def test_media_stream_configs_through_infobips_client(calls: CallsApi):
    request = CallsMediaStreamingConfigRequest(
        type=STREAMING,
        name="Client stream",
        url=STREAM_URL,
        securityConfig=BasicSecurityConfig(
            type=SecurityConfigType.BASIC, username="streamer", password="client-secret"
        ),
    )
    created = calls.create_media_stream_config(request)
    assert isinstance(created, CallsMediaStreamingConfigResponse)
    assert (created.type, created.name, created.url) == ("MEDIA_STREAMING", "Client stream", STREAM_URL)
    assert created.id
    assert "client-secret" not in created.to_json()

    got = calls.get_media_stream_config(created.id)
    assert isinstance(got, CallsMediaStreamingConfigResponse) and got.name == "Client stream"

    page = calls.get_media_stream_configs(page=0, size=20)
    assert page.results is not None and created.id in [result.id for result in page.results]
    assert page.paging is not None and page.paging.page == 0

    renamed = CallsMediaStreamingConfigRequest(type=STREAMING, name="Renamed stream", url="wss://127.0.0.1:8443/stream")
    updated = calls.update_media_stream_config(created.id, renamed)
    assert (updated.name, updated.url) == ("Renamed stream", "wss://127.0.0.1:8443/stream")

    with pytest.raises(BadRequestException):
        calls.create_media_stream_config(
            CallsMediaStreamingConfigRequest(type=STREAMING, name="Private", url="ws://10.0.0.1/stream")
        )

    deleted = calls.delete_media_stream_config(created.id)
    assert deleted.id == created.id
    with pytest.raises(NotFoundException):
        calls.get_media_stream_config(created.id)


def test_a_wrong_key_is_refused(stack: Stack):
    with pytest.raises(UnauthorizedException):
        client_for(stack, "sbk_not_a_key").get_calls_configurations()
