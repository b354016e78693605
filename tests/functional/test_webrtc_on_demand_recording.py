"""On-demand recording of a 1:1 WebRTC call through the Calls API (`POST /calls/1/calls/{id}/start-recording`),
with the HTTP API in-process on moto and a real media node on loopback (tokens minted by `POST /webrtc/1/token`,
call records written by the node through the calls service): refused with a 409 in Infobip's envelope unless some
participant's token allows recording (ALWAYS or ON_DEMAND) and the account has WebRTC recording enabled (and
AUDIO_AND_VIDEO only when its mediaType allows); allowed, the call records (CALL_RECORDING_STARTED)."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from chalicelib.core import clock
from chalicelib.core.settings import key_material
from chalicelib.db.models import OutboxEvent
from chalicelib.media_nodes import service as nodes
from chalicelib.webrtc.service import token_key
from switchboard_media.calls import CallRecords
from switchboard_media.server import Node
from switchboard_media.settings import NodeSettings
from switchboard_rtc import AudioSink, RtcClient, ToneSource
from tests.support.envelope import assert_envelope

pytestmark = pytest.mark.asyncio
JSON = {"Content-Type": "application/json"}


@pytest_asyncio.fixture
async def node(embedded_aws):
    media_node = Node(
        NodeSettings(), token_key(), CallRecords(), control_key=base64.b64decode(key_material("controlKey"))
    )
    server = TestServer(media_node.application(), host="127.0.0.1")
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    media_node.bind(url)
    node_id = media_node.settings.node_id
    nodes.heartbeat(node_id, url, url, status="UP", capacity=100, calls=0, sessions=0, started_at=clock.now())
    yield media_node, url
    nodes.deregister(node_id)
    await media_node.shutdown()
    await server.close()


async def api(client, method: str, path: str, account, body: object = None):
    """The in-process API, off the event loop (the node answers its control requests on this loop)."""
    call = getattr(client, method)
    kwargs: dict[str, object] = {"headers": {**account.headers, **JSON}}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    return await asyncio.to_thread(call, path, **kwargs)


async def established(client, account, url: str, caller_recording: str | None, callee_recording: str | None):
    clients = []
    for identity, recording in (("alice", caller_recording), ("bob", callee_recording)):
        body: dict[str, object] = {"identity": identity}
        if recording is not None:
            body["capabilities"] = {"recording": recording}
        minted = await api(client, "post", "/webrtc/1/token", account, body)
        assert minted.status_code == 200, minted.body
        clients.append(await RtcClient.connect(url, json.loads(minted.body)["token"]))
    alice, bob = clients
    call = await alice.call_webrtc("bob", audio_source=ToneSource(1000))
    incoming = await asyncio.wait_for(bob.incoming_calls.get(), 10)
    await incoming.accept(audio_source=ToneSource(2000), audio_sink=AudioSink())
    await asyncio.wait_for(asyncio.gather(call.media_connected(), incoming.media_connected()), 30)
    return clients, call, incoming


def start_recording(client, account, call_id: str, recording_type: str = "AUDIO"):
    body = {"recording": {"recordingType": recording_type}}
    return api(client, "post", f"/calls/1/calls/{call_id}/start-recording", account, body)


REFUSED = {
    "account disabled": ((False, "AUDIO"), ("ALWAYS", "ON_DEMAND"), "AUDIO", "disabled for this account"),
    "no token allows it": ((True, "AUDIO"), ("DISABLED", None), "AUDIO", "no participant's token allows recording"),
    "video over an AUDIO account": ((True, "AUDIO"), ("ON_DEMAND", None), "AUDIO_AND_VIDEO", "as AUDIO only"),
}


@pytest.mark.parametrize("setting, tokens, recording_type, why", list(REFUSED.values()), ids=list(REFUSED))
async def test_an_on_demand_recording_the_rules_do_not_allow_is_a_409(
    client, account, node, setting, tokens, recording_type, why
):
    media_node, url = node
    enabled, media_type = setting
    settings = {"webrtcRecording": {"enabled": enabled, "mediaType": media_type}}
    assert (await api(client, "put", "/accounts/1/recording-settings", account, settings)).status_code == 200
    clients, call, incoming = await established(client, account, url, *tokens)
    try:
        for leg in (call.id, incoming.id):
            refused = await start_recording(client, account, leg, recording_type)
            assert_envelope(refused, 409, "CONFLICT")
            assert why in json.loads(refused.body)["requestError"]["serviceException"]["text"]
        assert media_node.recordings.active("CALL", call.id) is None
        assert media_node.recordings.active("CALL", incoming.id) is None
    finally:
        for rtc in clients:
            await rtc.close()


async def test_an_on_demand_recording_is_allowed_when_a_token_and_the_account_allow_it(client, account, node):
    media_node, url = node
    settings = {"webrtcRecording": {"enabled": True, "mediaType": "AUDIO"}}
    assert (await api(client, "put", "/accounts/1/recording-settings", account, settings)).status_code == 200
    clients, call, incoming = await established(client, account, url, None, "ON_DEMAND")
    try:
        await media_node.recording_rules.drain()
        assert media_node.recordings.active("CALL", call.id) is None  # ON_DEMAND + UNDEFINED: not on its own
        started = await start_recording(client, account, incoming.id)
        assert started.status_code == 200, started.body
        assert json.loads(started.body) == {"status": "PENDING"}
        assert media_node.recordings.active("CALL", incoming.id) is not None
        again = await start_recording(client, account, call.id)  # the other leg of the same call
        assert_envelope(again, 409, "CONFLICT")
        types = [json.loads(item.body)["type"] for item in OutboxEvent.query(f"{account.account_id}#{incoming.id}")]
        assert "CALL_RECORDING_STARTED" in types
    finally:
        for rtc in clients:
            await rtc.close()
