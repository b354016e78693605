"""The internal control API of a real media node: signed requests only; the control plane can end a call."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from chalicelib.media_nodes.control import MediaNodeClient, MediaNodeError
from switchboard_rtc import RtcClient
from tests.media.conftest import CONTROL_KEY, token

pytestmark = pytest.mark.asyncio


async def test_status_needs_a_valid_signature(node):
    media_node, url = node
    client = MediaNodeClient(url, CONTROL_KEY)
    status = await asyncio.to_thread(client.status)
    assert (status.nodeId, status.status) == (media_node.settings.node_id, "UP")
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{url}/internal/v1/status")).status_code == 401
    with pytest.raises(MediaNodeError) as refused:
        await asyncio.to_thread(MediaNodeClient(url, b"wrong-key" * 4).status)
    assert refused.value.status == 401


async def test_the_control_plane_ends_a_call_for_both_sides(node, records):
    _, url = node
    alice = await RtcClient.connect(url, token("alice"))
    bob = await RtcClient.connect(url, token("bob"))
    try:
        call = await alice.call_webrtc("bob")
        incoming = await asyncio.wait_for(bob.incoming_calls.get(), 5)
        await incoming.accept()
        await call.established()
        control = MediaNodeClient(url, CONTROL_KEY)
        result = await asyncio.to_thread(control.hangup, incoming.id, "NORMAL_HANGUP")
        assert result.status == "COMPLETED"
        assert await call.ended() == "NORMAL_HANGUP" and await incoming.ended() == "NORMAL_HANGUP"
        assert records.of(call.id)[-1] == "hangup:NORMAL_HANGUP"
        with pytest.raises(MediaNodeError) as unknown:
            await asyncio.to_thread(control.hangup, "no-such-call")
        assert unknown.value.status == 404
    finally:
        await alice.close()
        await bob.close()
